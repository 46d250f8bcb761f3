"""A transaction's records sent as batches built by ingest land where their metadata says."""

import uuid

from aiokafka import AIOKafkaProducer

from services.ingest.record_batches import send_in_batches
from services.ingest.record_size import Record
from tests.integration.conftest import committed_values
from threadlog.settings import Settings


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
    committed = await committed_values(settings)
    assert sorted(places) == sorted(committed)
    assert [committed[place] for place in places] == [value for _, value, _ in records]
    for key in {key for key, _, _ in records}:
        mine = [meta for (k, _, _), meta in zip(records, written, strict=True) if k == key]
        assert len({meta.partition for meta in mine}) == 1, key
        assert [meta.offset for meta in mine] == sorted(meta.offset for meta in mine), key
