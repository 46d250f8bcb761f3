"""`threadlog export`, then `threadlog import threadlog` into an empty installation: same digest.

The source installation gets the history of export_history.py through ingest and its worker;
its whole log is exported, read back by importers/threadlog_format.py and appended verbatim to
a fresh topic (another partition count) with a fresh schema, whose own worker applies it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import msgspec
import pytest
from aiokafka import AIOKafkaProducer

from events import Envelope
from importers.source import SourceProblem
from importers.threadlog_format import read_envelopes
from projections import Worker
from projections.store import migrate
from projections.verify import Verdict, verify
from tests.integration.conftest import produce
from tests.integration.export_history import (
    EVENTS,
    PERSON,
    SECOND,
    applied,
    source_fixture,  # noqa: F401 (the `source` fixture: pytest finds it here by its name)
    threadlog,
)
from tests.servers import isolated
from threadlog.export.log_export import Selection, export_log
from threadlog.settings import Settings
from threadlog.topics import ensure_topics


async def export_file(settings: Settings, path: Path, selection: Selection) -> int:
    """Export `selection` of the test's log to `path`; the number of events written."""
    with path.open("wb") as out:
        stats = await export_log(settings.kafka_bootstrap_servers, settings.topic, selection, out)
    assert stats.undecodable == []
    return stats.events


def envelopes(path: Path) -> list[Envelope]:
    """The events of an export file, failing on any problem."""
    found = list(read_envelopes(path))
    problems = [item for item in found if isinstance(item, SourceProblem)]
    assert problems == []
    return [item for item in found if isinstance(item, Envelope)]


@pytest.fixture
async def empty(base_settings: Settings) -> AsyncIterator[Settings]:
    """A second installation, empty: its own topic (5 partitions, not the source's 3) and
    schema."""
    target = isolated(base_settings, topic_partitions=5)
    await ensure_topics(target)
    conn = await asyncpg.connect(target.database_url)
    try:
        await migrate(conn, target.pg_schema)
        yield target
    finally:
        await conn.execute(f'drop schema if exists "{target.pg_schema}" cascade')
        await conn.close()


async def append_verbatim(settings: Settings, events: list[Envelope]) -> None:
    """Append imported envelopes as they are, each as the record `encode_record` makes: what
    `threadlog import threadlog` does with what read_envelopes yields (importers/
    threadlog_format.py, the interface), kept here until that pipeline is on main."""
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers, acks="all", enable_idempotence=True
    )
    await producer.start()
    try:
        await produce(producer, settings.topic, events)
    finally:
        await producer.stop()


async def apply_and_verify(settings: Settings) -> Verdict:
    """Run a worker on `settings` until it applied the topic, then verify its tables."""
    db = await asyncpg.connect(
        settings.database_url, server_settings={"search_path": settings.pg_schema}
    )
    worker = Worker(msgspec.structs.replace(settings.worker(), poll_timeout_ms=100))
    await worker.start()
    task = asyncio.create_task(worker.run())
    try:
        await applied(settings, db)
        return await verify(settings.worker(), db, "threads")
    finally:
        worker.request_stop()
        await asyncio.wait_for(task, 10)
        await worker.stop()
        await db.close()


async def test_an_export_imported_into_an_empty_installation_verifies_to_the_same_digest(
    source: Verdict, settings: Settings, empty: Settings, tmp_path: Path
) -> None:
    """The whole log, exported and appended verbatim to an empty installation with another
    partition count, folds to tables with the source's digest (`threadlog verify threads`
    prints the same last line on both); exported again from there, it
    holds the same events (ids, times, recordedtime, data) as the first export."""
    first = tmp_path / "export.jsonl"
    assert await export_file(settings, first, Selection()) == EVENTS
    imported = envelopes(first)
    assert len({e.id for e in imported}) == EVENTS
    await append_verbatim(empty, imported)
    verdict = await apply_and_verify(empty)
    assert verdict.differences == []
    assert verdict.events == EVENTS
    assert verdict.tables_digest == source.tables_digest
    for installation in (settings, empty):
        verified = await asyncio.to_thread(threadlog, installation, "verify", "threads")
        assert verified.returncode == 0, verified.stdout.decode()
        assert verified.stdout.splitlines()[-1] == source.tables_digest.encode()
    again = tmp_path / "again.jsonl"
    assert await export_file(empty, again, Selection()) == EVENTS
    assert sorted(envelopes(again), key=lambda e: e.id) == sorted(imported, key=lambda e: e.id)


async def test_the_command_exports_the_same_bytes_every_time(
    source: Verdict, settings: Settings, tmp_path: Path
) -> None:
    """`threadlog export --output FILE` writes what the export function writes, byte for byte
    (partitions in ascending order, each in log order); `--article` writes that article's
    events only, in log order, to standard output."""
    direct = tmp_path / "direct.jsonl"
    await export_file(settings, direct, Selection())
    by_command = tmp_path / "command.jsonl"
    done = await asyncio.to_thread(threadlog, settings, "export", "--output", str(by_command))
    assert done.returncode == 0, done.stderr.decode()
    assert by_command.read_bytes() == direct.read_bytes()
    assert not by_command.with_name("command.jsonl.partial").exists()
    assert f"exported {EVENTS} event(s)".encode() in done.stderr
    article = await asyncio.to_thread(threadlog, settings, "export", "--article", SECOND)
    assert article.returncode == 0, article.stderr.decode()
    lines = article.stdout.splitlines(keepends=True)
    assert lines == [line for line in direct.read_bytes().splitlines(keepends=True) if
                     f'"article_id":"{SECOND}"'.encode() in line]  # fmt: skip
    assert [msgspec.json.decode(line)["id"] for line in lines] == [
        "x-a2", "x-p9", "x-m3", "x-close", "x-p10",
    ]  # fmt: skip


async def test_an_author_export_holds_every_event_naming_them(
    source: Verdict, settings: Settings, tmp_path: Path
) -> None:
    """`--author` selects the events naming the person in any role: their posts, edits, votes,
    flags and the bans of them; not events about their comments by others."""
    path = tmp_path / "author.jsonl"
    await export_file(settings, path, Selection(author=PERSON))
    ids = sorted(e.id for e in envelopes(path))
    assert ids == sorted(
        ["demo-comment-1", "x-e1", "x-v3", "x-v4", "x-v5", "x-f1", "x-b2", "x-p8", "x-u1", "x-p9"]
    )


async def test_a_bad_option_is_refused_with_the_reason(settings: Settings) -> None:
    """--personal without --author and an id that is not one exit non-zero, saying why."""
    personal = await asyncio.to_thread(threadlog, settings, "export", "--personal")
    assert personal.returncode != 0
    assert b"--personal needs --author" in personal.stderr
    bad = await asyncio.to_thread(threadlog, settings, "export", "--author", "a b")
    assert bad.returncode != 0
    assert b"is not an id" in bad.stderr
