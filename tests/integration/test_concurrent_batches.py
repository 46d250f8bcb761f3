"""Batches of several workers never overwrite each other's rows, on the real PostgreSQL.

A ban's batch (keyed by author, so on another partition, maybe in another worker) changes
comments and counts that the article's own batch may be changing at the same moment. Each batch
loads rows, folds and writes them back whole, so two such batches must not run at once.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from events import (
    ArticlePublished,
    AuthorBanned,
    CommentPosted,
    CommentVoted,
    Envelope,
    Event,
)
from projections.policy import Policy
from projections.registry import build_projections
from projections.store import Positioned, apply_batch, snapshot
from projections.threads.fold import ReadModels
from threadlog.settings import Settings

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _event(event_id: str, minute: int, data: Event) -> Envelope:
    at = T0 + timedelta(minutes=minute)
    return Envelope(
        id=event_id, type=type(data).__name__, source="/t", time=at, data=data, recordedtime=at
    )


async def _connect(settings: Settings) -> asyncpg.Connection[Any]:
    return await asyncpg.connect(
        settings.database_url, server_settings={"search_path": settings.pg_schema}
    )


async def _apply(
    conn: asyncpg.Connection[Any], partition: int, events: list[Envelope], topic: str = "t"
) -> int:
    """Apply `events` as the first records of `topic`'s `partition`, as a worker would."""
    records = [Positioned(topic, partition, i, e) for i, e in enumerate(events)]
    return await apply_batch(
        conn,
        list(build_projections(Policy()).values()),
        records,
        {(topic, partition): len(events)},
    )


async def test_a_ban_and_its_authors_thread_applied_at_once_both_count(
    settings: Settings, db: asyncpg.Connection[Any]
) -> None:
    """While one worker's transaction holds a ban's batch (not yet committed), another worker's
    batch on the banned author's thread waits for it, then folds on top of it: the result is the
    pure fold of both, whichever order, with no row written from a stale read."""
    thread = [
        _event("pub", 0, ArticlePublished(article_id="a1", title="T")),
        _event("c1", 10, CommentPosted(article_id="a1", comment_id="c1", author_id="u1", body="x")),
    ]
    ban = _event("ban", 5, AuthorBanned(author_id="u1", moderator_id="mod"))
    vote = _event(
        "vote", 11, CommentVoted(article_id="a1", comment_id="c1", voter_id="v", vote="up")
    )
    # Earlier history, from another topic: neither racing batch finds an offset row to lock
    # yet, as when several workers start on fresh tables (a new schema, a rebuild).
    await _apply(db, 0, thread, topic="earlier")
    holder, other = await _connect(settings), await _connect(settings)
    try:
        held = holder.transaction()
        await held.start()
        await _apply(holder, 1, [ban])  # applied, not committed: the first worker is mid-batch
        racing = asyncio.create_task(_apply(other, 0, [vote]))
        await asyncio.sleep(1.0)  # room for the second batch to read and write, if it may
        await held.commit()
        await asyncio.wait_for(racing, 10)
    finally:
        await holder.close()
        await other.close()
    reference = ReadModels()
    reference.fold([*thread, ban, vote])
    assert await snapshot(db) == reference.snapshot()
    assert reference.state.comments[("a1", "c1")].status == "rejected"
