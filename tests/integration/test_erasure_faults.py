"""The key store down (#17): ingest refuses with 503 and appends nothing; the worker stalls and
retries; nothing is lost, and nothing is erased by accident (unavailable is not destroyed)."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import msgspec
import pytest

from projections import Worker
from subject_keys import KeyStore, migrate_key_store
from tests.integration.conftest import eventually, records_in
from tests.integration.test_lifecycle_api import Client, ev, post, send
from threadlog.settings import Settings


@pytest.fixture
def base_settings(base_settings: Settings) -> Settings:
    """Sealing on whatever THREADLOG_ENCRYPT_PERSONAL_DATA says: these tests are about it."""
    return msgspec.structs.replace(base_settings, encrypt_personal_data=True)


@asynccontextmanager
async def key_store_down(settings: Settings) -> AsyncIterator[None]:
    """The key store's table locked by another transaction: every read of it waits past the
    timeout, as when the key store does not answer."""
    conn = await asyncpg.connect(settings.database_url)
    try:
        await migrate_key_store(conn, settings.key_store_schema)
        transaction = conn.transaction()
        await transaction.start()
        await conn.execute(
            f'lock table "{settings.key_store_schema}".subject_keys in access exclusive mode'
        )
        try:
            yield
        finally:
            await transaction.rollback()
    finally:
        await conn.close()


async def test_key_store_down_at_ingest_answers_503_and_appends_nothing(
    settings: Settings, ingest: Client, query: Client, worker: Worker
) -> None:
    """A post whose author's key cannot be read is refused whole with the shared error shape
    (503, `key_store_unavailable`, Retry-After), nothing is appended; once the key store is
    back the same request is accepted."""
    await send(ingest, query, [ev("ArticlePublished", 0, article_id="art", title="T")])
    before = await records_in(settings)
    event = post("c1", 1, author="zed", body="zed's words")
    async with key_store_down(settings):
        response = await ingest.post("/v1/events", json=event)
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "key_store_unavailable"
    assert response.headers["retry-after"] == "1"
    assert await records_in(settings) == before
    decided = await send(ingest, query, [event])
    assert decided[event["id"]]["status"] == "applied"


async def test_key_store_down_during_catch_up_stalls_the_worker_and_erases_nothing(
    settings: Settings, ingest: Client, query: Client, db: "asyncpg.Connection[Any]"
) -> None:
    """Records sealed while the key store was up, read by a worker while it is down: the
    worker applies nothing (no tombstone, no placeholder), and once the key store answers it
    applies every event with its text."""
    events = [
        ev("ArticlePublished", 0, article_id="art", title="T"),
        post("c1", 1, author="nina", body="nina's words"),
        post("c2", 2, author="omar", body="omar's words", parent="c1"),
    ]
    assert (await ingest.post("/v1/events", json=events)).status_code == 202
    async with key_store_down(settings):
        worker = Worker(msgspec.structs.replace(settings.worker(), poll_timeout_ms=100))
        await worker.start()
        task = asyncio.create_task(worker.run())
        try:
            await asyncio.sleep(4)
            assert await db.fetchval("select count(*) from comments") == 0
            assert worker.applied_total == 0
        except BaseException:
            worker.request_stop()
            raise
    try:

        async def applied() -> bool:
            return bool(await db.fetchval("select count(*) from comments") == 2)

        await eventually(applied, what="the worker to apply once the key store is back")
        rows = await db.fetch("select comment_id, body, status, erased from comments")
        assert sorted(tuple(r) for r in rows) == [
            ("c1", "nina's words", "visible", False),
            ("c2", "omar's words", "visible", False),
        ]
        assert worker.dead_lettered_total == 0
    finally:
        worker.request_stop()
        await asyncio.wait_for(task, 15)
        await worker.stop()


async def test_the_worker_loads_a_batchs_keys_in_one_query(
    settings: Settings, ingest: Client, db: "asyncpg.Connection[Any]"
) -> None:
    """200 comments by 50 authors, read in a few polls: the worker asks the key store once per
    poll (and not at all for what its cache holds), not once per record or author."""
    events = [ev("ArticlePublished", 0, article_id="art", title="T")]
    events += [post(f"c{i}", 1, author=f"a{i % 50}", body=f"words {i}") for i in range(200)]
    assert (await ingest.post("/v1/events", json=events)).status_code == 202
    worker = Worker(msgspec.structs.replace(settings.worker(), poll_timeout_ms=100))
    await worker.start()
    task = asyncio.create_task(worker.run())
    try:

        async def applied() -> bool:
            return bool(await db.fetchval("select count(*) from comments") == 200)

        await eventually(applied, what="the worker to apply the 200 comments")
        assert worker.keys is not None
        assert 1 <= worker.keys.queries <= 3
        assert await db.fetchval("select count(*) from comments where body like 'words %'") == 200
    finally:
        worker.request_stop()
        await asyncio.wait_for(task, 15)
        await worker.stop()


async def test_concurrent_requests_share_one_key_store_round_trip(settings: Settings) -> None:
    """50 requests at once, each for a new author: ingest's key store fetches (and creates)
    their keys together, not in 50 round trips; each request gets its own author's key, and
    the same author asked twice gets the same key."""
    async with KeyStore(settings.key_store()) as keys:
        await keys.sealing_keys(["warm"])  # the pool and the table
        before = keys.queries
        rings = await asyncio.gather(*(keys.sealing_keys([f"a{i}", "shared"]) for i in range(50)))
        assert keys.queries - before <= 2
        assert len({ring[f"a{i}"].kid for i, ring in enumerate(rings)}) == 50
        assert len({ring["shared"].kid for ring in rings}) == 1
