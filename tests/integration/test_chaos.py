"""Faults under load: workers SIGKILLed at random while a load generator posts through the ingest
API, with bans, unbans, closes, edits and deletions in the mix; at the end every acknowledged
event is in the read models exactly once, and the rows equal the pure fold of the log.

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
from aiokafka.admin import AIOKafkaAdminClient
from litestar.testing import AsyncTestClient

from bench.workload import mixed_events
from projections.verify import verify
from services.ingest import create_app as create_ingest_app
from tests.integration.apply_times import (
    DRAINED_AFTER_S,
    Applied,
    Load,
    applied_times,
    event_figures,
    ms,
    spread,
    write_report,
)
from tests.integration.conftest import MakeKey, committed_end, eventually
from tests.integration.test_crash import start_worker, tail
from threadlog.settings import Settings
from threadlog.topics import ensure_topics

EVENTS = int(os.environ.get("THREADLOG_CHAOS_EVENTS", "6000"))
KILLS = int(os.environ.get("THREADLOG_CHAOS_KILLS", "5"))
RATE = float(os.environ.get("THREADLOG_CHAOS_RATE", "1000"))
"""Events per second the load generator posts: a steady stream, so kills land mid-stream."""
BATCH = 50


async def group_stable(settings: Settings, members: int) -> bool:
    """Whether the workers' group is Stable with `members` members: all joined and assigned."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        (response,) = await admin.describe_consumer_groups([settings.consumer_group])
        (group,) = response.to_object()["groups"]
    finally:
        await admin.close()
    return bool(group["state"] == "Stable" and len(group["members"]) == members)


