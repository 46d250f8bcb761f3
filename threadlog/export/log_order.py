"""The log in export order: partition by partition, each from its first record to its end.

The ends are taken once, before the first record is read, so an export terminates however
fast ingest appends meanwhile, and describes the log as it stood at one moment. Partitions go
in ascending order, each in its own log order: the order of one key (an article's events, an
author's bans) is the log's, and that is the only order the log itself defines (two partitions
are not ordered against each other). The same log therefore always exports to the same bytes.

Records are read committed (aborted requests and transaction markers are never seen) and decoded
by `events.codec.decode_record`, as the worker decodes them; one that is not an event is
counted and skipped: the worker dead-lettered it, and it has no envelope to export.
"""

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer
from aiokafka.structs import ConsumerRecord

from eventlog.connection import Kafka, client_args, start_client
from eventlog.position import Position
from eventlog.reading import READ_COMMITTED
from events import Envelope, UndecodableRecord, decode_record
from projections.log_reader import partitions, read_range

Prefilter = Callable[[ConsumerRecord], bool]
"""A cheap look at a record's key and bytes before decoding: False skips it for sure."""


@dataclass
class ReadStats:
    """What an export read: the ends it stopped at, the events it kept, the records skipped."""

    ends: dict[int, int] = field(default_factory=dict)
    events: int = 0
    undecodable: list[tuple[Position, str]] = field(default_factory=list)


async def log_ends(kafka: Kafka, topic: str) -> dict[int, int]:
    """Each partition's end offset now (read committed: open transactions end it early)."""
    consumer = AIOKafkaConsumer(**client_args(kafka), isolation_level=READ_COMMITTED)
    try:
        await start_client(
            consumer, kafka
        )  # inside: a consumer that failed to start must still be closed
        tps = await partitions(consumer, topic)
        return {tp.partition: offset for tp, offset in (await consumer.end_offsets(tps)).items()}
    finally:
        await consumer.stop()


async def read_in_export_order(
    kafka: Kafka, topic: str, prefilter: Prefilter, stats: ReadStats
) -> AsyncIterator[tuple[ConsumerRecord, Envelope]]:
    """Every decodable record `prefilter` lets through, with its envelope, in export order
    (see the module doc), up to the ends taken at the start (kept in `stats`)."""
    stats.ends = await log_ends(kafka, topic)
    for partition in sorted(stats.ends):
        if stats.ends[partition] == 0:
            continue  # never written to: no need to start a reader for it
        # One partition at a time: every other one is read up to offset 0, that is not at all.
        until = {p: (end if p == partition else 0) for p, end in stats.ends.items()}
        async for record in read_range(kafka, topic, until=until):
            if not prefilter(record):
                continue
            try:
                envelope = decode_record(record.headers, record.value)
            except UndecodableRecord as error:
                stats.undecodable.append((Position(record.partition, record.offset), str(error)))
                continue
            yield record, envelope
