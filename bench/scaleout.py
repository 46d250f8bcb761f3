"""Scale-out on one box: 1, 2 and 3 workers in one group on one backlog; 1 and 2 query processes.

    python -m bench.scaleout [--events 1000000] [--workers 1 2 3] [--queries 1 2]

Workers: the catch-up's mixed backlog (bench/limits.py `workload`, as bench/catchup.py builds
it) is appended once to one topic of 12 partitions; each worker count then applies all of it
into a fresh schema under a fresh consumer group, its `threadlog worker` processes started as
bench/catchup.py starts them. Queries: the big thread of the read scenarios (10,000 comments,
bench/thread_read.py) is loaded, then its first page is read at concurrency 32 with wrk against
`threadlog query` run with THREADLOG_QUERY_WORKERS of 1, then 2. Every process is stopped on any
exit. On a machine of two cores little gain is to be expected: the figures say how much there
is. Asserts nothing.
"""

import argparse
import asyncio
import json
import os
import signal
import sys
import time
from collections.abc import Sequence
from typing import Any

import asyncpg
import msgspec

from bench import children, wrk
from bench.conditions import OWN_PORTS, conditions
from bench.limits import workload
from bench.ports import refuse_taken
from bench.produce import append
from bench.stack import Stack, analyze, bench_settings, ports_of, wait_applied
from bench.thread_read import thread_events
from projections.store import migrate
from threadlog.settings import ENVIRONMENT, Settings
from threadlog.topics import ensure_topics

BIG = 10_000
TIMEOUT_S = 3600


async def _start_workers(settings: Settings, count: int) -> list[asyncio.subprocess.Process]:
    env = dict(os.environ, THREADLOG_LOG_FORMAT="json", THREADLOG_LOG_LEVEL="warning")
    env |= {var: str(getattr(settings, name)) for name, var in ENVIRONMENT.items()}
    # Only the first binds the metrics port; the others apply unobserved (threadlog/cli.py).
    return [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "threadlog",
            "worker",
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        for _ in range(count)
    ]


async def _stop(processes: Sequence[asyncio.subprocess.Process]) -> None:
    """SIGTERM, then SIGKILL whatever has not exited 15 s later."""
    for process in processes:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            await asyncio.wait_for(process.wait(), 15)
        except TimeoutError:
            process.kill()
            await process.wait()


async def _applied(conn: "asyncpg.Connection[Any]", settings: Settings) -> int:
    value = await conn.fetchval(
        f'select coalesce(sum(next_offset), 0) from "{settings.pg_schema}".projection_offsets'
        " where topic = $1",
        settings.topic,
    )
    return int(value)


async def catch_up(settings: Settings, workers: int, total: int) -> dict[str, Any]:
    """`workers` processes in a fresh group apply the topic's `total` records into a fresh
    schema; events/s from their start and from the first commit."""
    conn = await asyncpg.connect(settings.database_url)
    processes: list[asyncio.subprocess.Process] = []
    try:
        await migrate(conn, settings.pg_schema)
        started = time.perf_counter()
        processes = await _start_workers(settings, workers)
        first = None
        while (done := await _applied(conn, settings)) < total:
            now = time.perf_counter()
            if first is None and done > 0:
                first = now
            if now - started > TIMEOUT_S:
                raise SystemExit(f"{workers} worker(s) applied {done} of {total} in {TIMEOUT_S} s")
            for process in processes:
                if process.returncode is not None:
                    raise SystemExit(f"a worker exited with {process.returncode} after {done}")
            await asyncio.sleep(0.2)
        finished = time.perf_counter()
    finally:
        await _stop(processes)
        await conn.execute(f'drop schema if exists "{settings.pg_schema}" cascade')
        await conn.close()
    return {
        "workers": workers,
        "seconds_from_start": round(finished - started, 2),
        "events_per_s": round(total / (finished - started)),
        "events_per_s_from_first_commit": round(total / (finished - (first or started))),
    }


