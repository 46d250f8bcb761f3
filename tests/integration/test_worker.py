"""The worker on the real Kafka and PostgreSQL: dead letters, refusals, and folding equivalence."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import msgspec
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from bench.workload import mixed_events
from events import (
    ArticlePublished,
    AuthorBanned,
    CommentFlagged,
    CommentPosted,
    Envelope,
    Event,
)
from projections import Policy, Worker, build_projections
from projections.metrics import render
from projections.store import Positioned, apply_batch, snapshot
from projections.threads.fold import ReadModels
from projections.threads.state import Outcome
from tests.integration.conftest import eventually, produce
from tests.strategies import event_logs
from threadlog.settings import Settings


async def read_all(settings: Settings, topic: str, expected: int) -> list[Any]:
    """Every record of `topic`, waiting until `expected` have been read."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=settings.kafka_bootstrap_servers, auto_offset_reset="earliest"
    )
    await consumer.start()
    records: list[Any] = []
    try:
        async with asyncio.timeout(20):
            while len(records) < expected:
                for batch in (await consumer.getmany(timeout_ms=200)).values():
                    records.extend(batch)
    finally:
        await consumer.stop()
    return records


async def applied_offsets(db: asyncpg.Connection[Any], projection: str = "threads") -> int:
    return int(
        await db.fetchval(
            "select coalesce(sum(next_offset), 0) from projection_offsets where projection = $1",
            projection,
        )
    )


async def _parked_as_stored(db: asyncpg.Connection[Any], event_id: str, reason: str) -> Outcome:
    """The event's stored outcome, checked to be `dead_lettered` for `reason` (its start) at the
    time its record was written (the last minute): what the pure fold must park too."""
    row = await db.fetchrow("select * from event_outcomes where event_id = $1", event_id)
    assert row is not None, f"{event_id} has no outcome"
    assert (row["outcome"], row["reason"][: len(reason)]) == ("dead_lettered", reason)
    assert abs((datetime.now(UTC) - row["at"]).total_seconds()) < 60
    return Outcome(**dict(row))


async def test_undecodable_records_go_to_the_dead_letter_topic_and_the_worker_goes_on(
    settings: Settings, worker: Worker, producer: AIOKafkaProducer, db: asyncpg.Connection[Any]
) -> None:
    """Records that are not events are parked whole, with the reason, and later events apply."""
    good_headers = [
        ("ce_specversion", b"1.0"),
        ("ce_id", b"x1"),
        ("ce_type", b"CommentPosted"),
        ("ce_source", b"/t"),
        ("ce_time", b"2024-01-01T00:00:00Z"),
    ]
    await producer.send_and_wait(
        settings.topic, key=b"a1", value=b"{not json", headers=good_headers
    )
    await producer.send_and_wait(settings.topic, key=b"a1", value=b"hello", headers=[])
    events = mixed_events(60, articles=1)
    await produce(producer, settings.topic, events)

    async def applied() -> bool:
        return await applied_offsets(db) == 62

    await eventually(applied, what="all 62 records consumed")
    parked = await read_all(settings, settings.dlq_topic, 2)
    assert [(r.key, r.value) for r in parked] == [(b"a1", b"{not json"), (b"a1", b"hello")]
    headers = dict(parked[0].headers)
    assert headers["ce_id"] == b"x1", "the original headers are kept"
    assert headers["threadlog.dlq.stage"] == b"decode"
    assert headers["threadlog.dlq.error"].startswith(b"data: Malformed JSON")
    assert (headers["threadlog.dlq.topic"], headers["threadlog.dlq.offset"]) == (
        settings.topic.encode(),
        b"0",
    )
    assert worker.dead_lettered_total == 2
    census = asyncio.create_task(worker.count_dead_letters(every_s=0.2))
    try:

        async def counted() -> bool:
            return worker.stats.dead_letters_unresolved == 2

        await eventually(counted, what="the dead-letter census")
    finally:
        census.cancel()
    exposition = render(worker.stats, settings.topic)
    assert "threadlog_dead_letters_unresolved 2" in exposition
    assert worker.stats.oldest_dead_letter_at is not None
    assert "threadlog_dead_letter_oldest_age_seconds " in exposition
    # The record that names an event (x1) marks it dead-lettered; the one without headers cannot.
    expected = ReadModels()
    expected.park(await _parked_as_stored(db, "x1", "decode: data: Malformed JSON"))
    expected.fold(events)
    assert await snapshot(db) == expected.snapshot()


async def test_an_event_postgres_refuses_is_dead_lettered_alone(
    settings: Settings, worker: Worker, producer: AIOKafkaProducer, db: asyncpg.Connection[Any]
) -> None:
    """When Postgres refuses one event of a batch, the batch is retried record by record: the
    refused event is parked with the database's reason, every other event is applied."""
    await db.execute("alter table comments add constraint no_poison check (body <> 'poison')")
    events = mixed_events(40, articles=2, only_posts=True)
    victim = events[20]
    assert victim.type == "CommentPosted"
    poisoned = Envelope(
        id=victim.id,
        type=victim.type,
        source=victim.source,
        time=victim.time,
        data=victim.data.__class__(
            **{
                **{f: getattr(victim.data, f) for f in victim.data.__struct_fields__},
                "body": "poison",
            }
        ),
    )
    events[20] = poisoned
    await produce(producer, settings.topic, events)

    async def applied() -> bool:
        return await applied_offsets(db) == 40

    await eventually(applied, what="all 40 records consumed")
    [parked] = await read_all(settings, settings.dlq_topic, 1)
    headers = dict(parked.headers)
    assert headers["threadlog.dlq.stage"] == b"apply"
    assert b"no_poison" in headers["threadlog.dlq.error"]
    assert headers["ce_id"] == poisoned.id.encode()
    expected = ReadModels()
    expected.fold([e for e in events if e is not poisoned])
    reason = "apply: " + headers["threadlog.dlq.error"].decode()
    expected.park(await _parked_as_stored(db, poisoned.id, reason))
    assert await snapshot(db) == expected.snapshot()


