"""The partition a transaction's batch puts a record in is the one aiokafka's `send` would."""

from aiokafka.partitioner import DefaultPartitioner

from services.ingest.record_batches import partition_of


def test_a_key_gets_the_partition_the_default_partitioner_gives() -> None:
    """For thousands of keys and every partition count from 1 to 24, `partition_of` agrees with
    the partitioner `AIOKafkaProducer.send` uses, so a thread's events share a partition whether
    they came one per request (send) or in a batch (send_batch); asked twice (cached), the same."""
    partitioner = DefaultPartitioner()
    keys = [f"article-{n}".encode() for n in range(3000)] + [b"", "ünï".encode(), b"\x00" * 9]
    for count in range(1, 25):
        partitions = list(range(count))
        for key in keys:
            expected = partitioner(key, partitions, partitions)
            assert partition_of(key, partitions) == expected == partition_of(key, partitions)
