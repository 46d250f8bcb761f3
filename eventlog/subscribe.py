"""A subscriber library: `async for delivery in subscribe(...)` yields typed events from the log.

    async with aclosing(subscribe(servers, "threadlog.events", group="mailer",
                                  dead_letter_topic="threadlog.events.dlq")) as deliveries:
        async for delivery in deliveries:
            match delivery.envelope.data:
                case CommentPosted(parent_id=parent) if parent: ...

- **At least once.** With a `group`, offsets are committed only for events the loop has finished:
  an event counts as processed when the loop asks for the next one, and offsets are committed
  once per poll batch and when the loop ends. A crash re-delivers what was not committed, so make
  processing idempotent (each event's `id` is its idempotency key).
- **Starting point.** With a group, Kafka's committed offset wins; `start` ("earliest" or
  "latest") applies to partitions the group never committed. Without a group nothing is
  committed, and `start` may also be a {partition: offset} map (e.g. from a position token).
- **Sealed fields.** Personal fields are sealed under their owner's key (events/sealing.py).
  Pass `keys` (e.g. `KeyStore(settings.key_store()).opening_keys` from subject_keys/, for a
  consumer granted the key store) to read them: the batch's keys are loaded in one call, and a
  destroyed key reads as the erased placeholder. Without `keys`, every sealed field reads as
  `[sealed]` (optional ones as absent): ids and ciphertext only. While `keys` raises, the
  subscription waits and retries the batch; a key the store lacks dead-letters the record.
  On `AuthorErased`, a consumer purges its own copies of the author's data.
- **Dead letters.** A record that is not a valid event (or is a version newer than this code) is
  copied untouched to `dead_letter_topic` with `threadlog.dlq.*` headers and skipped; without a
  dead-letter topic it is logged and skipped. An exception raised by the loop's body is not
  caught: it ends the subscription without committing the event being processed.

This is the one module of `events` that does I/O (aiokafka); the rest of the contract stays pure.
"""

import asyncio
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Literal, NamedTuple

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError
from aiokafka.structs import ConsumerRecord

from eventlog.connection import Kafka, client_args, start_client
from eventlog.dead_letters import dead_letter_headers
from eventlog.position import Position
from eventlog.reading import READ_COMMITTED
from events.codec import decode_record
from events.envelope import Envelope
from events.problems import UndecodableRecord
from events.sealing import KeyMissing, OpenKeys, sealed_kids

# The standard library's logger: events must not depend on the app's logging setup (structlog
# configured by threadlog.logs renders it like every other line).
log = logging.getLogger("threadlog.subscribe")

Start = Literal["earliest", "latest"] | Mapping[int, int]
"""Where to begin: the oldest event, only new ones, or given offsets per partition."""


KeyLoader = Callable[[Iterable[str]], Awaitable[OpenKeys]]
"""Loads data keys by key id (None for a destroyed one), leaving out ids it does not hold."""


async def _load_keys(keys: KeyLoader | None, records: Iterable[ConsumerRecord]) -> OpenKeys | None:
    if keys is None:
        return None
    kids = {kid for record in records for kid in sealed_kids(record.headers)}
    if not kids:
        return {}
    delay = 0.2
    while True:
        try:
            return await keys(kids)
        except Exception as error:  # the loader's faults are transient: never read as erased
            log.warning("cannot load data keys; retrying in %.1f s: %r", delay, error)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)


class Delivery(NamedTuple):
    """One event from the log, with where it sits."""

    envelope: Envelope
    topic: str
    partition: int
    offset: int

    @property
    def position(self) -> Position:
        """The event's position (its token is what ingest answered for it)."""
        return Position(self.partition, self.offset)


async def _seek_all(consumer: AIOKafkaConsumer, topic: str, start: Start) -> None:
    # Without a group aiokafka assigns every partition of the topic once it has the metadata.
    for _ in range(200):
        assigned = sorted(consumer.assignment(), key=lambda tp: tp.partition)
        if assigned:
            break
        await asyncio.sleep(0.05)
    else:
        raise RuntimeError(f"topic {topic!r} has no partitions; `threadlog init` creates it")
    if start == "earliest":
        await consumer.seek_to_beginning(*assigned)
    elif start == "latest":
        await consumer.seek_to_end(*assigned)
    else:
        await consumer.seek_to_beginning(*[tp for tp in assigned if tp.partition not in start])
        for tp in assigned:
            if tp.partition in start:
                consumer.seek(tp, start[tp.partition])


async def _commit(consumer: AIOKafkaConsumer, done: dict[TopicPartition, int]) -> None:
    if not done:
        return
    try:
        await consumer.commit(dict(done))
    except (CommitFailedError, IllegalStateError) as error:
        # A rebalance took the partitions away: their new owner re-delivers from the last commit,
        # which is what at-least-once promises.
        log.warning("commit refused after a rebalance; events will be re-delivered: %r", error)
    done.clear()


async def subscribe(
    kafka: Kafka,
    topic: str,
    *,
    group: str | None = None,
    start: Start = "earliest",
    dead_letter_topic: str | None = None,
    max_batch: int = 500,
    poll_timeout_ms: int = 200,
    keys: KeyLoader | None = None,
) -> AsyncGenerator[Delivery, None]:
    """Yield every event of `topic`, in log order within each partition (see the module doc)."""
    if group is not None and not isinstance(start, str):
        raise ValueError("explicit offsets need group=None: a group resumes from its commits")
    consumer = AIOKafkaConsumer(
        topic,
        **client_args(kafka),
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset=start if isinstance(start, str) else "earliest",
        isolation_level=READ_COMMITTED,
    )
    producer = AIOKafkaProducer(**client_args(kafka), acks="all") if dead_letter_topic else None
    await start_client(consumer, kafka)
    done: dict[TopicPartition, int] = {}
    try:
        if producer is not None:
            await start_client(producer, kafka)
        if group is None:
            await _seek_all(consumer, topic, start)
        while True:
            batches = await consumer.getmany(timeout_ms=poll_timeout_ms, max_records=max_batch)
            opened = await _load_keys(keys, (r for rs in batches.values() for r in rs))
            for tp, records in batches.items():
                for record in records:
                    try:
                        envelope = decode_record(record.headers, record.value, opened)
                    except (UndecodableRecord, KeyMissing) as error:
                        await _dead_letter(producer, dead_letter_topic, record, str(error))
                    else:
                        yield Delivery(envelope, tp.topic, tp.partition, record.offset)
                    # Reached only once the loop asked for the next event: this one is done.
                    done[tp] = record.offset + 1
            if group is not None:
                await _commit(consumer, done)
    finally:
        try:
            if group is not None:
                await _commit(consumer, done)
        finally:
            await consumer.stop()
            if producer is not None:
                await producer.stop()


async def _dead_letter(
    producer: AIOKafkaProducer | None,
    topic: str | None,
    record: ConsumerRecord,
    error: str,
) -> None:
    if producer is None or topic is None:
        where = f"{record.topic}:{record.partition}:{record.offset}"
        log.warning("skipped an undecodable record at %s: %s", where, error)
        return
    headers = dead_letter_headers(
        list(record.headers),
        stage="subscribe",
        error=error,
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        at=datetime.now(UTC),
    )
    await producer.send_and_wait(topic, key=record.key, value=record.value, headers=headers)
    where = f"{record.topic}:{record.partition}:{record.offset}"
    log.warning("dead-lettered a record at %s: %s", where, error)
