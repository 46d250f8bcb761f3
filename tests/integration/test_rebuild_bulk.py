"""A rebuild's bulk load on the real servers: the copy's shape while it loads, the shape it
switches in, and a rebuild stopped between its phases and run again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer

from bench.workload import mixed_events
from projections import Worker
from projections.bulk_load import loader_settings, reader_index_statements
from projections.digest import digest
from projections.rebuild import build_schema, prepare_build, rebuild
from projections.registry import BOOKKEEPING, TABLES, VERSIONS
from projections.store import migrate, snapshot
from tests.integration.conftest import eventually, produce
from tests.integration.test_rebuild import applied_through
from threadlog.settings import Settings

SWAPPED = [*TABLES["threads"], *BOOKKEEPING]
"""The tables a rebuild builds and swaps in."""

Structure = dict[str, list[tuple[Any, ...]]]


async def structure(conn: asyncpg.Connection[Any], schema: str) -> Structure:
    """The swapped tables of `schema` as migrate would have to make them: columns, constraints,
    indexes, persistence and storage options, with the schema's name left out."""

    def unqualified(text: str) -> str:
        return text.replace(f'"{schema}".', "").replace(f"{schema}.", "")

    columns = await conn.fetch(
        "select table_name, column_name, ordinal_position, data_type, is_nullable,"
        " column_default from information_schema.columns"
        " where table_schema = $1 and table_name = any($2::text[]) order by 1, 3",
        schema,
        SWAPPED,
    )
    relations = await conn.fetch(
        "with t as (select c.oid, c.relname from pg_class c join pg_namespace n"
        " on n.oid = c.relnamespace where n.nspname = $1 and c.relname = any($2::text[]))"
        " select t.relname, c.relname, c.relkind::text, c.relpersistence::text,"
        " c.reloptions, ''"
        " from t join pg_class c on c.oid = t.oid"
        " union all select t.relname, c.relname, c.relkind::text, c.relpersistence::text,"
        " c.reloptions, pg_get_indexdef(c.oid) from t join pg_index i on i.indrelid = t.oid"
        " join pg_class c on c.oid = i.indexrelid order by 1, 2",
        schema,
        SWAPPED,
    )
    constraints = await conn.fetch(
        "select t.relname, k.conname, k.contype::text, pg_get_constraintdef(k.oid)"
        " from pg_constraint k join pg_class t on t.oid = k.conrelid"
        " join pg_namespace n on n.oid = t.relnamespace"
        " where n.nspname = $1 and t.relname = any($2::text[]) order by 1, 2",
        schema,
        SWAPPED,
    )
    return {
        "columns": [tuple(r) for r in columns],
        "relations": [(*r[:5], unqualified(r[5])) for r in relations],
        "constraints": [tuple(r) for r in constraints],
    }


async def applied_log(
    settings: Settings, producer: AIOKafkaProducer, db: asyncpg.Connection[Any], count: int
) -> str:
    """Produce `count` mixed events (bans and their sweeps included), wait until the live
    worker applied them, and return the live tables' digest."""
    events = mixed_events(count, articles=count // 150, moderation=True)
    await produce(producer, settings.topic, events)
    await eventually(lambda: applied_through(db, count), what="the log applied")
    return digest(await snapshot(db))


@pytest.fixture
async def reference(settings: Settings) -> AsyncIterator[Structure]:
    """The structure `migrate` gives a fresh schema: what every live copy must have."""
    schema = f"{settings.pg_schema}_reference"
    conn = await asyncpg.connect(settings.database_url)
    try:
        await migrate(conn, schema)
        yield await structure(conn, schema)
    finally:
        await conn.execute(f'drop schema if exists "{schema}" cascade')
        await conn.close()


@pytest.fixture
async def admin(settings: Settings) -> AsyncIterator[asyncpg.Connection[Any]]:
    """A connection of the rebuild's own; drops what a stopped build left behind."""
    conn = await asyncpg.connect(settings.database_url)
    try:
        yield conn
    finally:
        await conn.execute(
            f'drop schema if exists "{build_schema(settings.pg_schema, "threads")}" cascade'
        )
        await conn.close()


async def test_a_new_copy_loads_without_the_readers_indexes(
    settings: Settings, admin: asyncpg.Connection[Any], reference: Structure
) -> None:
    """A rebuild's new copy, before its first batch, has every table, column and constraint of
    a migrated schema, but the indexes only readers use are absent; the indexes the worker's
    loads read through are there."""
    copy, resumed = await prepare_build(admin, settings.pg_schema, "threads", VERSIONS["threads"])
    assert not resumed
    loading = await structure(admin, copy)
    assert loading["columns"] == reference["columns"]
    assert loading["constraints"] == reference["constraints"]
    readers = {name for name, _ in reader_index_statements("threads")}
    indexes = {r[1] for r in reference["relations"] if r[2] == "i"}
    assert {r[1] for r in loading["relations"] if r[2] == "i"} == indexes - readers
    assert {"comments_replies_in_order", "comments_by_author", "bans_by_author"} <= indexes


async def test_a_rebuild_switches_in_tables_identical_to_what_migrate_creates(
    settings: Settings,
    worker: Worker,
    producer: AIOKafkaProducer,
    db: asyncpg.Connection[Any],
    admin: asyncpg.Connection[Any],
    reference: Structure,
) -> None:
    """After a bulk-loaded rebuild (bans and their sweeps included) the live tables have every
    index, column, constraint, option and persistence `migrate` creates, and hold the rows the
    live worker had written (the same digest)."""
    before = await applied_log(settings, producer, db, 4000)

    report = await rebuild(settings.worker(), admin, "threads", load_batch=500)

    assert not report.resumed
    assert await structure(admin, settings.pg_schema) == reference
    assert digest(await snapshot(db)) == before


@pytest.mark.parametrize("stopped", ["after the load", "midway through the indexes"])
async def test_a_rebuild_stopped_between_its_phases_resumes_and_finishes(
    settings: Settings,
    worker: Worker,
    producer: AIOKafkaProducer,
    db: asyncpg.Connection[Any],
    admin: asyncpg.Connection[Any],
    reference: Structure,
    stopped: str,
) -> None:
    """A rebuild killed once its copy was loaded, or once some of the readers' indexes were
    built (each CREATE INDEX commits alone, so a kill leaves a prefix of them), run again
    resumes that copy and switches in complete tables with the live copy's digest."""
    before = await applied_log(settings, producer, db, 3000)
    copy, _ = await prepare_build(admin, settings.pg_schema, "threads", VERSIONS["threads"])
    loader = Worker(loader_settings(settings.worker(), copy, "threads", 500))
    await loader.start()
    try:
        for _ in range(100):
            if await applied_through_copy(admin, copy, 3000):
                break
            await loader.step()
        else:
            pytest.fail("the loader did not load the log")
    finally:
        await loader.stop()
    if stopped == "midway through the indexes":
        for _, statement in reader_index_statements("threads")[:2]:
            await admin.execute(f'set search_path to "{copy}"; {statement}; reset search_path')

    report = await rebuild(settings.worker(), admin, "threads")

    assert report.resumed
    assert await structure(admin, settings.pg_schema) == reference
    assert digest(await snapshot(db)) == before


async def applied_through_copy(db: asyncpg.Connection[Any], copy: str, count: int) -> bool:
    """Whether the copy's offsets add up to `count` records."""
    total = await db.fetchval(
        f'select coalesce(sum(next_offset), 0) from "{copy}".projection_offsets'
    )
    return int(total) >= count
