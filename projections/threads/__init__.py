"""The threads read model: articles, comment trees with moderation state, votes, flags, bans,
edits and event outcomes, in one home.

`state` holds its rows, `rules` (with `comment_rules` and `lookups`) decides each event, `fold`
is the reference fold in memory, `columns` specifies each table once, `write` is the worker's
Postgres shell, `queries` the read side the query service uses, `schema.sql` its DDL.
"""
