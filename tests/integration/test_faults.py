"""Server faults under load: the Kafka broker and PostgreSQL each stopped and started again while
events are posted through ingest. Nothing acknowledged is lost or doubled, ingest never answers
2xx while Kafka is down, and no process needs a hand restart.

It stops the servers `make up` started (deploy/bin/down kafka|postgres, then kafka-up/pg-up), so
it only runs against those, and is skipped against servers named by KAFKA_BOOTSTRAP_SERVERS or
DATABASE_URL. `make test` runs pytest in one process, so no other test is running meanwhile.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from bench.workload import mixed_events
from events import encode_json
from projections.memory import ReadModels
from projections.store import snapshot
from services.ingest import create_app as create_ingest_app
from tests.integration.conftest import MakeKey, eventually
from tests.integration.test_chaos import end_offsets
from tests.integration.test_crash import start_worker, tail
from threadlog.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
EVENTS = int(os.environ.get("THREADLOG_FAULT_EVENTS", "3000"))
RATE = 300.0
BATCH = 20

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or os.environ.get("DATABASE_URL"))
    or not (ROOT / ".state" / "kafka" / "kafka.pid").exists(),
    reason="stops and restarts servers: only those deploy/bin/up started from this checkout",
)


async def _deploy(*command: str) -> None:
    await asyncio.to_thread(
        subprocess.run,
        [str(ROOT / "deploy" / "bin" / command[0]), *command[1:]],
        check=True,
        capture_output=True,
    )


class Timeline:
    """When each answer came, and the windows in which a server was down for sure."""

    def __init__(self) -> None:
        self.answers: list[tuple[float, int]] = []
        self.outages: dict[str, tuple[float, float]] = {}

    def answered_2xx_during(self, server: str) -> int:
        down, up = self.outages[server]
        return sum(1 for at, status in self.answers if down < at < up and 200 <= status < 300)

    def first_202_after(self, at: float) -> str:
        later = [t for t, status in self.answers if t > at and status == 202]
        return f"{min(later) - at:.2f} s" if later else "n/a (posting had ended)"


async def test_broker_and_database_restarts_lose_and_double_nothing(
    settings: Settings, make_key: MakeKey, tmp_path: Any
) -> None:
    """Kafka stopped for 2 s, then PostgreSQL for 2 s, while a producer posts at a steady rate
    and retries what is refused: ingest answers 503 (never 2xx) while Kafka is down, the worker
    and ingest reconnect by themselves, and the read models end equal to the pure fold."""
    events = mixed_events(EVENTS, articles=20, seed=5)
    key = await make_key("fault-load", ["produce"])
    log_path = str(tmp_path / "worker.log")
    worker = start_worker(settings, log_path)
    timeline = Timeline()
    posted = 0
    progress = asyncio.Event()

    async def post_all(client: AsyncTestClient[Any]) -> None:
        nonlocal posted
        began = time.monotonic()
        for start in range(0, len(events), BATCH):
            await asyncio.sleep(max(0.0, began + start / RATE - time.monotonic()))
            body = encode_json(events[start : start + BATCH])
            while True:
                response = await client.post(
                    "/v1/events", content=body, headers={"content-type": "application/json"}
                )
                timeline.answers.append((time.monotonic(), response.status_code))
                if response.status_code == 202:
                    break
                await asyncio.sleep(0.1)
            posted = start + BATCH
            progress.set()

    async def fault(server: str, after: int) -> None:
        while posted < after:
            progress.clear()
            await progress.wait()
        await _deploy("down", server)
        down = time.monotonic()
        await asyncio.sleep(2)
        up = time.monotonic()
        await _deploy("kafka-up" if server == "kafka" else "pg-up")
        timeline.outages[server] = (down, up)

    async with AsyncTestClient(create_ingest_app(settings.ingest())) as client:
        client.headers["Authorization"] = f"Bearer {key}"

        async def ready() -> bool:
            return bool((await client.get("/readyz")).status_code == 200)

        await eventually(ready, what="ingest to connect to Kafka")
        load = asyncio.create_task(post_all(client))
        await fault("kafka", len(events) // 4)
        await fault("postgres", len(events) // 2)
        await asyncio.wait_for(load, 300)

    total = await end_offsets(settings)

    async def caught_up() -> bool:
        conn = await asyncpg.connect(settings.database_url)
        try:
            done = await conn.fetchval(
                "select coalesce(sum(next_offset), 0)"
                f" from \"{settings.pg_schema}\".projection_offsets where projection = 'threads'"
            )
        finally:
            await conn.close()
        return int(done) >= total

    await eventually(caught_up, what="the worker to apply everything", timeout_s=120)
    assert worker.poll() is None, "the worker must survive both outages:\n" + tail(log_path)
    worker.terminate()
    worker.wait(15)
    assert timeline.answered_2xx_during("kafka") == 0, "2xx while Kafka was down"
    refused = sum(1 for _, status in timeline.answers if status != 202)
    conn = await asyncpg.connect(
        settings.database_url, server_settings={"search_path": settings.pg_schema}
    )
    try:
        stored = await snapshot(conn)
    finally:
        await conn.close()
    expected = ReadModels()
    expected.fold(events)
    assert stored == expected.snapshot()
    print(
        f"faults: {len(events)} events ({len({e.id for e in events})} distinct ids) acknowledged,"
        f" {refused} requests refused and retried; first 202 after Kafka came back"
        f" {timeline.first_202_after(timeline.outages['kafka'][1])}, after PostgreSQL"
        f" {timeline.first_202_after(timeline.outages['postgres'][1])}; lost 0, doubled 0"
    )
