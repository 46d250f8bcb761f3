"""First-page latency of a big thread against a small one, measured the same way.

    python -m bench.thread_read [--big 10000] [--small 100] [--requests 300]

Loads one thread of `--big` comments and one of `--small` (about a third top-level, the rest
replies to earlier comments of the same thread, fixed seed) through Kafka and the worker into a
fresh schema, starts `threadlog query` as its own process, and times sequential first-page
requests (default parameters: 50 top-level comments, 5 replies per level, 3 levels) over HTTP.
Prints p50/p90/p99 and the query plans of the two statements a first page runs. Asserts nothing.
"""

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx

from bench import children
from bench.ports import refuse_taken
from bench.produce import append
from bench.stack import bench_settings, ports_of, threadlog_env
from bench.workload import as_envelopes
from events import ArticlePublished, CommentPosted, Envelope, Event
from projections.store import migrate
from projections.threads.queries import INLINE_REPLIES, TOP_LEVEL
from threadlog.topics import ensure_topics


def thread_events(article_id: str, comments: int, seed: int) -> list[Envelope]:
    """An article and `comments` comments, a third top-level, the rest replies."""
    rng = random.Random(seed)
    start = datetime(2025, 3, 1, tzinfo=UTC)
    datas: list[Event] = [ArticlePublished(article_id=article_id, title=f"Story {article_id}")]
    ids: list[str] = []
    for n in range(comments):
        parent = rng.choice(ids) if ids and rng.random() < 0.66 else None
        comment_id = f"c{n}"
        datas.append(
            CommentPosted(
                article_id=article_id,
                comment_id=comment_id,
                author_id=f"user-{rng.randrange(2000)}",
                author_name="Reader",
                body="A considered opinion about the story, at some length. " * rng.randint(1, 6),
                parent_id=parent,
            )
        )
        ids.append(comment_id)
    return as_envelopes(datas, article_id, start)


def _count(comments: list[Any]) -> int:
    return sum(1 + _count(c["replies"]) for c in comments)


async def _time(url: str, requests: int) -> tuple[list[float], int, int]:
    async with httpx.AsyncClient(timeout=10) as client:
        for _ in range(20):
            (await client.get(url)).raise_for_status()
        samples = []
        size = served = 0
        for _ in range(requests):
            started = time.perf_counter()
            response = await client.get(url)
            samples.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
            size = len(response.content)
        served = _count(response.json()["comments"])
    return samples, size, served


def _quantile(samples: list[float], q: float) -> float:
    return statistics.quantiles(samples, n=100)[int(q) - 1]


async def run(big: int, small: int, requests: int) -> None:
    settings = bench_settings("read")
    refuse_taken(ports_of(settings, ["worker", "query"]))
    await ensure_topics(settings)
    conn = await asyncpg.connect(settings.database_url)
    await migrate(conn, settings.pg_schema)
    await conn.execute(f'set search_path to "{settings.pg_schema}"')
    events = thread_events("big", big, 1) + thread_events("small", small, 2)
    await append(settings, events)
    env = threadlog_env(settings)
    worker, query = [
        children.spawn(
            [sys.executable, "-m", "threadlog", role], env=env, stderr=subprocess.DEVNULL
        )
        for role in ("worker", "query")
    ]
    try:
        while True:
            if await conn.fetchval("select count(*) from applied_events") >= len(events):
                break
            await asyncio.sleep(0.2)
        await conn.execute("analyze")
        base = f"http://127.0.0.1:{settings.query_port}"
        async with httpx.AsyncClient() as client:
            for _ in range(100):
                try:
                    if (await client.get(f"{base}/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        print(
            "first page (limit 50, 5 replies per level, 3 levels),"
            f" {requests} sequential requests after 20 warm-up:"
        )
        for article, size in (("big", big), ("small", small)):
            samples, body, served = await _time(f"{base}/v1/articles/{article}/thread", requests)
            print(
                f"  {size:>6,}-comment thread: p50 {_quantile(samples, 50):.2f} ms,"
                f" p90 {_quantile(samples, 90):.2f} ms, p99 {_quantile(samples, 99):.2f} ms,"
                f" mean {statistics.fmean(samples):.2f} ms; {served} comments, {body:,} bytes"
            )
        roots = [
            r["comment_id"]
            for r in await conn.fetch(TOP_LEVEL[("oldest", "first")], "big", 51)
            if r["reply_count"]
        ]
        for name, sql, args in (
            ("top-level page", TOP_LEVEL[("oldest", "first")], ["big", 51]),
            ("inlined replies", INLINE_REPLIES, ["big", roots, 5, 3]),
        ):
            plan = await conn.fetch(f"explain (analyze, buffers, costs off) {sql}", *args)
            print(f"plan of the {name} ({big:,}-comment thread):")
            for row in plan:
                print("   ", row[0])
    finally:
        children.stop(worker, query)
        await conn.execute(f'drop schema "{settings.pg_schema}" cascade')
        await conn.close()
    print(
        f"conditions: {os.cpu_count()} cores; Kafka, PostgreSQL, worker, query service and this"
        " client on one machine; loopback HTTP/1.1 keep-alive, one request at a time"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--big", type=int, default=10_000)
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    children.run(run(args.big, args.small, args.requests))


if __name__ == "__main__":
    main()
