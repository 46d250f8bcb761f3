"""The subscriber library on real Kafka: typed events, commits, starting points, dead letters."""

import asyncio
import json
from contextlib import aclosing
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from eventlog.subscribe import Delivery, Start, subscribe
from events import CommentPosted, Envelope, Limits, decode_request
from tests.integration.conftest import produce
from threadlog.settings import Settings

AT = datetime(2026, 1, 1, tzinfo=UTC)


def comments(*ids: str) -> list[Envelope]:
    """CommentPosted events on one article (one partition, in order) with these event ids."""
    body = [
        {
            "id": event_id,
            "type": "CommentPosted",
            "data": {"article_id": "a", "comment_id": event_id, "author_id": "u", "body": "hi"},
        }
        for event_id in ids
    ]
    return decode_request(json.dumps(body).encode(), Limits(), now=AT)


async def take(
    settings: Settings,
    count: int,
    *,
    group: str | None,
    start: Start = "earliest",
    dead_letter_topic: str | None = None,
) -> list[Delivery]:
    """The first `count` deliveries of a subscription, which is then closed."""
    got: list[Delivery] = []
    deliveries = subscribe(
        settings.kafka_bootstrap_servers,
        settings.topic,
        group=group,
        start=start,
        dead_letter_topic=dead_letter_topic,
    )
    async with asyncio.timeout(30), aclosing(deliveries):
        async for delivery in deliveries:
            got.append(delivery)
            if len(got) == count:
                break
    return got


async def test_typed_events_in_order_and_poison_dead_lettered(
    settings: Settings, producer: AIOKafkaProducer
) -> None:
    """Events arrive typed and in log order; a record that is not an event goes untouched to the
    dead-letter topic with the dlq headers, and the subscription goes on past it."""
    await produce(producer, settings.topic, comments("e1"))
    await producer.send_and_wait(
        settings.topic, key=b"a", value=b"not json", headers=[("ce_type", b"CommentPosted")]
    )
    await produce(producer, settings.topic, comments("e2"))
    got = await take(settings, 2, group="g1", dead_letter_topic=settings.dlq_topic)
    assert [d.envelope.id for d in got] == ["e1", "e2"]
    assert all(isinstance(d.envelope.data, CommentPosted) for d in got)
    assert got[1].offset == got[0].offset + 2
    consumer = AIOKafkaConsumer(
        settings.dlq_topic,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        record = await asyncio.wait_for(consumer.getone(), 30)
    finally:
        await consumer.stop()
    headers = dict(record.headers)
    assert record.value == b"not json"
    assert headers["threadlog.dlq.stage"] == b"subscribe"
    assert headers["threadlog.dlq.offset"] == str(got[0].offset + 1).encode()


async def test_commit_after_processing_redelivers_what_was_not_finished(
    settings: Settings, producer: AIOKafkaProducer
) -> None:
    """A body that fails on an event ends the subscription; the group's next subscription starts
    at that event (at least once), not before it and not after it."""
    await produce(producer, settings.topic, comments("e1", "e2", "e3", "e4"))
    deliveries = subscribe(settings.kafka_bootstrap_servers, settings.topic, group="g2")
    seen = []

    async def process_until_e3_fails() -> None:
        async with asyncio.timeout(30), aclosing(deliveries):
            async for delivery in deliveries:
                if delivery.envelope.id == "e3":
                    raise RuntimeError("cannot process e3")
                seen.append(delivery.envelope.id)

    with pytest.raises(RuntimeError, match="e3"):
        await process_until_e3_fails()
    assert seen == ["e1", "e2"]
    again = await take(settings, 2, group="g2")
    assert [d.envelope.id for d in again] == ["e3", "e4"]


async def test_starting_points(settings: Settings, producer: AIOKafkaProducer) -> None:
    """`latest` sees only events appended after it started; explicit offsets start there."""
    await produce(producer, settings.topic, comments("old1", "old2"))
    first = (await take(settings, 1, group=None))[0]
    latest = asyncio.create_task(take(settings, 1, group=None, start="latest"))
    await asyncio.sleep(2)  # let it find the end before appending
    await produce(producer, settings.topic, comments("new"))
    assert [d.envelope.id for d in await latest] == ["new"]
    at = await take(settings, 1, group=None, start={first.partition: first.offset + 1})
    assert [d.envelope.id for d in at] == ["old2"]
