"""`threadlog export`, then `threadlog import threadlog` into an empty installation: same digest.

The source installation gets the history of export_history.py through ingest and its worker,
with sealing on (the default); its whole log is exported (personal fields opened with its key
store, in clear), read back by importers/threadlog_format.py and imported by `threadlog import
threadlog` into a fresh topic (another partition count), schema and key store, whose own worker
applies it.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import msgspec
import pytest
from litestar.testing import AsyncTestClient

from events import Envelope
from events.sealing import ERASED_TEXT
from importers.source import SourceProblem
from importers.threadlog_format import read_envelopes
from projections import Worker
from projections.store import migrate
from projections.verify import Verdict, verify
from subject_keys import KeyStore
from tests.integration.conftest import committed_values
from tests.integration.export_history import (
    EVENTS,
    PERSON,
    SECOND,
    applied,
    erase_peter,
    source_fixture,  # noqa: F401 (the `source` fixture: pytest finds it here by its name)
    threadlog,
)
from tests.integration.test_erasure_faults import key_store_down
from tests.servers import isolated
from threadlog.export.log_export import Selection, export_log
from threadlog.import_run import ImportOptions, run_import
from threadlog.settings import Settings
from threadlog.topics import ensure_topics


@pytest.fixture
def base_settings(base_settings: Settings) -> Settings:
    """Sealing on whatever THREADLOG_ENCRYPT_PERSONAL_DATA says: an export opens what the log
    sealed, and an import seals it again."""
    return msgspec.structs.replace(base_settings, encrypt_personal_data=True)


async def export_file(settings: Settings, path: Path, selection: Selection) -> int:
    """Export `selection` of the test's log to `path`; the number of events written."""
    async with KeyStore(settings.key_store()) as keys:
        with path.open("wb") as out:
            stats = await export_log(
                settings.kafka_bootstrap_servers, settings.topic, selection, out, keys
            )
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


async def import_file(settings: Settings, path: Path) -> None:
    """`threadlog import threadlog FILE` into the installation of `settings`."""
    options = ImportOptions(format="threadlog", path=path)
    report = await run_import(settings, options, progress=io.StringIO())
    assert report.failed is None
    assert report.problems == []


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
    text = first.read_bytes()
    assert b"sealedwith" not in text
    assert b'"enc":' not in text
    assert b"Take it to Trump (edited)." in text  # the export is in clear: handle it so
    imported = envelopes(first)
    assert len({e.id for e in imported}) == EVENTS
    await import_file(empty, first)
    assert any(b'"enc":"v1"' in value for value in (await committed_values(empty)).values())
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


GONE = (b"Answers that every commenter", b"Too late.", b'"Peter"')
"""Peter's words and name, as the demo thread and export_history.py post them."""


async def test_an_author_erased_before_the_export_stays_erased_after_the_round_trip(
    source: Verdict,
    settings: Settings,
    ingest: AsyncTestClient[Any],
    db: asyncpg.Connection[Any],
    empty: Settings,
    tmp_path: Path,
) -> None:
    """Peter erased on the source: the export holds none of his text or name, and no
    ciphertext (his fields read as the worker reads them, `[erased]` or absent); imported
    into an empty installation, his key there is destroyed, his comments are erased
    tombstones, and both installations verify to the same digest."""
    await erase_peter(ingest, settings, db)
    after = await verify(settings.worker(), db, "threads")
    assert after.differences == []
    assert after.tables_digest != source.tables_digest

    path = tmp_path / "erased.jsonl"
    assert await export_file(settings, path, Selection()) == EVENTS + 1
    text = path.read_bytes()
    for gone in GONE:
        assert gone not in text
    assert b'"enc":' not in text
    assert ERASED_TEXT.encode() in text

    await import_file(empty, path)
    verdict = await apply_and_verify(empty)
    assert verdict.differences == []
    assert verdict.tables_digest == after.tables_digest
    for value in (await committed_values(empty)).values():
        for gone in GONE:
            assert gone not in value
    async with KeyStore(empty.key_store()) as keys:
        assert (await keys.sealing_keys(["peter"]))["peter"].dek is None
    target = await asyncpg.connect(
        empty.database_url, server_settings={"search_path": empty.pg_schema}
    )
    try:
        rows = await target.fetch(
            "select erased, body, author_name from comments where author_id = 'peter'"
        )
    finally:
        await target.close()
    assert rows
    assert all(row["erased"] and not row["body"] and row["author_name"] is None for row in rows)


async def test_an_export_stops_when_the_key_store_does_not_answer(
    source: Verdict, settings: Settings, tmp_path: Path
) -> None:
    """Without the keys an export could only write ciphertext or placeholders: it exits
    non-zero naming the key store, and leaves no file."""
    quick = msgspec.structs.replace(settings, db_timeout_s=0.5)
    path = tmp_path / "export.jsonl"
    async with key_store_down(quick):
        done = await asyncio.to_thread(threadlog, quick, "export", "--output", str(path))
    assert done.returncode != 0
    assert b"key store" in done.stderr
    assert b"run it again" in done.stderr
    assert not path.exists()
    assert not path.with_name("export.jsonl.partial").exists()
