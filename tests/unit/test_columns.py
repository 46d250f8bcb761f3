"""One column specification per threads table: the rows, the DDL, the writes and both snapshots
(Postgres and the fold in memory) agree with it."""

import dataclasses
import re
from datetime import UTC, datetime
from importlib.resources import files

from events import ArticlePublished, CommentFlagged, CommentPosted, Envelope, Event
from projections.threads import columns
from projections.threads.fold import ReadModels
from projections.threads.state import ArticleState, Ban, CommentState, Edit, Flag, Outcome

AT = datetime(2026, 1, 1, tzinfo=UTC)
ROWS = {
    "articles": ArticleState,
    "comments": CommentState,
    "flags": Flag,
    "bans": Ban,
    "comment_edits": Edit,
    "event_outcomes": Outcome,
}


def _ddl_columns() -> dict[str, set[str]]:
    ddl = files("projections.threads").joinpath("schema.sql").read_text()
    found: dict[str, set[str]] = {}
    for table, body in re.findall(r"create table if not exists (\w+) \((.*?)\n\);", ddl, re.S):
        found[table] = {
            m.group(1)
            for line in body.splitlines()
            if (m := re.match(r"\s+(\w+)\s+\w", line)) and m.group(1) != "primary"
        }
    for table, name in re.findall(r"alter table (\w+) add column if not exists (\w+)", ddl):
        found[table].add(name)
    return found


def test_every_table_is_specified_once() -> None:
    """The specification covers each threads table exactly once, in the registry's order."""
    assert [t.name for t in columns.TABLES] == [
        "articles",
        "comments",
        "flags",
        "votes",
        "comment_edits",
        "bans",
        "erased_authors",
        "event_outcomes",
    ]


def test_a_row_class_and_its_stored_columns_name_the_same_fields() -> None:
    """A field added to a row (state.py) without its column, or the reverse, fails here by name:
    rows are loaded and written by column name."""
    for table in columns.TABLES:
        row = ROWS.get(table.name)
        if row is not None:
            assert set(table.stored) == {f.name for f in dataclasses.fields(row)}, table.name


def test_schema_sql_creates_every_specified_column() -> None:
    """The DDL and the specification list the same columns for each table."""
    ddl = _ddl_columns()
    for table in columns.TABLES:
        assert ddl[table.name] == set(table.written), table.name


def test_the_snapshot_query_is_derived_from_the_specification() -> None:
    """Postgres's snapshot selects the columns in the specification's snapshot order."""
    comments = columns.TABLE["comments"]
    assert comments.snapshot_sql == f"select {', '.join(comments.snapshot)} from comments"
    assert "version" not in columns.TABLE["articles"].snapshot


def test_written_values_follow_the_columns_by_name() -> None:
    """A row's values come out in the order of its table's columns, whatever the field order."""
    flag = Flag("a", "c", "u", "spam", None, AT)
    assert columns.TABLE["flags"].values(flag) == tuple(
        getattr(flag, name) for name in columns.TABLE["flags"].written
    )


def test_the_fold_snapshot_tuples_follow_the_specification() -> None:
    """Each tuple of the in-memory snapshot holds, at each column's place, that column's value."""
    events: list[Event] = [
        ArticlePublished(article_id="a", title="T"),
        CommentPosted(article_id="a", comment_id="c", author_id="u", body="hi"),
        CommentFlagged(article_id="a", comment_id="c", flagger_id="f", reason="spam"),
    ]
    models = ReadModels()
    models.fold(
        Envelope(id=f"e{n}", type=type(e).__name__, source="/t", time=AT, data=e)
        for n, e in enumerate(events)
    )
    snapshot = models.snapshot()
    comment = models.state.comments[("a", "c")]
    [row] = snapshot["comments"]
    named = dict(zip(columns.TABLE["comments"].snapshot, row, strict=True))
    assert named["status"] == comment.status
    assert named["flag_count"] == 1
    assert named["pinned"] is False
    assert named["body"] == "hi"
    [article] = snapshot["articles"]
    named = dict(zip(columns.TABLE["articles"].snapshot, article, strict=True))
    assert named["comment_count"] == 1
    assert named["title"] == "T"
