"""Import benchmark: comments/s from an export file to the log, and the importer's peak RSS.

    python -m bench.import_pipeline --comments 100000 [--per-article 100] [--dry-run]

Writes a generated file of SourceItems (tests/import_items.py: the pipeline without any real
format's parser, so the figure is the pipeline's own: spill, plan, validation, append), then
runs `threadlog import` on it in this process against a fresh topic and schema, and times it
from the first line read to the last batch acknowledged. Comments are in a random file order
(replies before their parents), a fifth of them replies, with 400-character bodies. Prints the
figures with their conditions, and the importer's CPU time (its own and its planning
workers'): on a shared machine the wall clock says more about the neighbours. Asserts nothing. Drops its topic and schema at the end.
"""

import argparse
import asyncio
import io
import json
import os
import random
import resource
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory

import asyncpg
from aiokafka.admin import AIOKafkaAdminClient

from bench.conditions import conditions
from bench.stack import bench_settings, drop_schemas
from eventlog.connection import client_args, start_client
from importers.source import SourceArticle, SourceComment, SourceItem
from projections.store import migrate
from tests import import_items
from threadlog.import_run import ImportOptions, run_import
from threadlog.settings import Settings
from threadlog.topics import ensure_topics

T0 = datetime(2012, 1, 1, tzinfo=UTC)


def items(comments: int, per_article: int, seed: int = 16) -> Iterator[SourceItem]:
    """Articles of `per_article` comments each, every article's comments shuffled."""
    rng = random.Random(seed)
    body = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 7
    for a in range(comments // per_article):
        key = f"thread-{a}"
        yield SourceArticle(key=key, title=f"Thread {a}", url=f"https://old.example/{a}")
        thread = [
            SourceComment(
                article_key=key,
                id=str(a * per_article + n),
                parent_id=str(a * per_article + rng.randrange(n)) if n and n % 5 == 0 else None,
                author_key=f"user{rng.randrange(5_000)}",
                author_name="Some One",
                body=body[:400],
                posted_at=T0 + timedelta(minutes=a * per_article + n),
            )
            for n in range(per_article)
        ]
        rng.shuffle(thread)
        yield from thread


def _cpu_s() -> float:
    """CPU seconds of this process and of its children that ended (the planning workers)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


async def _prepare(settings: Settings) -> None:
    await ensure_topics(settings)
    conn = await asyncpg.connect(settings.database_url)
    try:
        await migrate(conn, settings.pg_schema)
    finally:
        await conn.close()


async def _drop(settings: Settings) -> None:
    # The key store's schema too: an import seals under keys it made there.
    await drop_schemas(settings)
    admin = AIOKafkaAdminClient(**client_args(settings.kafka()))
    await start_client(admin, settings.kafka())
    try:
        await admin.delete_topics([settings.topic, settings.dlq_topic])
    finally:
        await admin.close()


async def run(
    comments: int, per_article: int, dry_run: bool, workers: int = 0
) -> dict[str, object]:
    """Run the benchmark, print and return its figures and conditions."""
    settings = bench_settings("import")
    with TemporaryDirectory(prefix="threadlog-bench-import-") as folder:
        path = Path(folder) / "export.jsonl"
        import_items.write(path, items(comments, per_article))
        size_mb = path.stat().st_size / 2**20
        await _prepare(settings)
        try:
            rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            started, cpu_started = time.perf_counter(), _cpu_s()
            report = await run_import(
                settings,
                ImportOptions(format="disqus", path=path, dry_run=dry_run, workers=workers),
                readers=import_items.READERS,
                progress=io.StringIO(),
            )
            elapsed = time.perf_counter() - started
            cpu = _cpu_s() - cpu_started
            peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        finally:
            await _drop(settings)
    figures: dict[str, object] = {
        "comments": report.comments_read,
        "file_mb": round(size_mb, 1),
        "seconds": round(elapsed, 2),
        "comments_per_s": round(report.comments_read / elapsed),
        "importer_cpu_s": round(cpu, 2),
        "comments_per_importer_cpu_s": round(report.comments_read / cpu),
        "events_appended": report.events_appended,
        "peak_rss_mb": round(peak_mb, 1),
        "rss_before_mb": round(rss_before, 1),
        "worker_peak_rss_mb": round(
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1
        ),
        "dry_run": dry_run,
        "workers": workers,
        "failed": report.failed,
        "conditions": await conditions(settings),
    }
    print(json.dumps(figures, indent=2))
    return figures


def main() -> None:
    """Entry point: `python -m bench.import_pipeline`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=100_000)
    parser.add_argument("--per-article", type=int, default=100)
    parser.add_argument("--dry-run", action="store_true", help="plan and validate, append nothing")
    parser.add_argument(
        "--workers", type=int, default=0, help="planning processes besides the command"
    )
    args = parser.parse_args()
    asyncio.run(run(args.comments, args.per_article, args.dry_run, args.workers))


if __name__ == "__main__":
    main()
