"""Exactly-once effect: a worker killed with SIGKILL mid-stream loses and doubles nothing."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer

from bench.workload import mixed_events
from projections.store import snapshot
from projections.threads.fold import ReadModels
from tests.integration.conftest import eventually, produce
from threadlog.settings import ENVIRONMENT, Settings


def tail(path: str) -> str:
    """The end of the worker's log, to show why an assertion failed."""
    with open(path) as log:  # only read once a test has already failed
        return log.read()[-3000:]


def start_worker(
    settings: Settings, log_path: str, instance_id: str = ""
) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    for name, var in ENVIRONMENT.items():
        env[var] = str(getattr(settings, name))
    env["THREADLOG_WORKER_INSTANCE_ID"] = instance_id
    env["THREADLOG_WORKER_MAX_BATCH"] = "300"
    env["THREADLOG_LOG_FORMAT"] = "json"
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "threadlog", "worker"], env=env, stdout=log, stderr=log
        )


async def test_sigkill_mid_stream_then_restart_equals_the_pure_fold(
    settings: Settings, producer: AIOKafkaProducer, db: asyncpg.Connection[Any], tmp_path: Any
) -> None:
    """Kill -9 the worker twice while it applies 20,000 events, restart it each time: the read
    models end exactly equal to folding every event once, in memory."""
    events = mixed_events(20_000)
    await produce(producer, settings.topic, events)
    log_path = str(tmp_path / "worker.log")

    async def applied_events() -> int:
        return int(
            await db.fetchval("select count(*) from applied_events where projection = 'threads'")
        )

    for threshold in (3_000, 9_000):
        worker = start_worker(settings, log_path)
        try:

            async def past_threshold(
                threshold: int = threshold, worker: subprocess.Popen[bytes] = worker
            ) -> bool:
                return await applied_events() >= threshold or worker.poll() is not None

            await eventually(past_threshold, what=f"{threshold} events applied", timeout_s=90)
        finally:
            worker.send_signal(signal.SIGKILL)
            worker.wait()
        assert worker.returncode == -signal.SIGKILL, tail(log_path)
        assert await applied_events() < len(events), "the kill must land mid-stream"

    worker = start_worker(settings, log_path)
    try:

        async def caught_up() -> bool:
            done = await db.fetchval(
                "select coalesce(sum(next_offset), 0) from projection_offsets"
                " where projection = 'threads'"
            )
            return int(done) == len(events)

        await eventually(caught_up, what="the restarted worker to catch up", timeout_s=120)
    finally:
        worker.send_signal(signal.SIGTERM)
        await asyncio.to_thread(worker.wait, 15)
    assert worker.returncode == 0, tail(log_path)
    expected = ReadModels()
    expected.fold(events)
    assert await snapshot(db) == expected.snapshot()
