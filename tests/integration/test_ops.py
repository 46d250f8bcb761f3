"""Operator commands on the real servers: replay, redrive, verify, status, version refusal."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime
from typing import Any

import asyncpg
import msgspec
import pytest
from aiokafka import AIOKafkaProducer

from bench.workload import mixed_events
from eventlog.dead_letters import dead_letter_headers
from events import encode_record
from projections import Worker
from projections.dead_letter_ops import Filter, read_dead_letters, redrive
from projections.digest import digest
from projections.registry import VERSIONS
from projections.replay import replay
from projections.store import migrate, snapshot
from projections.threads.fold import ReadModels
from projections.verify import verify
from projections.versions import ProjectionVersionMismatch
from tests.integration.conftest import eventually, produce
from threadlog.settings import ENVIRONMENT, Settings
from threadlog.status import collect


async def applied_through(db: asyncpg.Connection[Any], count: int) -> bool:
    """Whether the live copy's offsets add up to `count` records."""
    total = await db.fetchval("select coalesce(sum(next_offset), 0) from projection_offsets")
    return int(total) >= count


async def test_replay_and_redrive_change_nothing_already_right_and_apply_each_event_once(
    settings: Settings, worker: Worker, producer: AIOKafkaProducer, db: asyncpg.Connection[Any]
) -> None:
    """A replay of the whole log applies nothing twice; a redriven dead letter whose event was
    never applied is applied exactly once, however often it is redriven, and one whose event is
    already applied changes nothing. `verify` agrees with the pure fold after all of it, and
    `status` shows no lag and counts only unresolved dead letters."""
    events = mixed_events(2000, articles=10)
    held_back = next(e for e in events[1500:] if e.type == "CommentPosted")
    log = [e for e in events if e is not held_back]
    await produce(producer, settings.topic, log)
    await eventually(lambda: applied_through(db, len(log)), what="the log applied")
    before = await snapshot(db)

    read, applied = await replay(settings.worker(), "threads", 0)
    assert (read, applied) == (len(log), 0)
    read, applied = await replay(settings.worker(), "threads", datetime(2000, 1, 1, tzinfo=UTC))
    assert (read, applied) == (len(log), 0)
    assert await snapshot(db) == before

    # Two parked records as a worker writes them: one never applied, one applied since.
    for event in (held_back, log[-1]):
        key, value, headers = encode_record(event)
        parked = dead_letter_headers(
            headers,
            stage="apply",
            error="a bug since fixed",
            topic=settings.topic,
            partition=0,
            offset=0,
            at=datetime.now(UTC),
        )
        await producer.send_and_wait(settings.dlq_topic, key=key, value=value, headers=parked)
    letters = await read_dead_letters(settings.kafka_bootstrap_servers, settings.dlq_topic, db)
    assert [d.event_id for d in letters] == [held_back.id, log[-1].id]
    status = await collect(settings, db)
    assert status.dead_letters == 2
    assert status.last_error == "a bug since fixed"

    await redrive(producer, settings.topic, db, settings.dlq_topic, letters)
    # Again, as after a crash between the append and the record of the action.
    await redrive(producer, settings.topic, db, settings.dlq_topic, letters)
    await eventually(lambda: applied_through(db, len(log) + 4), what="the redriven records")
    expected = ReadModels()
    expected.fold([*log, held_back])
    assert await snapshot(db) == expected.snapshot()

    again = await read_dead_letters(settings.kafka_bootstrap_servers, settings.dlq_topic, db)
    assert [d for d in again if Filter().matches(d)] == []
    assert len([d for d in again if Filter(include_resolved=True).matches(d)]) == 2

    verdict = await verify(settings.worker(), db, "threads")
    assert verdict.differences == []
    assert verdict.tables_digest == verdict.fold_digest == digest(expected.snapshot())
    status = await collect(settings, db)
    assert status.dead_letters == 0
    [threads] = status.projections
    assert threads.lag == 0
    assert sum(p.end for p in threads.partitions) == len(log) + 4


async def test_a_worker_refuses_tables_of_another_version_and_names_the_fix(
    settings: Settings, db: asyncpg.Connection[Any]
) -> None:
    """Code whose projection is newer than the tables refuses before writing and points to
    `threadlog rebuild`; code older than the tables refuses too and asks for the newer code."""
    newer = VERSIONS["threads"] + 1
    with pytest.raises(ProjectionVersionMismatch, match="threadlog rebuild threads"):
        await migrate(db, settings.pg_schema, {"threads": newer})
    await db.execute(
        "update projection_versions set version = $1 where projection = 'threads'", newer + 1
    )
    with pytest.raises(ProjectionVersionMismatch, match="newer than this code"):
        await migrate(db, settings.pg_schema, {"threads": newer})


