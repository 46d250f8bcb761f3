"""A request is appended whole or not at all: what the broker would refuse is refused before
anything is produced, and what the broker refuses mid-request leaves nothing a reader sees."""

from __future__ import annotations

import socket
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import MessageSizeTooLargeError
from litestar.testing import AsyncTestClient

from projections import Worker
from tests.integration.conftest import committed_values, eventually
from threadlog.log_end import caught_up_total
from threadlog.settings import Settings

Client = AsyncTestClient[Any]


def published(event_id: str, article_id: str, body: str = "An article.") -> dict[str, Any]:
    """An ArticlePublished with a body of the given text."""
    return {
        "id": event_id,
        "type": "ArticlePublished",
        "data": {"article_id": article_id, "title": article_id, "body": body},
    }


async def committed_records(settings: Settings) -> list[tuple[int, int]]:
    """(partition, offset) of every record of the test's topic a read_committed reader sees."""
    return list(await committed_values(settings))


async def all_records(settings: Settings) -> int:
    """How many offsets the test's topic holds, committed, aborted or control records alike."""
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers)
    await consumer.start()
    try:
        tps = [TopicPartition(settings.topic, p) for p in range(settings.topic_partitions)]
        return sum((await consumer.end_offsets(tps)).values())
    finally:
        await consumer.stop()


async def committed_end(settings: Settings) -> int:
    """The sum over partitions of where a reader that applied every committed record stands."""
    return await caught_up_total(
        settings.kafka_bootstrap_servers, settings.topic, settings.topic_partitions
    )


async def set_max_message_bytes(settings: Settings, value: int) -> None:
    """Change the topic's record size limit on the broker, as an operator would."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        resource = ConfigResource(
            ConfigResourceType.TOPIC, settings.topic, {"max.message.bytes": str(value)}
        )
        [response] = await admin.alter_configs([resource])
        assert all(error == 0 for error, *_ in response.resources), response
    finally:
        await admin.close()
    # The broker applies a topic's new config to its partitions a moment after it answers. The
    # probe is a transaction, aborted whatever happens: a read_committed reader never sees it.
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        transactional_id=f"{settings.topic}-probe",
    )
    await producer.start()
    try:

        async def refused() -> bool:
            await producer.begin_transaction()
            try:
                await (await producer.send(settings.topic, value=b"x" * value, partition=0))
            except MessageSizeTooLargeError:
                return True
            finally:
                await producer.abort_transaction()
            return False

        await eventually(refused, what="the broker to apply the lowered limit")
    finally:
        await producer.stop()


async def test_a_record_over_the_topic_limit_is_refused_before_anything_is_appended(
    ingest: Client, settings: Settings
) -> None:
    """An event whose record exceeds the topic's record size limit (here a 200,000-character
    body of U+0001, 1.2 MB as JSON) gets a 422 naming its index and field, and the valid event
    before it in the same request is not appended: nothing reaches the topic at all."""
    body = "\u0001" * 200_000
    response = await ingest.post(
        "/v1/events", json=[published("small", "a-small"), published("big", "a-big", body)]
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_events"
    [detail] = error["details"]
    assert (detail["index"], detail["field"]) == (1, "data.body")
    assert "record size limit" in detail["message"], detail
    assert await all_records(settings) == 0


async def test_a_record_the_broker_refuses_mid_request_leaves_nothing_visible_or_applied(
    ingest: Client,
    query: Client,
    settings: Settings,
    worker: Worker,
    db: asyncpg.Connection[Any],
) -> None:
    """When the broker refuses the second record of a request after the first was sent (its
    limit was lowered after ingest read it), the answer is 503, a read_committed reader sees
    none of the request, the worker applies none of it, and the next request is appended."""
    # Ingest read the limit when it connected; lowering it now makes the broker the one to refuse.
    await set_max_message_bytes(settings, 4_000)
    response = await ingest.post(
        "/v1/events",
        json=[published("first", "a-first"), published("second", "a-second", "x" * 8_000)],
    )
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "kafka_unavailable"
    assert await all_records(settings) > 0, "the first record must have reached the broker"
    assert await committed_records(settings) == []

    after = await ingest.post("/v1/events", json=[published("later", "a-later")])
    assert after.status_code == 202, after.text

    async def later_applied() -> bool:
        status = (await query.get("/v1/events/later")).json()
        return bool(status["status"] == "applied")

    await eventually(later_applied, what="the worker to apply the next request")
    assert (await query.get("/v1/events/first")).json()["status"] == "pending"
    assert (await query.get("/v1/articles/a-first/thread")).status_code == 404
    [(partition, offset)] = await committed_records(settings)
    assert after.json()["accepted"][0]["position"] == f"{partition}:{offset}"
    # The worker stands one past the last committed record, short of the end offsets (which
    # count the aborted records and the markers): "caught up" is measured against the former.
    stored = await db.fetchval(
        "select coalesce(sum(next_offset), 0) from projection_offsets where projection = 'threads'"
    )
    assert stored == await committed_end(settings) == offset + 1 < await all_records(settings)


async def test_the_refused_limit_is_learnt_for_the_next_request(
    ingest: Client, settings: Settings
) -> None:
    """After the broker refused a record for its size, ingest reads the topic's limit again,
    so the same request posted again gets a 422 naming the field instead of another 503."""
    await set_max_message_bytes(settings, 4_000)
    events = [published("one", "a-one"), published("two", "a-two", "x" * 8_000)]
    assert (await ingest.post("/v1/events", json=events)).status_code == 503

    async def refused_whole() -> bool:
        response = await ingest.post("/v1/events", json=events)
        return response.status_code == 422

    await eventually(refused_whole, what="ingest to learn the lowered limit", timeout_s=10)
    [detail] = (await ingest.post("/v1/events", json=events)).json()["error"]["details"]
    assert (detail["index"], detail["field"]) == (1, "data.body")
    assert await committed_records(settings) == []


async def test_a_fenced_producer_is_replaced_and_ingest_appends_again(
    ingest: Client, settings: Settings
) -> None:
    """When another producer starts under ingest's transactional ids (a restarted process under
    the same name fences its zombie this way), ingest's requests get 503, never a 500 and never
    a 202 for a request that was not committed, and ingest replaces its producers by itself."""
    host = socket.gethostname()
    for lane in range(settings.ingest_producers):
        intruder = AIOKafkaProducer(
            bootstrap_servers=settings.kafka_bootstrap_servers,
            transactional_id=f"threadlog-ingest.{settings.topic}.{host}.0.{lane}",
        )
        await intruder.start()
        try:
            await intruder.begin_transaction()
            await intruder.abort_transaction()
        finally:
            await intruder.stop()
    answers: list[int] = []

    async def appended() -> bool:
        # Two events: a request of one goes through a producer of its own, outside transactions.
        n = len(answers)
        events = [published(f"e{n}", "a-first"), published(f"f{n}", "a-second")]
        response = await ingest.post("/v1/events", json=events)
        answers.append(response.status_code)
        return response.status_code == 202

    await eventually(appended, what="ingest to append again after being fenced")
    assert set(answers[:-1]) <= {503}, answers
    assert len(await committed_records(settings)) == 2