def _partition(event: Envelope) -> int:
    return sum(event.key.encode()) % 3


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@hypothesis_settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(log=event_logs(max_size=40), data=st.data())
def test_postgres_equals_the_pure_fold_for_any_log_and_batching(
    base_settings: Settings, log: list[Envelope], data: st.DataObject
) -> None:
    """Any log of lifecycle events, applied through the Postgres shell in batches of any size
    (including the same records twice, as after a crash), leaves exactly the rows of the
    in-memory fold: loading, folding and writing a window of the state equals folding it all."""
    positioned, counters = [], [0, 0, 0]
    for event in log:
        partition = _partition(event)
        positioned.append(Positioned("t", partition, counters[partition], event))
        counters[partition] += 1
    cuts = sorted(data.draw(st.lists(st.integers(0, len(positioned)), max_size=4)))
    batches = [positioned[a:b] for a, b in zip([0, *cuts], [*cuts, len(positioned)], strict=True)]
    replay = data.draw(st.integers(0, len(batches)))  # re-deliver an already applied batch

    async def run() -> Any:
        conn = await asyncpg.connect(base_settings.database_url)
        try:
            from projections.store import migrate

            # A schema of this run's own: several checkouts may run the suite on one server.
            schema = f"test_property_{uuid.uuid4().hex[:10]}"
            await migrate(conn, schema)
            await conn.execute(f"set search_path to {schema}")
            order = batches[:replay] + batches[max(replay - 1, 0) : replay] + batches[replay:]
            for batch in order:
                if not batch:
                    continue
                next_offsets: dict[tuple[str, int], int] = {}
                for record in batch:
                    next_offsets[(record.topic, record.partition)] = record.offset + 1
                await apply_batch(
                    conn, list(build_projections(Policy()).values()), batch, next_offsets
                )
            rows = await snapshot(conn)
            await conn.execute(f"drop schema {schema} cascade")
            return rows
        finally:
            await conn.close()

    expected = ReadModels()
    expected.fold(log)
    assert asyncio.run(run()) == expected.snapshot()


async def test_a_ban_sweeping_a_comment_keeps_its_counts(base_settings: Settings) -> None:
    """A ban applied after a comment was counted (its reply, its flag) sweeps it from a later
    batch: the swept row is written back with the counts it had, as the pure fold has them."""
    at = datetime(2025, 1, 1, tzinfo=UTC)
    datas: list[tuple[int, Event]] = [
        (0, ArticlePublished(article_id="a", title="T")),
        (10, CommentPosted(article_id="a", comment_id="c1", author_id="ann", body="first")),
        (
            11,
            CommentPosted(
                article_id="a", comment_id="c2", author_id="bob", body="re", parent_id="c1"
            ),
        ),
        (12, CommentFlagged(article_id="a", comment_id="c1", flagger_id="carol", reason="spam")),
        # Posted before the ban arrived, but during it: the ban sweeps c1.
        (5, AuthorBanned(author_id="ann", moderator_id="mod")),
    ]
    log = [
        Envelope(
            id=f"ban-{i}",
            type=type(d).__name__,
            source="/test",
            time=at + timedelta(seconds=s),
            data=d,
        )
        for i, (s, d) in enumerate(datas)
    ]
    conn = await asyncpg.connect(base_settings.database_url)
    try:
        schema = "test_ban_counts"
        await conn.execute(f"drop schema if exists {schema} cascade")
        from projections.store import migrate

        await migrate(conn, schema)
        await conn.execute(f"set search_path to {schema}")
        for offset, batch in ((0, log[:4]), (4, log[4:])):
            records = [Positioned("t", 0, offset + i, e) for i, e in enumerate(batch)]
            projections = list(build_projections(Policy()).values())
            await apply_batch(conn, projections, records, {("t", 0): offset + len(batch)})
        expected = ReadModels()
        expected.fold(log)
        assert await snapshot(conn) == expected.snapshot()
        await conn.execute(f"drop schema {schema} cascade")
    finally:
        await conn.close()


@pytest.mark.parametrize("synchronous", [False, True])
async def test_batches_commit_as_the_synchronous_commit_setting_says(
    settings: Settings, synchronous: bool
) -> None:
    """Off by default: a batch's commit does not wait for its WAL to reach disk (the offsets
    commit with the rows, so a lost batch is applied again); on, it waits, as PostgreSQL's
    default does. Read from the worker's own connections, where its batches commit."""
    worker_settings = msgspec.structs.replace(settings.worker(), synchronous_commit=synchronous)
    assert settings.worker().synchronous_commit is False
    async with Worker(worker_settings) as worker:
        assert worker._pool is not None
        async with worker._pool.acquire() as conn:
            assert await conn.fetchval("show synchronous_commit") == (
                "on" if synchronous else "off"
            )
