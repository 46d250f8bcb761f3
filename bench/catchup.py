"""Catch-up benchmark: how fast one worker (or several, `--workers`) applies a backlog it has not seen.

    python -m bench.catchup --events 100000 [--mixed]

Appends the events to a fresh topic (12 partitions) first, then starts `threadlog worker` as its
own process on a fresh schema and times it until every event is applied. Prints the figures with
the conditions they were measured under; asserts nothing.
"""

import argparse
import asyncio
import os
import platform
import subprocess
import sys
import time
from typing import Any

import asyncpg

from bench import children
from bench.ports import refuse_taken
from bench.produce import append
from bench.stack import bench_settings, cpu_seconds, ports_of
from bench.workload import mixed_events
from projections.store import migrate
from threadlog.settings import ENVIRONMENT, Settings
from threadlog.topics import ensure_topics

ARTICLES = 1000


async def _produce(settings: Settings, count: int, mixed: bool, sealed: bool) -> float:
    # The articles are published first and come on top of `count`, so that a run of
    # --events 100000 is 100,000 comment events.
    events = mixed_events(count + ARTICLES, articles=ARTICLES, only_posts=not mixed)
    return await append(settings, events, sealed)


async def _applied(conn: "asyncpg.Connection[Any]", projection: str) -> int:
    value = await conn.fetchval(
        "select coalesce(sum(next_offset), 0) from projection_offsets where projection = $1",
        projection,
    )
    return int(value)


async def run(
    count: int, mixed: bool, batch: int, workers: int = 1, sealed: bool = False
) -> dict[str, float]:
    """Run the benchmark, print its figures and conditions, and return the figures. `sealed`:
    the backlog's personal fields sealed, as ingest writes them, for the worker to open."""
    settings = bench_settings("catchup", worker_max_batch=batch, encrypt_personal_data=sealed)
    refuse_taken(ports_of(settings, ["worker"]))  # before the minutes spent appending
    await ensure_topics(settings)
    conn = await asyncpg.connect(settings.database_url)
    await migrate(conn, settings.pg_schema)
    await conn.execute(f'set search_path to "{settings.pg_schema}"')
    produce_s = await _produce(settings, count, mixed, sealed)
    total_events = count + ARTICLES
    print(
        f"appended {total_events:,} events in {produce_s:.1f} s ({total_events / produce_s:,.0f}/s)"
    )
    env = dict(os.environ, THREADLOG_LOG_FORMAT="json")
    env |= {var: str(getattr(settings, name)) for name, var in ENVIRONMENT.items()}
    started = time.perf_counter()
    # Several workers share the group's 12 partitions, as a deployment scales out.
    processes = [
        children.spawn(
            [sys.executable, "-m", "threadlog", "worker"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(workers)
    ]
    first = None
    try:
        while (done := await _applied(conn, "threads")) < total_events:
            if first is None and done > 0:
                first = time.perf_counter()
            for worker in processes:
                if worker.poll() is not None:
                    sys.exit(f"a worker exited with {worker.returncode} after {done} events")
            await asyncio.sleep(0.2)
        finished = time.perf_counter()
        cpu_s = sum(cpu_seconds(worker.pid) for worker in processes)
    finally:
        children.stop(*processes)
    comments = await conn.fetchval("select count(*) from comments")
    await conn.execute(f'drop schema "{settings.pg_schema}" cascade')
    await conn.execute(f'drop schema if exists "{settings.key_store_schema}" cascade')
    await conn.close()
    total = finished - started
    steady = finished - (first or started)
    kind = "mixed comment events" if mixed else "CommentPosted"
    print(
        f"{workers} worker(s) applied {ARTICLES:,} ArticlePublished + {count:,} {kind} ({comments:,} comments"
        f" stored) in {total:.1f} s from process start: {total_events / total:,.0f} events/s;"
        f" {total_events / steady:,.0f} events/s from the first commit"
    )
    print(f"the worker(s) used {cpu_s:.1f} s of CPU: {cpu_s * 1e6 / total_events:.0f} µs per event")
    print(
        f"conditions: {os.cpu_count()} cores, {platform.python_implementation()}"
        f" {platform.python_version()}, worker batch {batch}, 12 partitions, {ARTICLES} articles;"
        " Kafka, PostgreSQL and the workers on this one machine"
    )
    return {
        "events": total_events,
        "append_per_s": round(total_events / produce_s),
        "seconds_from_start": round(total, 2),
        "events_per_s": round(total_events / total),
        "events_per_s_from_first_commit": round(total_events / steady),
        "worker_cpu_us_per_event": round(cpu_s * 1e6 / total_events, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--mixed", action="store_true", help="posts, replies, flags, retries")
    parser.add_argument("--batch", type=int, default=2000, help="worker max records per batch")
    parser.add_argument("--workers", type=int, default=1, help="worker processes in the group")
    parser.add_argument("--sealed", action="store_true", help="personal fields sealed (#17)")
    args = parser.parse_args()
    children.run(run(args.events, args.mixed, args.batch, args.workers, args.sealed))


if __name__ == "__main__":
    main()
