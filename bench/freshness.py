"""Freshness: how long from ingest's 202 until the query service serves the comment."""

import asyncio
import multiprocessing
import statistics
import time
from typing import Any

import asyncpg
import httpx
import msgspec

from bench.poster import RawPoster, post_at_rate
from bench.stack import Stack

_ENCODE = msgspec.json.Encoder().encode


async def freshness(
    stack: Stack, rate: int, seconds: int, article: str = "fresh", *, own_process: bool = True
) -> dict[str, Any]:
    """Post at a steady `rate`; one watcher reads the thread (newest first, 50 a page, the next
    page only while a page is all new) every 5 ms, in a process of its own, and notes when each
    comment is first served. One poller, whatever the rate, so that the measuring does not load
    the query service more than the readers would. Measuring twice on one stack
    takes a second `article`: the comment ids are numbered from 0 each time."""
    base_i, base_q = stack.settings.ingest_url, stack.settings.query_url
    acknowledged: dict[str, float] = {}
    stamp = time.time_ns()
    cids = [f"{article}-{n}" for n in range(rate * seconds)]
    event_ids = {cid: f"{cid}-{stamp}" for cid in cids}
    bodies = [
        _ENCODE(
            {
                "id": event_ids[cid],
                "type": "CommentPosted",
                "data": {
                    "article_id": article,
                    "comment_id": cid,
                    "author_id": "f",
                    "body": "fresh",
                },
            }
        )
        for cid in cids
    ]
    async with httpx.AsyncClient(timeout=10) as client:
        await client.post(
            f"{base_i}/v1/events",
            json={"type": "ArticlePublished", "data": {"article_id": article, "title": "Fresh"}},
            headers={"Authorization": f"Bearer {stack.key}"},
        )
        # The watcher reads from a process of its own: in this one, a thousand posts a second
        # kept its reads waiting on the event loop, and the wait counted as staleness. The soak
        # runs a window every 10 s, and they overlap when the system lags: a process each piled
        # up (27 at once, load average 21), so there it reads in this process.
        url, expected = f"{base_q}/v1/articles/{article}/thread", rate * seconds
        context = multiprocessing.get_context("spawn")
        stop, results = context.Event(), context.Queue()
        watcher = None
        if own_process:
            watcher = context.Process(
                target=_watch_process, args=(url, expected, stop, results), daemon=True
            )
            watcher.start()
        inline = None if own_process else asyncio.create_task(_watch(url, expected, stop))
        poster = RawPoster(f"{base_i}/v1/events", stack.key, connections=100)
        try:
            await post_at_rate(
                poster, bodies, rate, lambda n, at: acknowledged.__setitem__(cids[n], at)
            )
        finally:
            await poster.close()
        try:
            if inline is not None:
                served = await asyncio.wait_for(inline, 90)
            else:
                served = await asyncio.to_thread(results.get, True, 90)
        finally:
            stop.set()
            if watcher is not None:
                watcher.join(10)
                if watcher.is_alive():
                    watcher.kill()
    delays = [(served[c] - at) * 1000 for c, at in acknowledged.items()]
    q = statistics.quantiles(delays, n=100)
    applied = await _applied_at(stack, list(event_ids.values()))
    to_applied = [(applied[event_ids[c]] - at) * 1000 for c, at in acknowledged.items()]
    to_served = [(served[c] - applied[event_ids[c]]) * 1000 for c in acknowledged]
    return {
        "rate_per_s": rate,
        "posts": len(delays),
        "p50_ms": round(q[49], 2),
        "p99_ms": round(q[98], 2),
        "max_ms": round(max(delays), 2),
        "watcher_interval_ms": 5,
        # Where the time goes. `applied_events.applied_at` is stamped early in the worker's
        # batch transaction: before it, ingest, Kafka and the wait for the batch; after it,
        # the rest of the batch, its commit, the query's wake-up and the watcher's next read.
        # 202 to applied is negative when the worker applied a post before its 202 came back.
        "to_applied_p50_ms": round(statistics.median(to_applied), 2),
        "to_applied_p99_ms": round(statistics.quantiles(to_applied, n=100)[98], 2),
        "applied_to_served_p50_ms": round(statistics.median(to_served), 2),
        "applied_to_served_p99_ms": round(statistics.quantiles(to_served, n=100)[98], 2),
    }


def _watch_process(url: str, expected: int, stop: Any, results: Any) -> None:
    """The watcher's process: read until `expected` comments were served, then hand back when
    each was first seen (Unix time)."""
    results.put(asyncio.run(_watch(url, expected, stop)))


async def _watch(url: str, expected: int, stop: Any) -> dict[str, float]:
    served: dict[str, float] = {}
    async with httpx.AsyncClient(timeout=10) as client:
        while len(served) < expected and not stop.is_set():
            # Newest first, page by page, until a page brings nothing new: a slow poll under
            # load then still sees every comment, only later.
            cursor = None
            while True:
                params: dict[str, Any] = {"sort": "newest", "limit": 50, "replies": 0}
                if cursor:
                    params["cursor"] = cursor
                page = await client.get(url, params=params)
                now = time.time()
                if page.status_code != 200:
                    break
                body = page.json()
                new = [c["comment_id"] for c in body["comments"] if c["comment_id"] not in served]
                for comment_id in new:
                    served[comment_id] = now
                cursor = body["next_cursor"]
                if not new or cursor is None:
                    break
            await asyncio.sleep(0.005)
    return served


async def _applied_at(stack: Stack, event_ids: list[str]) -> dict[str, float]:
    """When the worker applied each event (Unix time, PostgreSQL's clock on this machine)."""
    conn = await asyncpg.connect(stack.settings.database_url)
    try:
        rows = await conn.fetch(
            "select event_id, extract(epoch from applied_at)::float8 as at"
            f' from "{stack.settings.pg_schema}".applied_events where event_id = any($1::text[])',
            event_ids,
        )
    finally:
        await conn.close()
    return {row["event_id"]: row["at"] for row in rows}
