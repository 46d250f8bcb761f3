"""One column specification per threads table: loads, writes and both snapshots derive from it.

Each table lists its columns once, in the order of its snapshot tuples (which `digest` hashes,
so the order is part of the digest), each with its PostgreSQL type and its kind:

- `stored`: a field of the row's class in `state` (loaded and written by name);
- `served`: a property of the row, derived from stored fields, written for readers, never loaded;
- `count`: kept by the write side as deltas from what it loaded (`write.Loaded`);
- `bookkeeping`: written, but no part of the model's contents (not in the snapshot).
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from operator import attrgetter
from typing import Literal

from projections.sql_rows import Columns

Kind = Literal["stored", "served", "count", "bookkeeping"]


@dataclass(frozen=True)
class Table:
    """A threads table: its name, its key and its columns as (name, type, kind), in order."""

    name: str
    key: tuple[str, ...]
    columns: tuple[tuple[str, str, Kind], ...]

    def _of(self, *kinds: Kind) -> Columns:
        return {name: sql_type for name, sql_type, kind in self.columns if kind in kinds}

    @cached_property
    def stored(self) -> Columns:
        """The fields of the row's class: what a load reads back into it."""
        return self._of("stored")

    @cached_property
    def written(self) -> Columns:
        """Every column the write side writes, in the order of `values`."""
        return self._of("stored", "served", "count", "bookkeeping")

    @cached_property
    def snapshot(self) -> tuple[str, ...]:
        """The columns of a snapshot tuple, in order."""
        return tuple(self._of("stored", "served", "count"))

    @property
    def snapshot_sql(self) -> str:
        """The statement that reads the table's snapshot from Postgres."""
        return f"select {', '.join(self.snapshot)} from {self.name}"

    @property
    def upsert(self) -> str:
        """`on conflict (key) do update` every other written column."""
        updates = ", ".join(f"{c} = excluded.{c}" for c in self.written if c not in self.key)
        return f"on conflict ({', '.join(self.key)}) do update set {updates}"

    def values(self, row: object, **extra: object) -> tuple[object, ...]:
        """A row's written values, by column name: `extra` first, else the row's attribute."""
        return self._builder(tuple(self.written), tuple(extra))(row, extra)

    def snapshot_values(self, row: object, **extra: object) -> tuple[object, ...]:
        """A row's snapshot tuple, by column name: `extra` first, else the row's attribute."""
        return self._builder(self.snapshot, tuple(extra))(row, extra)

    def _builder(
        self, columns: tuple[str, ...], extra: tuple[str, ...]
    ) -> Callable[[object, dict[str, object]], tuple[object, ...]]:
        """A function building `columns` from a row and `extra`, made once per call shape: the
        worker builds a row per changed comment and event, and reading the columns by name one
        at a time cost more than the rest of the fold (#15)."""
        shape = (columns, extra)
        build = _BUILDERS.get(shape)
        if build is None:
            build = _BUILDERS[shape] = _build(columns, frozenset(extra))
        return build


_BUILDERS: dict[
    tuple[tuple[str, ...], tuple[str, ...]],
    Callable[[object, dict[str, object]], tuple[object, ...]],
] = {}


def _build(
    columns: tuple[str, ...], extra: frozenset[str]
) -> Callable[[object, dict[str, object]], tuple[object, ...]]:
    attributes = [c for c in columns if c not in extra]
    # Where each `extra` value goes among the attributes, in ascending order of position.
    inserts = [(i, c) for i, c in enumerate(columns) if c in extra]
    read = attrgetter(*attributes) if attributes else None

    def build(row: object, values: dict[str, object]) -> tuple[object, ...]:
        if read is None:
            got: list[object] = []
        elif len(attributes) == 1:
            got = [read(row)]
        else:
            got = list(read(row))
        for position, name in inserts:
            got.insert(position, values[name])
        return tuple(got)

    return build


