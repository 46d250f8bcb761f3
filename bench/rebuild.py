"""Rebuild benchmark: a blue/green rebuild of a log of N events, with a reader during the switch.

    python -m bench.rebuild --events 1000000

Appends the events to a fresh topic (12 partitions), lets `threadlog worker` apply them (the live
copy), starts `threadlog query`, then runs the rebuild in this process while a client in a process
of its own reads a thread in a loop (as readers do: apart from `threadlog rebuild`; in this
process, its HTTP client took half of the rebuild's event loop). Prints the rebuild rate, its
phases (load, then indexed and analyzed, then the switch), the failed reads, how long the
switch held its locks, and the load average, with the conditions; asserts nothing.
"""

import argparse
import asyncio
import multiprocessing
import os
import platform
import socket
import subprocess
import sys
import time
from multiprocessing.sharedctypes import Synchronized
from typing import Any

import asyncpg
import httpx

from bench import children
from bench.produce import append
from bench.stack import bench_settings
from bench.workload import mixed_events
from projections.bulk_load import LOAD_BATCH
from projections.rebuild import Progress, rebuild
from projections.store import migrate
from threadlog.settings import ENVIRONMENT, Settings
from threadlog.topics import ensure_topics

ARTICLES = 1000


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(env: dict[str, str], command: str) -> "subprocess.Popen[bytes]":
    return children.spawn(
        [sys.executable, "-m", "threadlog", command],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _read_in_a_loop(
    url: str, stop: Any, reads: "Synchronized[int]", failed: "Synchronized[int]"
) -> None:
    """Read a thread's first page in a loop until `stop` is set, counting reads and failures."""

    async def loop() -> None:
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            while not stop.is_set():
                try:
                    answer = await client.get("/v1/articles/art-0/thread?limit=50")
                    ok = answer.status_code == 200
                except httpx.HTTPError:
                    ok = False
                with reads.get_lock():
                    reads.value += 1
                if not ok:
                    with failed.get_lock():
                        failed.value += 1

    asyncio.run(loop())


async def _applied(conn: "asyncpg.Connection[Any]") -> int:
    value = await conn.fetchval("select coalesce(sum(next_offset), 0) from projection_offsets")
    return int(value)


async def run(count: int, mixed: bool) -> dict[str, float]:
    """Run the benchmark, print its figures and conditions, and return the figures."""
    settings: Settings = bench_settings("rebuild", worker_metrics_port=0, query_port=_port())
    await ensure_topics(settings)
    conn = await asyncpg.connect(settings.database_url)
    await migrate(conn, settings.pg_schema)
    await conn.execute(f'set search_path to "{settings.pg_schema}"')
    produce_s = 0.0
    chunk = 200_000
    for start in range(0, count, chunk):
        # Chunks keep memory flat; each chunk is a deterministic log of its own articles.
        events = mixed_events(
            min(chunk, count - start), articles=ARTICLES, seed=start, only_posts=not mixed
        )
        produce_s += await append(settings, events)
    print(f"appended {count:,} events in {produce_s:.1f} s", flush=True)
    env = dict(os.environ, THREADLOG_LOG_FORMAT="json")
    env |= {var: str(getattr(settings, name)) for name, var in ENVIRONMENT.items()}
    worker = _start(env, "worker")
    query = _start(env, "query")
    client = httpx.AsyncClient(base_url=settings.query_url, timeout=10)
    spawn = multiprocessing.get_context("spawn")
    stop, reads, failed = spawn.Event(), spawn.Value("q", 0), spawn.Value("q", 0)
    reader = spawn.Process(
        target=_read_in_a_loop, args=(settings.query_url, stop, reads, failed), daemon=True
    )
    try:
        started = time.perf_counter()
        while await _applied(conn) < count:  # noqa: ASYNC110  polling Postgres, no event to await
            await asyncio.sleep(1)
        live_s = time.perf_counter() - started
        print(f"live worker applied {count:,} in {live_s:.0f} s", flush=True)
        while True:
            try:
                if (await client.get("/readyz")).status_code == 200:
                    break
            except httpx.HTTPError:
                await asyncio.sleep(0.2)
        reader.start()
        load_before = os.getloadavg()
        build = await asyncpg.connect(settings.database_url)
        last = [0.0]

        def progress(p: Progress) -> None:
            if time.monotonic() - last[0] > 10:
                last[0] = time.monotonic()
                print(f"  {p.done:,}/{p.total:,} {p.per_second:,.0f}/s", flush=True)

        report = await rebuild(settings.worker(), build, "threads", on_progress=progress)
        load_after = os.getloadavg()
        await asyncio.sleep(1)
        stop.set()
        reader.join(15)
        await build.close()
    finally:
        stop.set()
        if reader.is_alive():
            reader.terminate()
        children.stop(worker, query)
        await client.aclose()
    await conn.execute(f'drop schema "{settings.pg_schema}" cascade')
    await conn.close()
    rate = report.offsets / report.build_s
    finished = report.finished
    print(
        f"rebuilt {report.offsets:,} events in {report.build_s:.1f} s: {rate:,.0f} events/s;"
        f" reads during the rebuild and switch: {reads.value:,}, failed: {failed.value};"
        f" the switch held readers {report.readers_locked_ms:.1f} ms and paused the worker"
        f" {report.worker_paused_ms:.1f} ms ({report.attempts} attempt(s))"
    )
    print(
        f"finishing the loaded copy before the switch: the readers' indexes"
        f" {finished.indexes_s:.1f} s, analyze {finished.analyze_s:.1f} s;"
        f" load average {load_before[0]:.1f} at the start, {load_after[0]:.1f} at the end"
    )
    print(
        f"conditions: {os.cpu_count()} cores, {platform.python_implementation()}"
        f" {platform.python_version()}, batches of {settings.worker_max_batch:,} (live worker) and"
        f" {LOAD_BATCH:,} (rebuild), 12 partitions,"
        f" {'mixed events' if mixed else 'CommentPosted'} over {ARTICLES} articles per chunk;"
        " Kafka, PostgreSQL, the live worker, the query service and the rebuild on one machine"
    )
    return {
        "events": report.offsets,
        "events_per_s": round(rate),
        "reads": reads.value,
        "failed_reads": failed.value,
        "readers_locked_ms": round(report.readers_locked_ms, 1),
        "worker_paused_ms": round(report.worker_paused_ms, 1),
        "indexes_s": round(finished.indexes_s, 1),
        "analyze_s": round(finished.analyze_s, 1),
        "load_average": round(load_after[0], 1),
    }


def main() -> None:
    """Entry point: `python -m bench.rebuild --events N [--mixed]`."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--mixed", action="store_true", help="posts, replies, flags, retries")
    args = parser.parse_args()
    children.run(run(args.events, args.mixed))


if __name__ == "__main__":
    main()
