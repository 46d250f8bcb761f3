"""Reading a stretch of the log outside any consumer group: for verify, replay and the DLQ."""

from collections.abc import AsyncIterator, Mapping

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import ConsumerRecord

from eventlog.connection import Kafka, client_args, start_client
from eventlog.reading import READ_COMMITTED


async def partitions(consumer: AIOKafkaConsumer, topic: str) -> list[TopicPartition]:
    """Every partition of `topic`, from fresh metadata."""
    # The consumer's own cluster view only covers subscribed topics; ask for all of them.
    cluster = await consumer._client.fetch_all_metadata()
    found = cluster.partitions_for_topic(topic)
    if not found:
        raise LookupError(f"topic {topic} not found; `threadlog init` creates it")
    return [TopicPartition(topic, p) for p in sorted(found)]


async def read_range(
    kafka: Kafka,
    topic: str,
    start: Mapping[int, int] | None = None,
    until: Mapping[int, int] | None = None,
) -> AsyncIterator[ConsumerRecord]:
    """Records of `topic` from `start` (default: the beginning) up to `until` (default: the end
    at the time of the call), partition by partition's order, one batch at a time."""
    consumer = AIOKafkaConsumer(
        **client_args(kafka),
        enable_auto_commit=False,
        group_id=None,
        isolation_level=READ_COMMITTED,
    )
    await start_client(consumer, kafka)
    try:
        tps = await partitions(consumer, topic)
        ends = await consumer.end_offsets(tps)
        stop = {tp: min(ends[tp], (until or {}).get(tp.partition, ends[tp])) for tp in tps}
        beginnings = await consumer.beginning_offsets(tps)
        todo = [tp for tp in tps if (start or {}).get(tp.partition, 0) < stop[tp]]
        if not todo:
            return
        consumer.assign(todo)
        for tp in todo:
            consumer.seek(tp, max((start or {}).get(tp.partition, 0), beginnings[tp]))
        remaining = {tp for tp in todo if consumer.assignment() and stop[tp] > beginnings[tp]}
        while remaining:
            batches = await consumer.getmany(*remaining, timeout_ms=1000, max_records=5000)
            for tp, records in batches.items():
                for record in records:
                    if record.offset < stop[tp]:
                        yield record
                if records and records[-1].offset + 1 >= stop[tp]:
                    remaining.discard(tp)
            for tp in list(remaining):
                if await consumer.position(tp) >= stop[tp]:
                    remaining.discard(tp)
    finally:
        await consumer.stop()
