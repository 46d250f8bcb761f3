"""A transaction's records as record batches built here, one (or, past the record size limit,
a few) per partition, handed to aiokafka whole with `send_batch`.

Why: `AIOKafkaProducer.send` costs per record (metadata lookups, Python murmur2, a future
each), and its batches of at most `max_batch_size` (16 KB by default) made a group's send
wait for the broker whenever one partition's batch filled: a group of 400 records spent 30 ms
sending. Here the partition of a key is cached, records go straight into the batch builder,
and all of a group's batches leave in one produce request.

Kafka gives a batch's records consecutive offsets from the batch's base offset, in the order
they were appended, so each record's offset is its batch's base plus its place in the batch.
The partition of a key is the one `send` would pick (aiokafka's DefaultPartitioner: murmur2 of
the key over the partitions sorted by id), so a thread's events share a partition whichever
path (this one, or the single-record producer's `send`) appended them.
"""

import asyncio
from collections.abc import Sequence
from functools import lru_cache

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import murmur2
from aiokafka.structs import RecordMetadata

from services.ingest.record_size import Record, record_bytes


@lru_cache(maxsize=65_536)
def _key_hash(key: bytes) -> int:
    """murmur2 of the key as Kafka's default partitioner takes it (positive): pure Python in
    aiokafka, and keys (article ids) repeat."""
    return int(murmur2(key)) & 0x7FFFFFFF


def partition_of(key: bytes, partitions: Sequence[int]) -> int:
    """The partition `AIOKafkaProducer.send` picks for `key` among `partitions` (sorted)."""
    return partitions[_key_hash(key) % len(partitions)]


class _Batch:
    """One record batch for one partition, and its size so far as the broker will weigh it."""

    def __init__(self, producer: AIOKafkaProducer, partition: int) -> None:
        self.partition = partition
        self.builder = producer.create_batch()
        self.bytes = 0
        self.count = 0


async def send_in_batches(
    producer: AIOKafkaProducer, topic: str, records: Sequence[Record], max_batch_bytes: int
) -> list[RecordMetadata]:
    """Send `records` (inside the producer's open transaction), each batch at most
    `max_batch_bytes` (the log's record size limit, which is also the broker's limit on a
    batch) unless one record alone is that large; every record's metadata, in order, once
    the broker acknowledged all of them. Raises what the broker or aiokafka raised."""
    partitions = sorted(await producer.partitions_for(topic))
    open_batches: dict[int, _Batch] = {}
    batches: list[_Batch] = []
    placed: list[tuple[_Batch, int]] = []
    for record in records:
        key, value, headers = record
        partition = partition_of(key, partitions)
        size = record_bytes(record)
        batch = open_batches.get(partition)
        if batch is None or (batch.count and batch.bytes + size > max_batch_bytes):
            batch = open_batches[partition] = _Batch(producer, partition)
            batches.append(batch)
        metadata = batch.builder.append(timestamp=None, key=key, value=value, headers=headers)
        if metadata is None:  # full by aiokafka's own measure: start another
            batch = open_batches[partition] = _Batch(producer, partition)
            batches.append(batch)
            metadata = batch.builder.append(timestamp=None, key=key, value=value, headers=headers)
        placed.append((batch, metadata.offset))
        batch.bytes += size
        batch.count += 1
    # Batches in the order they were opened: a partition's first batches all leave before any
    # partition's second (which waits for its first to be drained).
    sent = {
        id(batch): await producer.send_batch(batch.builder, topic, partition=batch.partition)
        for batch in batches
    }
    answers = await asyncio.gather(*sent.values(), return_exceptions=True)
    for answer in answers:
        if isinstance(answer, BaseException):
            raise answer
    bases = dict(zip(sent, answers, strict=True))
    return [_at(bases[id(batch)], relative) for batch, relative in placed]


def _at(base: RecordMetadata, relative: int) -> RecordMetadata:
    """The metadata of the record `relative` places after its batch's first."""
    return RecordMetadata(
        base.topic,
        base.partition,
        base.topic_partition,
        base.offset + relative,
        base.timestamp,
        base.timestamp_type,
        base.log_start_offset,
    )
