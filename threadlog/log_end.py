"""Where a reader that has applied the whole log stands: not at the log's end offset.

Ingest appends in Kafka transactions, and each transaction leaves a marker record in every
partition it wrote to (an aborted one leaves its records too). Readers are never handed
either, so a worker that applied everything stores, as its next offset, one past the last
committed record, while the partition's end offset lies past the markers. "Caught up" compares
the stored offsets with these ends, never with the end offsets.
"""

from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, TopicPartition

from eventlog.connection import Kafka, client_args, start_client
from eventlog.reading import READ_COMMITTED

_FIRST_WINDOW = 16
"""Offsets read back from the end at first: a marker or two, unless requests were aborted."""


async def committed_ends(
    consumer: AIOKafkaConsumer, tps: Sequence[TopicPartition]
) -> dict[TopicPartition, int]:
    """Per partition, one past its last committed record (0 when it has none).

    `consumer` must read committed records only (`eventlog.reading.READ_COMMITTED`); its
    assignment is replaced. Reads back from the end in growing windows, so it costs a fetch or
    two per partition however long the log."""
    ends = await consumer.end_offsets(list(tps))
    beginnings = await consumer.beginning_offsets(list(tps))
    found = {tp: 0 for tp in tps}
    todo = [tp for tp in tps if ends[tp] > beginnings[tp]]
    window = _FIRST_WINDOW
    while todo:
        starts = {tp: max(beginnings[tp], ends[tp] - window) for tp in todo}
        last = await _last_committed(consumer, starts, ends)
        for tp, offset in last.items():
            found[tp] = offset + 1
        # A window reaching back to the beginning has seen all there is.
        todo = [tp for tp in todo if tp not in last and starts[tp] > beginnings[tp]]
        window *= 8
    return found


async def caught_up_total(kafka: Kafka, topic: str, partitions: int) -> int:
    """The sum of the stored next offsets of a reader that applied every committed record of
    `topic` (its partitions 0 to `partitions` - 1) by now."""
    consumer = AIOKafkaConsumer(**client_args(kafka), isolation_level=READ_COMMITTED)
    await start_client(consumer, kafka)
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        return sum((await committed_ends(consumer, tps)).values())
    finally:
        await consumer.stop()


async def _last_committed(
    consumer: AIOKafkaConsumer,
    starts: dict[TopicPartition, int],
    ends: dict[TopicPartition, int],
) -> dict[TopicPartition, int]:
    """The offset of the last committed record between each start and end, where there is one."""
    consumer.assign(list(starts))
    for tp, start in starts.items():
        consumer.seek(tp, start)
    last: dict[TopicPartition, int] = {}
    remaining = set(starts)
    while remaining:
        batches = await consumer.getmany(*remaining, timeout_ms=500)
        for tp, records in batches.items():
            for record in records:
                if record.offset < ends[tp]:
                    last[tp] = record.offset
        remaining = {tp for tp in remaining if await consumer.position(tp) < ends[tp]}
    return last
