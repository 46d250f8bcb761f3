"""Faults under load: workers SIGKILLed at random while a load generator posts through the ingest
API; at the end every acknowledged event is in the read models exactly once.

`make test` runs a bounded version; `make chaos` runs THREADLOG_CHAOS_EVENTS=200000 and
THREADLOG_CHAOS_KILLS=20. Stopping the shared Kafka broker and PostgreSQL is not done here: the
servers of `make up` are used by every test and developer at once (see the README).
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import time
from typing import Any

import asyncpg
import msgspec
from aiokafka import AIOKafkaConsumer, TopicPartition
from litestar.testing import AsyncTestClient

from bench.workload import mixed_events
from events import Envelope, encode_json
from projections.memory import ReadModels
from projections.store import snapshot
from services.ingest import create_app as create_ingest_app
from tests.integration.conftest import MakeKey, eventually
from tests.integration.test_crash import start_worker, tail
from threadlog.settings import Settings
from threadlog.topics import ensure_topics

EVENTS = int(os.environ.get("THREADLOG_CHAOS_EVENTS", "6000"))
KILLS = int(os.environ.get("THREADLOG_CHAOS_KILLS", "5"))
RATE = float(os.environ.get("THREADLOG_CHAOS_RATE", "1000"))
"""Events per second the load generator posts: a steady stream, so kills land mid-stream."""
BATCH = 50


class Tally(msgspec.Struct):
    """What the load generator saw."""

    acknowledged: int = 0
    retried_requests: int = 0
    non_2xx: int = 0


async def post_all(client: AsyncTestClient[Any], events: list[Envelope], tally: Tally) -> None:
    """Post `events` in order at RATE, BATCH per request, retrying a request until it is
    acknowledged (the ids make a retry harmless), as a producer that must not lose anything."""
    began = time.monotonic()
    for start in range(0, len(events), BATCH):
        await asyncio.sleep(max(0.0, began + start / RATE - time.monotonic()))
        body = encode_json(events[start : start + BATCH])
        while True:
            response = await client.post(
                "/v1/events", content=body, headers={"content-type": "application/json"}
            )
            if response.status_code == 202:
                tally.acknowledged += len(response.json()["accepted"])
                break
            tally.non_2xx += 1
            tally.retried_requests += 1
            await asyncio.sleep(0.2)


async def end_offsets(settings: Settings) -> int:
    """Records in the topic: what the workers must have read when they are done."""
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers)
    await consumer.start()
    try:
        partitions = [TopicPartition(settings.topic, p) for p in range(settings.topic_partitions)]
        return sum((await consumer.end_offsets(partitions)).values())
    finally:
        await consumer.stop()


async def test_random_sigkills_of_three_workers_lose_and_double_nothing(
    settings: Settings, make_key: MakeKey, db: asyncpg.Connection[Any], tmp_path: Any
) -> None:
    """Three workers share the group over 12 partitions while events are posted through ingest;
    one is killed for good halfway, the others are SIGKILLed at random moments and restarted.
    Every acknowledged event is applied exactly once: the read models equal the pure fold."""
    settings = msgspec.structs.replace(
        settings,
        topic=settings.topic + ".chaos",
        dlq_topic=settings.dlq_topic + ".chaos",
        topic_partitions=12,
    )
    await ensure_topics(settings)
    events = mixed_events(EVENTS)
    key = await make_key("chaos-load", ["produce"])
    log_path = str(tmp_path / "workers.log")
    rng = random.Random(11)
    workers = [start_worker(settings, log_path) for _ in range(3)]
    kills = 0
    tally = Tally()
    started = time.monotonic()
    async with AsyncTestClient(create_ingest_app(settings.ingest())) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        load = asyncio.create_task(post_all(client, events, tally))
        duration = len(events) / RATE
        moments = sorted(rng.uniform(0.05, 0.95) * duration for _ in range(KILLS))
        try:
            for at in [*moments[: KILLS // 2], duration / 2, *moments[KILLS // 2 :]]:
                await asyncio.wait({load}, timeout=max(0.0, started + at - time.monotonic()))
                if load.done():
                    break
                if at == duration / 2:
                    # For good: the group must move its partitions to the two others.
                    workers[2].send_signal(signal.SIGKILL)
                    await asyncio.to_thread(workers[2].wait)
                    continue
                victim = rng.randrange(2)
                workers[victim].send_signal(signal.SIGKILL)
                await asyncio.to_thread(workers[victim].wait)
                assert workers[victim].returncode == -signal.SIGKILL, tail(log_path)
                kills += 1
                workers[victim] = start_worker(settings, log_path)
            await load
        finally:
            if not load.done():
                load.cancel()
    posted_s = time.monotonic() - started
    records = await end_offsets(settings)

    async def caught_up() -> bool:
        done = await db.fetchval(
            "select coalesce(sum(next_offset), 0) from projection_offsets"
            " where projection = 'threads' and topic = $1",
            settings.topic,
        )
        return int(done) == records

    try:
        await eventually(caught_up, what="the surviving workers to catch up", timeout_s=180)
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
        for worker in workers:
            try:
                await asyncio.to_thread(worker.wait, 15)
            except subprocess.TimeoutExpired:
                worker.kill()
    caught_up_s = time.monotonic() - started - posted_s
    applied = int(
        await db.fetchval("select count(*) from applied_events where projection = 'threads'")
    )
    unique = len({event.id for event in events})
    print(
        f"chaos: {len(events)} events posted ({unique} distinct ids) in {posted_s:.1f} s,"
        f" {tally.acknowledged} acknowledged, {tally.non_2xx} non-2xx answers retried,"
        f" {kills} SIGKILLs + 1 worker lost for good; {records} records; {applied} applied"
        f" (lost {unique - applied}); caught up {caught_up_s:.1f} s after the last post"
    )
    assert tally.acknowledged == len(events)
    assert kills == KILLS, "every planned kill must land while events are posted"
    assert applied == unique, tail(log_path)
    expected = ReadModels()
    expected.fold(events)
    assert await snapshot(db) == expected.snapshot(), "a lost or doubled event changed the rows"