def _variant(settings: Settings, suffix: str, **overrides: object) -> Settings:
    """The settings with a schema and a consumer group of their own."""
    return msgspec.structs.replace(
        settings,
        pg_schema=f"{settings.pg_schema}_{suffix}",
        consumer_group=f"{settings.consumer_group}-{suffix}",
        **overrides,
    )


async def reads(
    settings: Settings, processes: Sequence[int], seconds: float, repeats: int
) -> list[dict[str, Any]]:
    """The big thread's first page at concurrency 32, `repeats` wrk runs per query process
    count; every run listed, the one with the highest rate quoted."""
    loader = Stack(settings)
    await loader.prepare()
    out = []
    try:
        loader.start("worker")
        data = thread_events("big", BIG, 1)
        await append(settings, data)
        await wait_applied(settings, len(data))
        loader.stop()
        await analyze(settings)
        for count in processes:
            stack = Stack(msgspec.structs.replace(settings, query_workers=count))
            try:
                stack.start("query")
                runs = [
                    wrk.get(settings.query_url, ["/v1/articles/big/thread"], 32, seconds).as_dict()
                    for _ in range(repeats)
                ]
            finally:
                stack.stop()
            best = max(runs, key=lambda r: r["rate_per_s"])
            out.append(
                {
                    "query_processes": count,
                    "quoted": f"the best of {repeats} runs by rate",
                    "rate_per_s": best["rate_per_s"],
                    "p99_ms": best["p99_ms"],
                    "runs": [{"rate_per_s": r["rate_per_s"], "p99_ms": r["p99_ms"]} for r in runs],
                }
            )
    finally:
        loader.stop()
        await loader.drop()
    return out


async def run(
    events: int = 1_000_000,
    workers: Sequence[int] = (1, 2, 3),
    queries: Sequence[int] = (1, 2),
    seconds: float = 10.0,
    repeats: int = 2,
    batch: int = 2000,
) -> dict[str, Any]:
    """Both parts on fresh topics and schemas; the figures with their conditions."""
    settings = bench_settings(
        "scaleout",
        **OWN_PORTS,
        worker_max_batch=batch,
    )
    refuse_taken(ports_of(settings, ("worker", "ingest", "query")))
    result: dict[str, Any] = {"conditions": await conditions(settings)}
    log = workload(events)
    await ensure_topics(settings)
    append_s = await append(settings, log)
    result["workers"] = {
        "setup": f"{len(log):,} mixed events (the catch-up's workload) appended once to one"
        f" topic of {settings.topic_partitions} partitions; per worker count a fresh schema and"
        f" consumer group; worker batch {batch}",
        "append_per_s": round(len(log) / append_s),
        "runs": [
            await catch_up(_variant(settings, f"w{n}"), n, len(log))
            for n in workers
            # A partition is read by one worker of a group: more than 12 would idle.
            if 0 < n <= settings.topic_partitions
        ],
    }
    read_settings = _variant(settings, "reads", topic=f"{settings.topic}.reads")
    result["queries"] = {
        "setup": f"first page of a {BIG:,}-comment thread (default page) at concurrency 32,"
        f" wrk for {seconds:g} s per run, {repeats} runs per process count; one worker loaded"
        " it and stopped; ANALYZE before reading",
        "runs": await reads(read_settings, queries, seconds, repeats),
    }
    result["conditions"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    return result


def main() -> None:
    """Parse the arguments, run, print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000, help="comment events")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--queries", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--seconds", type=float, default=10.0, help="per wrk run")
    parser.add_argument("--repeats", type=int, default=2, help="wrk runs per query count")
    args = parser.parse_args()
    work = run(args.events, args.workers, args.queries, args.seconds, args.repeats)
    try:
        print(json.dumps(children.run(work), indent=2))
    except asyncio.CancelledError:
        sys.exit("scale-out stopped by SIGTERM; its processes are stopped and its schemas dropped")


if __name__ == "__main__":
    main()
