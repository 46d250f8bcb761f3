"""Server faults under load: the Kafka broker and PostgreSQL each stopped and started again while
events are posted through ingest. Nothing acknowledged is lost or doubled, ingest never answers
2xx while Kafka is down, and no process needs a hand restart.

It stops the servers `make up` started (deploy/bin/down kafka|postgres, then kafka-up/pg-up), so
it only runs when the settings name those very servers (on whatever ports they were started),
and is skipped against any other. `make test` runs pytest in one process, so no other test is
running meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import subprocess
import time
from typing import Any
from urllib.parse import urlparse

import asyncpg
import msgspec
import pytest
from litestar.testing import AsyncTestClient

from bench.workload import mixed_events
from projections.verify import verify
from services.ingest import create_app as create_ingest_app
from services.query import create_app as create_query_app
from tests.integration.apply_times import (
    DRAINED_AFTER_S,
    ROOT,
    Applied,
    Load,
    applied_times,
    event_figures,
    ms,
    write_report,
)
from tests.integration.conftest import MakeKey, committed_end, eventually
from tests.integration.test_crash import start_worker, tail
from threadlog.settings import Settings

EVENTS = int(os.environ.get("THREADLOG_FAULT_EVENTS", "3000"))
RATE = 300.0
BATCH = 20
LOOPBACK = ("127.0.0.1", "localhost")


def _restart_environment(settings: Settings) -> dict[str, str] | None:
    """The environment deploy/bin/kafka-up and pg-up need to start again the very servers that
    `settings` names, or None when those are not the ones deploy/bin/up started from here.

    DATABASE_URL is left out: with it set, pg-up starts nothing. The ports come from what the
    servers were started with (server.properties, postmaster.pid), not from defaults.
    """
    state = ROOT / ".state"
    properties = state / "kafka" / "server.properties"
    postmaster = (state / "postgres").resolve() / "data" / "postmaster.pid"
    if not all(p.exists() for p in (state / "kafka" / "kafka.pid", properties, postmaster)):
        return None
    listeners = dict(
        re.findall(r"\b(PLAINTEXT|CONTROLLER)://127\.0\.0\.1:(\d+)", properties.read_text())
    )
    pg_port = postmaster.read_text().splitlines()[3].strip()
    kafka_host, _, kafka_port = settings.kafka_bootstrap_servers.removeprefix(
        "PLAINTEXT://"
    ).rpartition(":")
    db = urlparse(settings.database_url)
    if (
        kafka_host not in LOOPBACK
        or kafka_port != listeners.get("PLAINTEXT")
        or db.hostname not in LOOPBACK
        or str(db.port or 5432) != pg_port
    ):
        return None
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    return env | {
        "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{kafka_port}",
        "KAFKA_PORT": kafka_port,
        "KAFKA_CONTROLLER_PORT": listeners.get("CONTROLLER", "9093"),
        "THREADLOG_PG_PORT": pg_port,
    }


@pytest.fixture
def restart_env(base_settings: Settings) -> dict[str, str]:
    """What deploy/bin needs to restart our servers; skips the test when they are not ours."""
    env = _restart_environment(base_settings)
    if env is None:
        pytest.skip("stops and restarts servers: only those deploy/bin/up started from here")
    return env


class Outage(msgspec.Struct):
    """When a server was stopped and when it answered again (wall-clock seconds)."""

    stopping: float
    down: float
    restarting: float
    up: float


async def test_broker_and_database_restarts_lose_and_double_nothing(
    settings: Settings, make_key: MakeKey, restart_env: dict[str, str], tmp_path: Any
) -> None:
    """Kafka stopped for 2 s, then PostgreSQL for 2 s, while a producer posts at a steady rate
    and retries what is refused: ingest answers 503 (never 2xx) while Kafka is down, the worker,
    ingest and the query service reconnect by themselves, and the read models end equal to the
    pure fold. Reports each event's wait and how long each restart took to recover from."""
    events = mixed_events(EVENTS, articles=20, seed=5)
    key = await make_key("fault-load", ["produce"])
    log_path = str(tmp_path / "worker.log")
    worker = start_worker(settings, log_path)
    load = Load(events, rate=RATE, batch=BATCH, retry_s=0.1)
    reads: list[tuple[float, int]] = []
    outages: dict[str, Outage] = {}
    began = time.time()

    async def deploy(*command: str) -> None:
        await asyncio.to_thread(
            subprocess.run,
            [str(ROOT / "deploy" / "bin" / command[0]), *command[1:]],
            check=True,
            capture_output=True,
            env=restart_env,
        )

    async def fault(server: str, after: int) -> None:
        await load.until_posted(after)
        stopping = time.time()
        await deploy("down", server)
        down = time.time()
        await asyncio.sleep(2)
        restarting = time.time()
        await deploy("kafka-up" if server == "kafka" else "pg-up")
        outages[server] = Outage(stopping, down, restarting, time.time())

    async def read_all_along(query: AsyncTestClient[Any]) -> None:
        # A reader of one thread, as a page would: the query service must get over the restart.
        while True:
            status = (await query.get("/v1/articles/art-0/thread?limit=1")).status_code
            reads.append((time.time(), status))
            await asyncio.sleep(0.1)

    async with (
        AsyncTestClient(create_ingest_app(settings.ingest())) as client,
        AsyncTestClient(create_query_app(settings.query())) as query,
    ):
        client.headers["Authorization"] = f"Bearer {key}"

        async def ready() -> bool:
            return bool((await client.get("/readyz")).status_code == 200)

        await eventually(ready, what="ingest to connect to Kafka")
        posting = asyncio.create_task(load.run(client))
        reading = asyncio.create_task(read_all_along(query))
        await fault("kafka", len(events) // 4)
        await fault("postgres", len(events) // 2)
        await asyncio.wait_for(posting, 300)

        async def read_again() -> bool:
            return any(at > outages["postgres"].up and status == 200 for at, status in reads)

        await eventually(read_again, what="a successful read after PostgreSQL came back")
        reading.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reading
        total = await committed_end(settings)

        async def caught_up() -> bool:
            conn = await asyncpg.connect(settings.database_url)
            try:
                done = await conn.fetchval(
                    "select coalesce(sum(next_offset), 0) from"
                    f" \"{settings.pg_schema}\".projection_offsets where projection = 'threads'"
                )
            finally:
                await conn.close()
            return int(done) >= total

        await eventually(caught_up, what="the worker to apply everything", timeout_s=120)
        # Read your own writes after the restart: the query service's watch of the applied
        # positions must have got over it by itself.
        own = await query.get(f"/v1/articles/art-0/thread?limit=1&after={load.after()}")
        assert own.status_code == 200, own.text

    assert worker.poll() is None, "the worker must survive both outages:\n" + tail(log_path)
    worker.terminate()
    worker.wait(15)
    kafka, postgres = outages["kafka"], outages["postgres"]
    conn = await asyncpg.connect(
        settings.database_url, server_settings={"search_path": settings.pg_schema}
    )
    try:
        applied = Applied(load.acks, await applied_times(conn, settings.pg_schema))
        count = int(await conn.fetchval("select count(*) from applied_events"))
        # The pure fold of the log as written: ingest stamped each event with the time it
        # accepted it (a retried request gets a new one), and the rows keep that time.
        verdict = await verify(settings.worker(), conn, "threads")
    finally:
        await conn.close()
    equal = not verdict.differences
    unique = len({e.id for e in events})
    bound = round(RATE * DRAINED_AFTER_S)
    ok_during_kafka = sum(
        1 for at, status in load.answers if kafka.down < at < kafka.restarting and status < 300
    )

    def outage(o: Outage) -> dict[str, float | None]:
        return {
            "stopped_at_s": ms(o.stopping - began),
            "stop_took_s": ms(o.down - o.stopping),
            "restart_took_s": ms(o.up - o.restarting),
            "first_202_s": ms(load.first_202_after(o.up)),
            **applied.recovery(o.up, bound),
            "first_read_s": ms(
                min(
                    (at - o.up for at, status in reads if at > o.up and status == 200), default=None
                )
            ),
        }

    waits = applied.wait_figures()
    after_kafka = {**outage(kafka), "2xx_while_down": ok_during_kafka}
    after_pg = {**outage(postgres), "reads_refused": sum(1 for _, status in reads if status != 200)}
    report = {
        "events": event_figures(load, applied, count, equal),
        "wait_s": waits,
        "kafka": after_kafka,
        "postgres": after_pg,
        "recovery_from": "the restart command returning: the server answers again",
        "drained_means": f"at most {bound} events acknowledged and not applied",
        "run": {"rate_per_s": RATE, "records": total, "took_s": ms(time.time() - began)},
    }
    write_report("faults", report)
    print(
        f"faults: {len(load.acks)} acknowledged, {count} applied, lost {len(applied.lost)};"
        f" wait max {waits['max']} s, p50 {waits['p50']} s, p99 {waits['p99']} s; after Kafka"
        f" came back: first 202 {after_kafka['first_202_s']} s, first applied"
        f" {after_kafka['first_applied_s']} s; after PostgreSQL: first applied"
        f" {after_pg['first_applied_s']} s, first read {after_pg['first_read_s']} s"
    )
    assert ok_during_kafka == 0, "2xx while Kafka was down"
    assert not applied.lost, f"acknowledged, never applied: {applied.lost[:5]}"
    assert len(applied.waits) == unique, "every acknowledged event has its applied_at"
    assert equal, f"the rows differ from the pure fold of the log: {verdict.differences[:5]}"
