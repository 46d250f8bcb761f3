"""`verify`: the live rows against a pure fold of the log up to the offsets they were built to."""

from dataclasses import dataclass

import structlog

from events import Envelope, UndecodableRecord, decode_record
from events.sealing import KeyMissing
from projections.digest import differences, digest
from projections.log_reader import read_range
from projections.sql_rows import Conn
from projections.store import snapshot, stored_offsets
from projections.threads.fold import ReadModels
from projections.threads.parked import parked_outcome
from projections.threads.state import Outcome
from projections.worker import WorkerSettings
from subject_keys import KeyStore, open_keys_for

log = structlog.get_logger("threadlog.verify")


@dataclass(frozen=True)
class Verdict:
    """The digest of the tables, the digest of the fold, and how they differ (empty when equal)."""

    tables_digest: str
    fold_digest: str
    events: int
    differences: list[str]


async def verify(settings: WorkerSettings, conn: Conn, name: str) -> Verdict:
    """Digest the tables of `name` on `conn`'s schema and compare them with a pure fold.

    The rows and their offsets are read in one repeatable-read snapshot, so the worker may keep
    applying meanwhile: the fold reads the log up to exactly those offsets. Records that are not
    events are skipped, as the worker skips them.
    """
    if name != "threads":
        raise LookupError(f"unknown projection {name!r}; known: threads")
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        offsets = await stored_offsets(conn, [name], settings.topic)
        rows = await snapshot(conn)
    events: list[Envelope | Outcome | None] = []
    until = {partition: offset for (_, partition), offset in offsets.items()}
    # A partition the projection never applied has nothing to fold.
    until_all = {p: until.get(p, 0) for p in range(max(until, default=-1) + 1)}
    records = [
        record
        async for record in read_range(settings.kafka, settings.topic, until=until_all)
        if record.partition in until
    ]
    # Opened as the worker opens them: an erased author's fields read as erased.
    store = KeyStore(settings.key_store) if settings.key_store else None
    try:
        keys = await open_keys_for(store, (record.headers for record in records))
    finally:
        if store is not None:
            await store.stop()
    for record in records:
        try:
            try:
                event = decode_record(record.headers, record.value, keys)
            except KeyMissing as missing:
                raise UndecodableRecord(str(missing)) from missing
        except UndecodableRecord as error:
            # Parked by the worker, which recorded its event as dead-lettered: so does the fold.
            events.append(parked_outcome(record.headers, record.timestamp, "decode", str(error)))
            continue
        events.append(event)
    fold = ReadModels(settings.policy())
    run: list[Envelope] = []
    for item in events:
        if isinstance(item, Envelope):
            run.append(item)
            continue
        fold.fold(run)
        run = []
        if item is not None:
            fold.park(item)
    fold.fold(run)
    expected = fold.snapshot()
    decoded = sum(isinstance(item, Envelope) for item in events)
    return Verdict(digest(rows), digest(expected), decoded, differences(rows, expected))
