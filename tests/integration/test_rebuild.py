"""Blue/green rebuilds on the real servers: under a stream, during reads, and killed midway."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaProducer

from bench.workload import mixed_events
from events import ArticlePublished, CommentPosted, Envelope
from projections import Worker
from projections.digest import digest
from projections.rebuild import build_schema, rebuild
from projections.store import snapshot
from projections.threads.fold import ReadModels
from tests.integration.conftest import eventually, produce
from threadlog.settings import ENVIRONMENT, Settings

LIVE = "art-live"

REBUILD_IN_SMALL_BATCHES = """
import asyncio, sys
import asyncpg
from projections.rebuild import rebuild
from threadlog.settings import from_env

async def main() -> None:
    settings = from_env()
    conn = await asyncpg.connect(settings.database_url)
    await rebuild(settings.worker(), conn, "threads", load_batch=int(sys.argv[1]))

asyncio.run(main())
"""
"""A rebuild as its own process, as `threadlog rebuild` runs, loading argv[1] records a batch."""


def environment(settings: Settings, **extra: str) -> dict[str, str]:
    """The process environment that points a `threadlog` subprocess at the test's servers."""
    env = dict(os.environ)
    for name, var in ENVIRONMENT.items():
        env[var] = str(getattr(settings, name))
    return env | extra


def start(settings: Settings, *args: str, **extra: str) -> subprocess.Popen[bytes]:
    """`threadlog ARGS` as its own process on the test's servers, its output discarded."""
    return python(settings, "-m", "threadlog", *args, **extra)


def python(settings: Settings, *args: str, **extra: str) -> subprocess.Popen[bytes]:
    """`python ARGS` as its own process on the test's servers, its output discarded."""
    return subprocess.Popen(
        [sys.executable, *args],
        env=environment(settings, **extra),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def applied_through(db: asyncpg.Connection[Any], count: int) -> bool:
    """Whether the live copy's offsets add up to `count` records."""
    total = await db.fetchval(
        "select coalesce(sum(next_offset), 0) from projection_offsets where projection = 'threads'"
    )
    return int(total) >= count


def post(n: int) -> Envelope:
    """The n-th comment of the streamed thread."""
    return Envelope(
        id=f"live-{n}",
        type="CommentPosted",
        source="/test",
        time=datetime(2025, 6, 1, tzinfo=UTC) + timedelta(seconds=n),
        data=CommentPosted(
            article_id=LIVE, comment_id=f"c{n}", author_id=f"a{n % 7}", body=f"comment {n}"
        ),
    )


async def test_a_rebuild_under_a_stream_switches_without_a_failed_or_missing_read(
    settings: Settings,
    worker: Worker,
    producer: AIOKafkaProducer,
    db: asyncpg.Connection[Any],
) -> None:
    """While events keep coming and a client reads a thread in a loop, a rebuild builds a copy,
    switches to it and drops the old one: every read succeeds, no comment once served goes
    missing, and the rows end equal to the pure fold of the whole log (the live projection's)."""
    backlog = mixed_events(3000, articles=20)
    article = Envelope(
        id="live-article",
        type="ArticlePublished",
        source="/test",
        time=datetime(2025, 6, 1, tzinfo=UTC),
        data=ArticlePublished(article_id=LIVE, title="Live"),
    )
    await produce(producer, settings.topic, [*backlog, article, post(0)])
    await eventually(lambda: applied_through(db, len(backlog) + 2), what="the backlog applied")

    streamed = [post(0)]
    stop = asyncio.Event()
    failures: list[str] = []
    reads = 0

    async def stream() -> None:
        while not stop.is_set():
            batch = [post(len(streamed) + i) for i in range(5)]
            streamed.extend(batch)
            await produce(producer, settings.topic, batch)
            await asyncio.sleep(0.02)

    # The query service runs as its own process, as in production: a read that waits on the
    # switch's lock must not stop this event loop, where the worker and the rebuild run.
    port = free_port()
    server = start(settings, "query", THREADLOG_QUERY_PORT=str(port))
    query = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10)

    async def served() -> bool:
        try:
            return (await query.get(f"/v1/articles/{LIVE}/thread")).status_code == 200
        except httpx.TransportError:
            return False

    try:
        await eventually(served, what="the query service to serve the thread")
    except BaseException:
        server.kill()
        raise

    async def read() -> None:
        nonlocal reads
        seen: set[str] = set()
        while not stop.is_set():
            try:
                response = await query.get(f"/v1/articles/{LIVE}/thread?limit=200&sort=oldest")
            except httpx.HTTPError as error:
                failures.append(repr(error))
                continue
            reads += 1
            if response.status_code != 200:
                failures.append(f"{response.status_code} {response.text[:200]}")
                continue
            ids = {c["comment_id"] for c in response.json()["comments"]}
            if len(seen) < 200 and not seen <= ids:
                failures.append(f"comments went missing: {sorted(seen - ids)[:5]}")
            seen = ids

    tasks = [asyncio.create_task(stream()), asyncio.create_task(read())]
    conn = await asyncpg.connect(settings.database_url)
    try:
        report = await rebuild(settings.worker(), conn, "threads", switch_within=200)
        await asyncio.sleep(0.5)  # keep reading and streaming on the new copy
    finally:
        stop.set()
        await asyncio.gather(*tasks)
        await conn.close()
        await query.aclose()
        server.terminate()
        server.wait()
    total = len(backlog) + 1 + len(streamed)
    await eventually(lambda: applied_through(db, total), what="the stream applied")

    assert failures == [], f"{len(failures)} of {reads} reads failed"
    assert reads > 20, "the reader must have been reading across the switch"
    assert report.readers_locked_ms < 1000
    expected = ReadModels()
    expected.fold([*backlog, article, *streamed])
    rows = await snapshot(db)
    assert rows == expected.snapshot()
    assert digest(rows) == digest(expected.snapshot())
    gone = await db.fetchval(
        "select count(*) from pg_namespace where nspname like $1", f"{settings.pg_schema}_threads_%"
    )
    assert gone == 0, "the build and the retired copy are dropped after the switch"