async def threadlog(settings: Settings, *args: str) -> tuple[int, str]:
    """Run `threadlog ARGS` as an operator would; return its exit code and standard output."""
    code, out, _ = await threadlog_from_a_script(settings, *args)
    return code, out


async def threadlog_from_a_script(settings: Settings, *args: str) -> tuple[int, str, str]:
    """Run `threadlog ARGS` from a script (stdin not a terminal): exit code, stdout, stderr."""
    env = dict(os.environ) | {var: str(getattr(settings, n)) for n, var in ENVIRONMENT.items()}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "threadlog",
        *args,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    return process.returncode or 0, out.decode(), err.decode()


async def test_the_commands_print_status_as_json_and_the_digest_as_the_last_line(
    settings: Settings, worker: Worker, producer: AIOKafkaProducer, db: asyncpg.Connection[Any]
) -> None:
    """`status --json` prints one JSON object with each partition's lag; `verify` ends with the
    digest of the tables and exits 0 when they equal the fold; `dlq redrive --dry-run` touches
    nothing."""
    events = mixed_events(300, articles=5)
    await produce(producer, settings.topic, events)
    await eventually(lambda: applied_through(db, len(events)), what="the log applied")
    code, out = await threadlog(settings, "status", "--json")
    assert code == 0
    status = msgspec.json.decode(out.splitlines()[-1])
    assert status["projections"][0]["lag"] == 0
    code, out = await threadlog(settings, "verify", "threads")
    assert code == 0
    assert out.splitlines()[-1] == digest(await snapshot(db))
    code, out = await threadlog(settings, "dlq", "redrive", "--dry-run")
    assert code == 0
    assert out.splitlines()[0] == f"0 dead letter(s) to redrive to {settings.topic} (dry run)"


async def test_dlq_acts_on_every_letter_only_with_yes_and_shows_control_characters_escaped(
    settings: Settings, producer: AIOKafkaProducer, db: asyncpg.Connection[Any]
) -> None:
    """From a script, `dlq redrive` and `dlq purge` without a filter touch nothing unless given
    `--yes` (they would act on every letter); with a filter they act. `dlq show` and `dlq list`
    print a letter's control characters escaped (`\\x1b`), never raw: a parked record is
    anyone's input, and raw escapes could rewrite the operator's terminal."""
    hostile = "\x1b]0;owned\x07\x1b[2J\u202e"
    for n in range(2):
        parked = dead_letter_headers(
            [("ce_id", f"e{n}".encode()), ("ce_type", b"CommentPosted")],
            stage="apply",
            error=f"boom {hostile}",
            topic=settings.topic,
            partition=0,
            offset=n,
            at=datetime.now(UTC),
        )
        value = msgspec.json.encode({"body": hostile})
        await producer.send_and_wait(settings.dlq_topic, key=b"art", value=value, headers=parked)

    for command in ("redrive", "purge"):
        code, out, err = await threadlog_from_a_script(settings, "dlq", command)
        assert code != 0, out
        assert "--yes" in err
    code, out, _ = await threadlog_from_a_script(settings, "dlq", "list")
    assert out.splitlines()[-1] == f"2 dead letter(s) on {settings.dlq_topic}"

    code, out, _ = await threadlog_from_a_script(settings, "dlq", "show", "e0")
    assert code == 0
    assert "\x1b" not in out
    assert "\x07" not in out
    assert "\u202e" not in out
    assert "\\x1b]0;owned\\x07\\x1b[2J\\u202e" in out
    code, out, _ = await threadlog_from_a_script(settings, "dlq", "list")
    assert "\x1b" not in out

    code, out, _ = await threadlog_from_a_script(settings, "dlq", "purge", "e0")
    assert code == 0, out
    assert "purged 1" in out
    code, out, _ = await threadlog_from_a_script(settings, "dlq", "purge", "--yes")
    assert code == 0, out
    assert "purged 1" in out
    letters = await read_dead_letters(settings.kafka_bootstrap_servers, settings.dlq_topic, db)
    assert [d for d in letters if Filter().matches(d)] == []