ARTICLES = Table(
    "articles",
    ("article_id",),
    (
        ("article_id", "text", "stored"),
        ("title", "text", "stored"),
        ("url", "text", "stored"),
        ("author", "text", "stored"),
        ("published_at", "timestamptz", "stored"),
        ("premoderated", "boolean", "stored"),
        ("closed", "boolean", "stored"),
        ("closed_reason", "text", "stored"),
        ("comment_count", "integer", "count"),
        # The id of the transaction that last changed the thread: query processes cache by it.
        ("version", "bigint", "bookkeeping"),
    ),
)
COMMENTS = Table(
    "comments",
    ("article_id", "comment_id"),
    (
        ("article_id", "text", "stored"),
        ("comment_id", "text", "stored"),
        ("parent_id", "text", "stored"),
        ("author_id", "text", "stored"),
        ("author_name", "text", "stored"),
        ("body", "text", "stored"),
        ("posted_at", "timestamptz", "stored"),
        ("event_id", "text", "stored"),
        ("accepted_at", "timestamptz", "stored"),
        ("own_status", "text", "stored"),
        ("own_holds", "text[]", "stored"),
        ("post_rejection", "text", "stored"),
        ("banned", "boolean", "stored"),
        # What readers see, from the comment's own state and its ban overlay (`CommentState`).
        ("status", "text", "served"),
        ("hold_reasons", "text[]", "served"),
        ("featured", "boolean", "stored"),
        ("approved", "boolean", "stored"),
        ("edited_at", "timestamptz", "stored"),
        ("edit_count", "integer", "stored"),
        ("deleted_at", "timestamptz", "stored"),
        ("reply_count", "integer", "count"),
        ("flag_count", "integer", "count"),
        ("score", "integer", "count"),
        ("pinned", "boolean", "stored"),
        ("imported_from", "text", "stored"),
        ("imported_score", "integer", "stored"),
        ("erased", "boolean", "stored"),
    ),
)
FLAGS = Table(
    "flags",
    ("article_id", "comment_id", "flagger_id"),
    (
        ("article_id", "text", "stored"),
        ("comment_id", "text", "stored"),
        ("flagger_id", "text", "stored"),
        ("reason", "text", "stored"),
        ("note", "text", "stored"),
        ("flagged_at", "timestamptz", "stored"),
    ),
)
VOTES = Table(
    "votes",
    ("article_id", "comment_id", "voter_id"),
    (
        ("article_id", "text", "stored"),
        ("comment_id", "text", "stored"),
        ("voter_id", "text", "stored"),
        ("vote", "smallint", "stored"),
    ),
)
COMMENT_EDITS = Table(
    "comment_edits",
    ("article_id", "comment_id", "version"),
    (
        ("article_id", "text", "stored"),
        ("comment_id", "text", "stored"),
        ("version", "integer", "stored"),
        ("body", "text", "stored"),
        ("replaced_at", "timestamptz", "stored"),
        ("editor_id", "text", "stored"),
    ),
)
BANS = Table(
    "bans",
    ("author_id", "banned_at"),
    (
        ("author_id", "text", "stored"),
        ("banned_at", "timestamptz", "stored"),
        ("until", "timestamptz", "stored"),
        ("lifted_at", "timestamptz", "stored"),
        ("reason", "text", "stored"),
        ("moderator_id", "text", "stored"),
    ),
)
ERASED_AUTHORS = Table(
    "erased_authors",
    ("author_id",),
    (
        ("author_id", "text", "stored"),
        ("erased_at", "timestamptz", "stored"),
    ),
)
EVENT_OUTCOMES = Table(
    "event_outcomes",
    ("event_id",),
    (
        ("event_id", "text", "stored"),
        ("event_type", "text", "stored"),
        ("outcome", "text", "stored"),
        ("reason", "text", "stored"),
        ("at", "timestamptz", "stored"),
    ),
)

TABLES = (ARTICLES, COMMENTS, FLAGS, VOTES, COMMENT_EDITS, BANS, ERASED_AUTHORS, EVENT_OUTCOMES)
"""Every table of the threads model, in the order a rebuild builds and swaps them."""
TABLE = {table.name: table for table in TABLES}
