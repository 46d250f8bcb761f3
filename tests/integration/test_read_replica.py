"""Reads from a streaming replica (`DATABASE_READ_URL`) still read your own writes.

The module starts its own primary and hot standby (tests/replica_cluster.py); the worker writes
to the primary, the query service reads rows and positions from the standby.
"""

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import asyncpg
import httpx
import pytest

from projections import Worker
from projections.store import migrate
from services.auth import migrate as migrate_keys
from tests.integration.test_lifecycle_api import Client, ev, post, send
from tests.replica_cluster import ReplicaPair, replica_pair
from tests.servers import isolated
from threadlog.settings import Settings
from threadlog.topics import ensure_topics

AFTER_WAIT_S = 1.5


@pytest.fixture(scope="module")
def pair() -> Iterator[ReplicaPair]:
    """One primary and its standby for the whole module (starting them takes seconds)."""
    with replica_pair() as made:
        yield made


@pytest.fixture
async def settings(base_settings: Settings, pair: ReplicaPair) -> Settings:
    """The test's topic and schema, written on the pair's primary, read on its standby (the
    pair, and the schema with it, is deleted with the module)."""
    settings = isolated(
        base_settings,
        database_url=pair.primary_url,
        database_read_url=pair.standby_url,
        after_max_wait_s=AFTER_WAIT_S,
    )
    await ensure_topics(settings)
    conn = await asyncpg.connect(settings.database_url)
    try:
        await migrate(conn, settings.pg_schema)
        await migrate_keys(conn, settings.pg_schema)
    finally:
        await conn.close()
    return settings


async def _replay(pair: ReplicaPair, action: str) -> None:
    conn = await asyncpg.connect(pair.standby_admin_url)
    try:
        await conn.execute(f"select pg_wal_replay_{action}()")
    finally:
        await conn.close()


async def _thread_ids(client: httpx.AsyncClient | Client, **params: str) -> list[str]:
    answer = await client.get("/v1/articles/art/thread", params=params)
    assert answer.status_code == 200, answer.text
    return [c["comment_id"] for c in answer.json()["comments"]]


async def test_a_read_after_a_position_on_the_replica_shows_the_post(
    ingest: Client, query: Client, query_server: httpx.AsyncClient, worker: Worker
) -> None:
    """With DATABASE_READ_URL on a standby, a read with `after=` the position ingest just
    acknowledged already shows the post, on every endpoint given the token."""
    await send(ingest, query, [ev("ArticlePublished", 0, article_id="art", title="T")])
    for n in range(3):
        answer = await ingest.post("/v1/events", json=post(f"c{n}", n + 1))
        assert answer.status_code == 202, answer.text
        token = answer.json()["accepted"][0]["position"]
        assert await _thread_ids(query_server, after=token) == [f"c{i}" for i in range(n + 1)]
        counts = await query_server.get("/v1/counts", params={"article_id": "art", "after": token})
        assert counts.json()["counts"] == {"art": n + 1}, counts.text


async def test_a_read_after_waits_for_paused_replay_and_answers_once_it_resumes(
    pair: ReplicaPair,
    settings: Settings,
    ingest: Client,
    query: Client,
    query_server: httpx.AsyncClient,
    worker: Worker,
) -> None:
    """With replay paused on the standby, the primary applies a post but a read after its
    position waits and answers 503 `not_yet_applied`; a read without `after=` still serves the
    standby's (older) page, and neither the cache nor the standby passes it off as current; once
    replay resumes, a waiting read answers at once with the post."""
    await send(ingest, query, [ev("ArticlePublished", 0, article_id="art", title="T")])
    await send(ingest, query, [post("c0", 1)])
    assert await _thread_ids(query_server) == ["c0"]  # cached at the standby's view
    await _replay(pair, "pause")
    try:
        answer = await ingest.post("/v1/events", json=post("c1", 2))
        token = answer.json()["accepted"][0]["position"]
        primary = await asyncpg.connect(
            settings.database_url, server_settings={"search_path": settings.pg_schema}
        )
        try:
            for _ in range(300):
                if await primary.fetchval("select count(*) from comments") == 2:
                    break
                await asyncio.sleep(0.05)
            else:
                pytest.fail("the worker did not apply c1 on the primary")
        finally:
            await primary.close()

        late = await query_server.get("/v1/articles/art/thread", params={"after": token})
        assert late.status_code == 503, late.text
        assert late.json()["error"]["code"] == "not_yet_applied"
        assert late.headers["retry-after"] == "1"
        assert await _thread_ids(query_server) == ["c0"], "without after=: the standby's view"

        waiting = asyncio.create_task(
            query_server.get("/v1/articles/art/thread", params={"after": token})
        )
        await asyncio.sleep(0.3)
        assert not waiting.done()
    finally:
        resumed = time.monotonic()
        await _replay(pair, "resume")
    answered: Any = await waiting
    waited = time.monotonic() - resumed
    assert answered.status_code == 200, answered.text
    assert [c["comment_id"] for c in answered.json()["comments"]] == ["c0", "c1"]
    assert waited < 1.0, f"answered {waited:.2f} s after replay resumed"
