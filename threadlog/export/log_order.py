"""The log in export order: partition by partition, each from its first record to its end.

The ends are taken once, before the first record is read, so an export terminates however
fast ingest appends meanwhile, and describes the log as it stood at one moment. Partitions go
in ascending order, each in its own log order: the order of one key (an article's events, an
author's bans) is the log's, and that is the only order the log itself defines (two partitions
are not ordered against each other). The same log therefore always exports to the same bytes.

Records are read committed (aborted requests and transaction markers are never seen) and decoded
by `events.codec.decode_record`, as the worker decodes them; one that is not an event is
counted and skipped: the worker dead-lettered it, and it has no envelope to export.

Sealed records (events/sealing.py) are opened with the key store, a chunk of records per
key-store query, and come out in clear: their personal fields as text, without the
`sealedwith` attribute and with the `dataschema` of their version. An export is for another
installation, which has none of these keys, and for the person themselves. A field whose key
was destroyed reads as the worker reads it (`[erased]`, or absent): never as ciphertext. A
record naming a key the store does not hold is skipped and counted, as the worker parks it.
"""

from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Final

from aiokafka import AIOKafkaConsumer
from aiokafka.structs import ConsumerRecord

from eventlog.connection import Kafka, client_args, start_client
from eventlog.position import Position
from eventlog.reading import READ_COMMITTED
from events import Envelope, UndecodableRecord, decode_record
from events.sealing import SEALED_HEADER, KeyMissing, OpenKeys, open_value, sealed_kids
from events.upcast import SEALED_SUFFIX
from projections.log_reader import partitions, read_range
from subject_keys import KeyStore, open_keys_for

Prefilter = Callable[[ConsumerRecord], bool]
"""A cheap look at a record's key and bytes before decoding: False skips it for sure."""

Headers = list[tuple[str, bytes]]
OPEN_RECORDS: Final = 1_000
"""Records whose keys are loaded together: one key-store query for those not cached."""


@dataclass(frozen=True)
class ClearRecord:
    """A record of the log as an export writes it: its personal fields opened."""

    headers: Headers
    value: bytes
    envelope: Envelope


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
    kafka: Kafka, topic: str, prefilter: Prefilter, stats: ReadStats, keys: KeyStore
) -> AsyncIterator[ClearRecord]:
    """Every decodable record `prefilter` lets through, opened with `keys`, in export order
    (see the module doc), up to the ends taken at the start (kept in `stats`). Raises
    KeyStoreUnavailable when the key store does not answer."""
    stats.ends = await log_ends(kafka, topic)
    for partition in sorted(stats.ends):
        if stats.ends[partition] == 0:
            continue  # never written to: no need to start a reader for it
        # One partition at a time: every other one is read up to offset 0, that is not at all.
        until = {p: (end if p == partition else 0) for p, end in stats.ends.items()}
        chunk: list[ConsumerRecord] = []
        async for record in read_range(kafka, topic, until=until):
            chunk.append(record)
            if len(chunk) >= OPEN_RECORDS:
                async for clear in _opened(chunk, prefilter, keys, stats):
                    yield clear
                chunk = []
        async for clear in _opened(chunk, prefilter, keys, stats):
            yield clear


async def _opened(
    records: Sequence[ConsumerRecord], prefilter: Prefilter, keys: KeyStore, stats: ReadStats
) -> AsyncIterator[ClearRecord]:
    """Those of `records` `prefilter` lets through, opened, in order; the undecodable ones
    counted in `stats`. The keys of the whole chunk are loaded first (one query, from the
    headers alone), and each record is judged only once the one before it was consumed: a
    prefilter may learn from what it was given (personal_fold.py's threads)."""
    opening = await open_keys_for(keys, (record.headers for record in records)) or {}
    for record in records:
        if not prefilter(record):
            continue
        try:
            headers, value = in_clear(record.headers, record.value, opening)
            envelope = decode_record(headers, value)
        except (UndecodableRecord, KeyMissing, ValueError) as error:
            stats.undecodable.append((Position(record.partition, record.offset), str(error)))
            continue
        yield ClearRecord(headers, value, envelope)


def in_clear(
    headers: Sequence[tuple[str, bytes]], value: bytes | None, keys: OpenKeys
) -> tuple[Headers, bytes]:
    """A record's headers and value with its sealed fields opened (a record in clear as it
    is). Raises KeyMissing for a key `keys` lacks, ValueError for a field that does not open."""
    if not sealed_kids(headers) or value is None:
        return list(headers), value or b""
    attributes = dict(headers)
    type_ = attributes.get("ce_type", b"").decode(errors="replace")
    event_id = attributes.get("ce_id", b"").decode(errors="replace")
    opened = open_value(type_, event_id, value, keys)
    clear = [
        (name, raw.removesuffix(SEALED_SUFFIX.encode()) if name == "ce_dataschema" else raw)
        for name, raw in headers
        if name != SEALED_HEADER
    ]
    return clear, opened
