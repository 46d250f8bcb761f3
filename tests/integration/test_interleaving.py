"""The read models do not depend on how partitions interleave: the live tables equal the pure
fold of the log, and a rebuild (which reads the partitions in another order) gives them back."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg

from bench.workload import mixed_events
from events import encode_json
from projections import Worker
from projections.digest import digest
from projections.rebuild import rebuild
from projections.store import snapshot
from projections.verify import verify
from tests.integration.conftest import committed_end, eventually
from tests.integration.test_lifecycle_api import Client
from tests.integration.test_rebuild import applied_through
from threadlog.settings import Settings


async def test_bans_and_unbans_in_concurrent_batches_fold_alike_live_and_rebuilt(
    settings: Settings, ingest: Client, worker: Worker, db: asyncpg.Connection[Any]
) -> None:
    """The workload the issue saw differ: 4,000 events (comments, replies, edits, deletions,
    flags, votes, decisions, bans, unbans, closes and reopens) over 12 articles and 8 authors,
    posted through ingest in four concurrent streams of batches. The worker's tables equal the
    pure fold of the log, and `threadlog rebuild` switches to tables with the same digest."""
    events = mixed_events(4000, articles=12, authors=8, moderation=True, seed=12)
    assert sum(e.type in ("AuthorBanned", "AuthorUnbanned") for e in events) > 300

    async def stream(part: list[Any]) -> None:
        for start in range(0, len(part), 50):
            response = await ingest.post(
                "/v1/events",
                content=encode_json(part[start : start + 50]),
                headers={"content-type": "application/json"},
            )
            assert response.status_code == 202, response.text

    await asyncio.gather(*(stream(events[i::4]) for i in range(4)))
    end = await committed_end(settings)
    await eventually(lambda: applied_through(db, end), what="the worker to apply the log")
    verdict = await verify(settings.worker(), db, "threads")
    assert verdict.events == len(events)
    assert verdict.differences == []
    banned = await db.fetchval("select count(*) from comments where banned")
    shown_again = await db.fetchval(
        "select count(*) from event_outcomes where event_type = 'AuthorUnbanned'"
    )
    assert banned > 0
    assert shown_again > 0
    live = digest(await snapshot(db))
    conn = await asyncpg.connect(settings.database_url)
    try:
        report = await rebuild(settings.worker(), conn, "threads")
    finally:
        await conn.close()
    assert report.offsets == end
    assert digest(await snapshot(db)) == live
