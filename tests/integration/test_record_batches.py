"""A transaction's records sent as batches built by ingest land where their metadata says."""

import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from eventlog.reading import READ_COMMITTED
from services.ingest.record_batches import send_in_batches
from services.ingest.record_size import Record
from tests.integration.test_atomic_append import committed_records
from threadlog.settings import Settings


async def _values_at(settings: Settings, places: list[tuple[int, int]]) -> list[bytes]:
    """The value of the record at each (partition, offset), read committed."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        enable_auto_commit=False,
        isolation_level=READ_COMMITTED,
    )
    await consumer.start()
    try:
        consumer.assign(
            [TopicPartition(settings.topic, p) for p in range(settings.topic_partitions)]
        )
        values = []
        for partition, offset in places:
            tp = TopicPartition(settings.topic, partition)
            consumer.seek(tp, offset)
            record = await consumer.getone(tp)
            assert record.offset == offset
            values.append(record.value or b"")
        return values
    finally:
        await consumer.stop()


async def test_batches_cut_at_the_limit_give_each_record_its_own_offset(
    settings: Settings,
) -> None:
    """90 records of 7 keys, in batches cut at 2,000 bytes (several per partition), one of them
    alone over the cut: each record's metadata names the partition and offset where a
    read_committed reader finds that very record, a key's records keep their order, and a key
    always lands in one partition."""
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        transactional_id=f"batches-{uuid.uuid4().hex[:8]}",
        enable_idempotence=True,
        acks="all",
        max_batch_size=1_048_576,
    )
    await producer.start()
    try:
        records: list[Record] = [
            (f"key-{n % 7}".encode(), f"value-{n}".encode() * (1 + 20 * (n % 3)), [("h", b"x")])
            for n in range(90)
        ]
        records[40] = (b"key-5", b"big" * 1_000, [])
        await producer.begin_transaction()
        written = await send_in_batches(producer, settings.topic, records, 2_000)
        await producer.commit_transaction()
    finally:
        await producer.stop()
    places = [(meta.partition, meta.offset) for meta in written]
    assert sorted(places) == sorted(await committed_records(settings))
    assert await _values_at(settings, places) == [value for _, value, _ in records]
    for key in {key for key, _, _ in records}:
        mine = [meta for (k, _, _), meta in zip(records, written, strict=True) if k == key]
        assert len({meta.partition for meta in mine}) == 1, key
        assert [meta.offset for meta in mine] == sorted(meta.offset for meta in mine), key