async def test_a_rebuild_killed_with_sigkill_resumes_and_ends_with_the_same_digest(
    settings: Settings, worker: Worker, producer: AIOKafkaProducer, db: asyncpg.Connection[Any]
) -> None:
    """A rebuild process killed with SIGKILL mid-load, then run again, resumes the copy it had
    loaded (it does not start over) and switches to rows with the live copy's digest."""
    events = mixed_events(12_000, articles=40)
    await produce(producer, settings.topic, events)
    await eventually(lambda: applied_through(db, len(events)), what="the log applied")
    before = digest(await snapshot(db))
    copy = build_schema(settings.pg_schema, "threads")

    async def built() -> int:
        try:
            return int(
                await db.fetchval(
                    f'select coalesce(sum(next_offset), 0) from "{copy}".projection_offsets'
                )
            )
        except asyncpg.UndefinedTableError:
            return 0

    # `threadlog rebuild` loads 20,000 records per transaction: a process of its own loading
    # 200 at a time lets the kill land between two of its batches.
    process = python(settings, "-c", REBUILD_IN_SMALL_BATCHES, "200")
    try:

        async def midway() -> bool:
            return await built() >= 2000 or process.poll() is not None

        await eventually(midway, what="the rebuild to get midway")
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    kept = await built()
    assert 0 < kept < len(events), "the kill must land mid-build"

    conn = await asyncpg.connect(settings.database_url)
    try:
        report = await rebuild(settings.worker(), conn, "threads")
    finally:
        await conn.close()
    assert report.resumed
    assert report.offsets == len(events)  # produced directly: no transaction markers
    assert digest(await snapshot(db)) == before
