"""Where a worker batch's time goes: each PostgreSQL statement timed, the rest is Python.

    python -m bench.apply_profile [--events 200000] [--batch 2000]

Appends the catch-up's workload (bench/catchup.py: mixed comment events over 1,000 articles) to a
fresh topic, then applies it with a worker in this process, poll by poll (`Worker.step`, no
reading ahead, so the two halves do not overlap), timing every statement the worker awaits
(asyncpg's execute, fetch, fetchval and COPY) by its first words. Prints the wall time per event,
the share spent waiting on PostgreSQL, and the statements that cost the most. Asserts nothing.
"""

import argparse
import asyncio
import os
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import msgspec

from bench.catchup import ARTICLES
from bench.produce import append
from bench.stack import bench_settings
from bench.workload import mixed_events
from projections.worker import Worker
from threadlog.log_end import caught_up_total
from threadlog.topics import ensure_topics

Timed = Callable[..., Awaitable[Any]]


class Statements:
    """Seconds awaited and calls per statement, keyed by the statement's first words."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.calls: Counter[str] = Counter()

    def timing(self, method: str, call: Timed) -> Timed:
        async def timed(conn: Any, *args: Any, **kwargs: Any) -> Any:
            query = args[0] if args and isinstance(args[0], str) else ""
            key = f"{method} {' '.join(query.split())[:70]}"
            started = time.perf_counter()
            try:
                return await call(conn, *args, **kwargs)
            finally:
                self.seconds[key] = self.seconds.get(key, 0.0) + time.perf_counter() - started
                self.calls[key] += 1

        return timed


async def run(events: int, batch: int) -> dict[str, Any]:
    """Apply `events` and return the profile: per-event wall and PostgreSQL time, top statements."""
    settings = bench_settings("profile", worker_max_batch=batch)
    await ensure_topics(settings)
    await append(settings, mixed_events(events + ARTICLES, articles=ARTICLES))
    end = await caught_up_total(
        settings.kafka_bootstrap_servers, settings.topic, settings.topic_partitions
    )
    statements = Statements()
    methods = ("execute", "fetch", "fetchval", "copy_records_to_table")
    originals = {name: getattr(asyncpg.Connection, name) for name in methods}
    for name, call in originals.items():
        setattr(asyncpg.Connection, name, statements.timing(name, call))
    try:
        worker_settings = msgspec.structs.replace(settings.worker(), standalone=True)
        async with Worker(worker_settings) as worker:
            started = time.perf_counter()
            read = 0
            while read < end:
                before = worker.stats.batches_total
                await worker.step()
                if worker.stats.batches_total == before:
                    continue
                read = sum(
                    await asyncio.gather(
                        *(worker.consumer.position(tp) for tp in worker.consumer.assignment())
                    )
                )
            wall = time.perf_counter() - started
    finally:
        for name, call in originals.items():
            setattr(asyncpg.Connection, name, call)
        conn = await asyncpg.connect(settings.database_url)
        await conn.execute(f'drop schema if exists "{settings.pg_schema}" cascade')
        await conn.close()
    # Statements before the first poll (migrate) are not the batches' cost.
    batches = {k: v for k, v in statements.seconds.items() if "-- " not in k}
    waited = sum(batches.values())
    per_event = 1e6 / end
    statement_rows = [
        {
            "statement": key,
            "us_per_event": round(seconds * per_event, 1),
            "calls": statements.calls[key],
        }
        for key, seconds in sorted(batches.items(), key=lambda kv: -kv[1])[:12]
    ]
    profile: dict[str, Any] = {
        "records": end,
        "batch": batch,
        "seconds": round(wall, 2),
        "records_per_s": round(end / wall),
        "wall_us_per_event": round(wall * per_event, 1),
        "postgres_us_per_event": round(waited * per_event, 1),
        "python_us_per_event": round((wall - waited) * per_event, 1),
        "statements": statement_rows,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "cores": os.cpu_count(),
    }
    print(
        f"{end:,} records in {wall:.1f} s ({end / wall:,.0f}/s), batches of {batch}:"
        f" {profile['wall_us_per_event']} µs per event, of which PostgreSQL"
        f" {profile['postgres_us_per_event']} µs ({100 * waited / wall:.0f}%)"
        f" and Python {profile['python_us_per_event']} µs"
    )
    for row in statement_rows:
        print(f"  {row['us_per_event']:6.1f} µs/event  {row['calls']:5d} calls  {row['statement']}")
    return profile


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=2000)
    args = parser.parse_args()
    asyncio.run(run(args.events, args.batch))


if __name__ == "__main__":
    main()
