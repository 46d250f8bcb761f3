"""Where the log ends, so that a read never waits for a position the log does not hold.

A position past a partition's end (or on a partition the topic lacks) can only be a forged or
mistyped token: ingest hands out positions only after Kafka acknowledged them with acks=all,
which is when the high watermark passes them. Waiting for it would hold a reader, and a slot of
the waits' pool, for the whole bounded wait. The ends are asked of Kafka only for a position not
applied yet and past the ends last seen; concurrent askers share one round trip.
"""

import asyncio
import time
from contextlib import suppress

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from eventlog.connection import Kafka, client_args
from eventlog.position import Position

log = structlog.get_logger("threadlog.query.log_end")


class LogEnd:
    """The end offset of each partition of one topic, refreshed on demand."""

    def __init__(self, kafka: Kafka, topic: str, timeout_s: float = 2.0) -> None:
        self._kafka = kafka
        self._topic = topic
        self._timeout_s = timeout_s
        self._consumer: AIOKafkaConsumer | None = None
        self._ends: dict[int, int] = {}
        self._asked_at = -1.0
        self._lock = asyncio.Lock()

    def _within(self, position: Position) -> bool:
        return self._ends.get(position.partition, 0) > position.offset

    async def beyond(self, wanted: list[Position]) -> list[Position]:
        """The positions the log does not hold; empty when Kafka cannot be asked (then a
        wait decides, bounded as ever)."""
        if all(map(self._within, wanted)):
            return []
        since = time.monotonic()
        async with self._lock:
            if self._asked_at < since:  # nobody asked after this reader arrived: ask now
                try:
                    async with asyncio.timeout(self._timeout_s):
                        await self._refresh()
                except (KafkaError, OSError, TimeoutError) as error:
                    log.warning("cannot read the log's end; waiting instead", error=repr(error))
                    return []
        return [position for position in wanted if not self._within(position)]

    async def _refresh(self) -> None:
        asked_at = time.monotonic()
        if self._consumer is None:
            consumer = AIOKafkaConsumer(
                **client_args(self._kafka), group_id=None, enable_auto_commit=False
            )
            await consumer.start()
            self._consumer = consumer
        # The consumer's own view covers subscribed topics only; ask for every topic's metadata.
        cluster = await self._consumer._client.fetch_all_metadata()
        found = cluster.partitions_for_topic(self._topic) or set()
        ends = await self._consumer.end_offsets([TopicPartition(self._topic, p) for p in found])
        self._ends = {tp.partition: offset for tp, offset in ends.items()}
        self._asked_at = asked_at

    async def stop(self) -> None:
        """Close the Kafka connection, if one was made."""
        if self._consumer is not None:
            with suppress(KafkaError, OSError):
                await self._consumer.stop()
            self._consumer = None