async def test_random_sigkills_of_three_workers_lose_and_double_nothing(
    settings: Settings, make_key: MakeKey, db: asyncpg.Connection[Any], tmp_path: Any
) -> None:
    """Three workers share the group over 12 partitions while events are posted through ingest;
    one is killed for good halfway, the others are SIGKILLed at random moments and restarted.
    Every acknowledged event is applied exactly once: the read models equal the pure fold.
    Reports how long each event waited to be applied and how long each kill took to recover."""
    settings = msgspec.structs.replace(
        settings,
        topic=settings.topic + ".chaos",
        dlq_topic=settings.dlq_topic + ".chaos",
        topic_partitions=12,
    )
    await ensure_topics(settings)
    # Bans, unbans, closes, edits, deletions and decisions too: the rules whose outcome could
    # depend on how the three workers interleave the partitions.
    events = mixed_events(EVENTS, moderation=True, authors=100)
    key = await make_key("chaos-load", ["produce", "moderate"])
    log_path = str(tmp_path / "workers.log")
    rng = random.Random(11)
    # Static membership, as a deployment names its workers: a worker restarted under its name
    # takes its partitions back at once; the one lost for good waits out the session timeout.
    names = [f"chaos-{settings.consumer_group}-{i}" for i in range(3)]
    workers = [start_worker(settings, log_path, name) for name in names]
    kills: list[float] = []
    lost_worker_at: float | None = None
    load = Load(events, rate=RATE, batch=BATCH, retry_s=0.2)
    # Waits measure the faults, not the workers' start.
    await eventually(
        lambda: group_stable(settings, 3), what="the three workers to join the group", timeout_s=90
    )
    began = time.time()
    started = time.monotonic()
    crashes: list[dict[str, float | int | None]] = []

    def exited_by_itself(i: int) -> None:
        """A worker that exits unasked is a bug: note it, and restart it as a supervisor would."""
        crashes.append({"at_s": ms(time.time() - began), "returncode": workers[i].returncode})
        workers[i] = start_worker(settings, log_path, names[i])

    async with AsyncTestClient(create_ingest_app(settings.ingest())) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        posting = asyncio.create_task(load.run(client))
        duration = len(events) / RATE
        moments = sorted(rng.uniform(0.05, 0.95) * duration for _ in range(KILLS))
        try:
            for at in [*moments[: KILLS // 2], duration / 2, *moments[KILLS // 2 :]]:
                while not posting.done() and time.monotonic() < started + at:
                    wait_s = min(0.5, max(0.0, started + at - time.monotonic()))
                    await asyncio.wait({posting}, timeout=wait_s)
                    for i in range(2 if lost_worker_at else 3):
                        if workers[i].poll() is not None:
                            exited_by_itself(i)
                if posting.done():
                    break
                if at == duration / 2:
                    # For good: the group must move its partitions to the two others.
                    lost_worker_at = time.time()
                    workers[2].send_signal(signal.SIGKILL)
                    await asyncio.to_thread(workers[2].wait)
                    continue
                victim = rng.randrange(2)
                kills.append(time.time())
                workers[victim].send_signal(signal.SIGKILL)
                await asyncio.to_thread(workers[victim].wait)
                if workers[victim].returncode != -signal.SIGKILL:
                    exited_by_itself(victim)  # before the signal came: one more restart
                else:
                    workers[victim] = start_worker(settings, log_path, names[victim])
            await posting
        finally:
            if not posting.done():
                posting.cancel()
    posted_s = time.monotonic() - started
    records = await committed_end(settings)

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
        for worker in workers[:2]:
            if worker.poll() is not None:
                crashes.append({"at_s": None, "returncode": worker.returncode})
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
        for worker in workers:
            try:
                await asyncio.to_thread(worker.wait, 15)
            except subprocess.TimeoutExpired:
                worker.kill()
    caught_up_s = time.monotonic() - started - posted_s
    applied = Applied(load.acks, await applied_times(db, settings.pg_schema))
    count = int(
        await db.fetchval("select count(*) from applied_events where projection = 'threads'")
    )
    unique = len({event.id for event in events})
    # The pure fold of the log as written: ingest stamped each event with its own clock, which
    # the rules go by, so the fold reads the records back rather than the events posted.
    verdict = await verify(settings.worker(), db, "threads")
    equal = not verdict.differences
    bound = round(RATE * DRAINED_AFTER_S)
    faults = [*kills, *([lost_worker_at] if lost_worker_at else [])]
    per_kill = [
        {
            "at_s": ms(at - began),
            **applied.recovery(at, bound),
            "isolated": applied.isolated(at, faults),
        }
        for at in kills
    ]
    alone = [kill for kill in per_kill if kill["isolated"]]
    write_report(
        "chaos",
        {
            "events": event_figures(load, applied, count, equal),
            "wait_s": applied.wait_figures(),
            "sigkills": {
                "count": len(kills),
                **{
                    figure: spread(kill[figure] for kill in per_kill)
                    for figure in ("first_applied_s", "resumed_s", "drained_s")
                },
                "isolated": {
                    "count": len(alone),
                    "resumed_s": spread(kill["resumed_s"] for kill in alone),
                    "drained_s": spread(kill["drained_s"] for kill in alone),
                },
                "each": per_kill,
            },
            "workers_exited_by_themselves": crashes,
            "lost_worker": None
            if lost_worker_at is None
            else {"at_s": ms(lost_worker_at - began), **applied.recovery(lost_worker_at, bound)},
            "drained_means": f"at most {bound} events acknowledged and not applied",
            "run": {
                "rate_per_s": RATE,
                "records": records,
                "posted_s": ms(posted_s),
                "caught_up_after_last_post_s": ms(caught_up_s),
            },
        },
    )
    waits = applied.wait_figures()
    print(
        f"chaos: {len(events)} events posted ({unique} distinct ids) in {posted_s:.1f} s,"
        f" {len(load.acks)} acknowledged, {count} applied, lost {len(applied.lost)};"
        f" {len(kills)} SIGKILLs + 1 worker lost for good; wait max {waits['max']} s,"
        f" p50 {waits['p50']} s, p99 {waits['p99']} s; caught up {caught_up_s:.1f} s after"
        " the last post"
    )
    assert load.acknowledged == len(events)
    assert len(load.acks) == unique
    assert len(kills) == KILLS, "every planned kill must land while events are posted"
    assert not crashes, f"workers exited unasked: {crashes}\n{tail(log_path)}"
    assert not applied.lost, f"acknowledged, never applied: {applied.lost[:5]}"
    assert count == unique, tail(log_path)
    assert len(applied.waits) == unique, "every acknowledged event has its applied_at"
    # Every event posted was read back once (retried requests were refused whole, aborted).
    assert verdict.events == len(events), "the fold read every posted event from the log"
    assert equal, f"the rows differ from the pure fold: {verdict.differences[:5]}"
