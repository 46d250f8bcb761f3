"""The largest record the log takes, and the events of a request that would exceed it.

The broker refuses a record batch over the topic's `max.message.bytes`, and the producer one
over its `max_request_size`. Found only while producing, either would fail a request halfway
through; ingest checks every record against both before it produces anything.
"""

import asyncio
from collections.abc import Sequence
from contextlib import suppress

import msgspec
import structlog
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaError
from aiokafka.record.default_records import DefaultRecordBatchBuilder

from eventlog.connection import Kafka, client_args
from events import Envelope, Problem

log = structlog.get_logger("threadlog.ingest")

BROKER_DEFAULT_MAX_MESSAGE_BYTES = 1_048_588
"""Kafka's default `message.max.bytes`, for a topic whose limit cannot be read."""

Record = tuple[bytes, bytes, list[tuple[str, bytes]]]
"""A record's key, value and headers, as ingest produces it."""


async def topic_max_message_bytes(admin: AIOKafkaAdminClient, topic: str) -> int:
    """The topic's `max.message.bytes` (its own, or the broker's default it inherits)."""
    resource = ConfigResource(ConfigResourceType.TOPIC, topic, {"max.message.bytes": None})
    for response in await admin.describe_configs([resource]):
        for error_code, _message, _type, _name, entries in response.resources:
            if error_code != 0:
                continue
            for name, value, *_ in entries:
                if name == "max.message.bytes" and value is not None:
                    return int(value)
    return BROKER_DEFAULT_MAX_MESSAGE_BYTES


class RecordLimit:
    """The largest record the log takes: the lower of the topic's limit, read from the broker
    at start and again after the broker refused a record for its size (its limit changed), and
    the producer's request size. Until the broker answers, the broker's default."""

    def __init__(self, kafka: Kafka, topic: str, max_request_bytes: int) -> None:
        self._kafka = kafka
        self._topic = topic
        self._max_request_bytes = max_request_bytes
        self.bytes = min(BROKER_DEFAULT_MAX_MESSAGE_BYTES, max_request_bytes)
        self._reading: asyncio.Task[None] | None = None

    def refresh(self) -> None:
        """Read the topic's limit again in the background, unless a read is under way."""
        if self._reading is None or self._reading.done():
            self._reading = asyncio.create_task(self._read())

    async def stop(self) -> None:
        """Stop a read under way."""
        if self._reading is not None:
            self._reading.cancel()
            with suppress(asyncio.CancelledError):
                await self._reading

    async def _read(self) -> None:
        delay = 0.2
        while True:
            admin = AIOKafkaAdminClient(**client_args(self._kafka))
            try:
                await admin.start()
                topic_limit = await topic_max_message_bytes(admin, self._topic)
            except KafkaError as error:
                log.warning("could not read the topic's record size limit", error=repr(error))
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            finally:
                await admin.close()
            self.bytes = min(topic_limit, self._max_request_bytes)
            log.info("record size limit", topic=self._topic, bytes=self.bytes)
            return


def record_bytes(record: Record) -> int:
    """An upper bound of the record's size in a batch of its own: key, value, headers and the
    batch and record overhead (the estimate the producer itself checks against)."""
    key, value, headers = record
    size: int = DefaultRecordBatchBuilder.estimate_size_in_bytes(key, value, headers)
    return size


def _largest_field(envelope: Envelope) -> str:
    """The data field that weighs most in the record: the one to shorten."""
    sizes = {
        name: len(msgspec.json.encode(getattr(envelope.data, name)))
        for name in envelope.data.__struct_fields__
    }
    return f"data.{max(sizes, key=lambda name: sizes[name])}" if sizes else "data"


def oversized(
    envelopes: Sequence[Envelope], records: Sequence[Record], limit: int
) -> list[Problem]:
    """A problem for each event whose record is over `limit` bytes, naming its largest field."""
    return [
        Problem(
            index,
            _largest_field(envelope),
            f"The event's Kafka record would be {size:,} bytes, over the log's record size"
            f" limit of {limit:,} bytes; shorten this field",
        )
        for index, (envelope, record) in enumerate(zip(envelopes, records, strict=True))
        if (size := record_bytes(record)) > limit
    ]
