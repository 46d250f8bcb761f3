"""How a rebuild's bulk load reads schema.sql and configures its worker (pure)."""

import re
from importlib.resources import files

import pytest

from projections.bulk_load import (
    READER_INDEXES,
    index_statements,
    loader_settings,
    reader_index_statements,
)
from projections.worker import WorkerSettings

SCHEMA = files("projections.threads").joinpath("schema.sql").read_text()


def test_the_readers_indexes_are_the_last_section_of_schema_sql_and_only_indexes() -> None:
    """schema.sql marks its readers' indexes once, after every table, and what follows the mark
    is what a rebuild builds after its load: the query service's indexes, none of the tables."""
    assert SCHEMA.count(READER_INDEXES) == 1
    before = SCHEMA.partition(READER_INDEXES)[0]
    names = [name for name, _ in reader_index_statements("threads")]
    assert names == [
        "comments_top_level",
        "comments_top_level_by_score",
        "comments_top_level_pinned",
        "comments_replies",
        "comments_by_id",
        "comments_to_moderate",
    ]
    # The indexes the worker's loads read through stay where a loading copy has them.
    kept = re.findall(r"create index if not exists (\w+)", before)
    assert kept == ["comments_replies_in_order", "comments_by_author", "bans_by_author"]


def test_a_table_among_the_readers_indexes_is_refused() -> None:
    """A table created after the mark would be missing from a loading copy: the split refuses
    it, naming the statement, rather than leave it out."""
    ddl = f"create table a (x int);\n{READER_INDEXES}---\ncreate table b (y int);\n"
    with pytest.raises(ValueError, match="create table b"):
        index_statements(ddl)
    with pytest.raises(ValueError, match="has no line"):
        index_statements("create table a (x int);")


def test_the_loader_commits_asynchronously_in_large_batches_on_the_copy() -> None:
    """The loading worker reads standalone into the copy's schema, LOAD_BATCH-sized batches,
    with synchronous_commit off added to the connection's settings (others kept)."""
    settings = WorkerSettings(
        kafka="k:9092",
        topic="t",
        dlq_topic="t.dlq",
        database_url="postgresql://u@h:5432/db?application_name=x",
        pg_schema="live",
    )
    loader = loader_settings(settings, "live_threads_build", "threads", 20_000)
    assert loader.pg_schema == "live_threads_build"
    assert loader.standalone
    assert loader.max_batch == 20_000
    assert loader.database_url == (
        "postgresql://u@h:5432/db?application_name=x&synchronous_commit=off"
    )
