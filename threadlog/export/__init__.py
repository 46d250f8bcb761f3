"""`threadlog export`: the log as CloudEvents JSON Lines, and one person's data as one document.

- `log_order`: the log read partition by partition up to the ends taken at the start.
- `log_export`: the whole log, one article's or one person's events, as lines in the format of
  importers/threadlog_format.py.
- `roles`: which fields of an event name a person.
- `personal_document`, `personal_fold`, `personal_read_model`: `--author ID --personal`, its
  shape (published as schemas/personal-export.v1.json), the pure fold of the log that builds it,
  and what the read model adds.
- `command`: the `export` subcommand.
"""
