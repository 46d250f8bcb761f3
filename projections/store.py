"""The worker's Postgres bookkeeping: schema, stored offsets, applying a batch exactly once.

Exactly-once effect, whatever crashes when: a batch's rows, each projection's next offsets and
the applied event ids are written in ONE transaction, and the worker seeks to the stored offsets
on start. A crash before commit loses nothing (the batch is read again); a crash after commit
doubles nothing (the offsets moved with the rows). Event ids guard the producer's retries, which
put the same event in the log twice at different offsets.
"""

import hashlib
from collections.abc import Mapping, Sequence
from importlib.resources import files
from typing import NamedTuple

from eventlog.position import APPLIED_CHANNEL
from events import Envelope
from projections.registry import BOOKKEEPING, TABLES, VERSIONS, Projection
from projections.snapshot import Snapshot, normalized
from projections.sql_rows import Conn
from projections.threads import columns as threads
from projections.threads.state import Outcome
from projections.versions import check_versions

TopicPartition = tuple[str, int]
TABLES_IN_SCHEMA = (*(t for tables in TABLES.values() for t in tables), *BOOKKEEPING)
"""Every table schema.sql creates: all must exist for its fingerprint to count as applied."""


class Positioned(NamedTuple):
    """A record's place in the log and its event; `envelope` is None for a dead-lettered record,
    and `parked` then says what became of its event, when the record names one."""

    topic: str
    partition: int
    offset: int
    envelope: Envelope | None
    parked: Outcome | None = None


def _sql(name: str, package: str = "projections") -> str:
    return files(package).joinpath(name).read_text()


async def migrate_operations(conn: Conn, schema: str) -> None:
    """Create the operator bookkeeping in `schema`, without touching any read-model table."""
    async with conn.transaction():
        await conn.execute("select pg_advisory_xact_lock(hashtext('threadlog.migrate'))")
        await conn.execute(f'create schema if not exists "{schema}"')
        await conn.execute(f'set local search_path to "{schema}"')
        await conn.execute(_sql("operations.sql"))


async def migrate(conn: Conn, schema: str, versions: Mapping[str, int] = VERSIONS) -> None:
    """Create the schema and every table if missing; safe to run from several processes.

    Raises ProjectionVersionMismatch, before touching any read-model table, when the tables were
    built for another version of a projection than `versions` (the code's).
    """
    async with conn.transaction():
        # Concurrent `create ... if not exists` can still collide in the catalog; serialize them.
        await conn.execute("select pg_advisory_xact_lock(hashtext('threadlog.migrate'))")
        await conn.execute(f'create schema if not exists "{schema}"')
        await conn.execute(f'set local search_path to "{schema}"')
        await conn.execute(_sql("operations.sql"))
        await check_versions(conn, versions, schema)
        ddl = _sql("schema.sql", "projections.threads")
        fingerprint = hashlib.sha256(ddl.encode()).hexdigest()
        current = await conn.fetchval(
            "select sha256 = $1 and (select bool_and(to_regclass(t) is not null)"
            " from unnest($2::text[]) t) from schema_fingerprints where file = 'schema.sql'",
            fingerprint,
            [*TABLES_IN_SCHEMA],
        )
        if not current:
            await conn.execute(ddl)
            await conn.execute(
                "insert into schema_fingerprints (file, sha256) values ('schema.sql', $1)"
                " on conflict (file) do update set sha256 = excluded.sha256, applied_at = now()",
                fingerprint,
            )
        await conn.execute(
            "insert into projection_versions (projection, version)"
            " select * from unnest($1::text[], $2::int[]) on conflict do nothing",
            list(versions),
            list(versions.values()),
        )


async def stored_offsets(
    conn: Conn, projections: Sequence[str], topic: str, *, lock: bool = False
) -> dict[tuple[str, int], int]:
    """(projection, partition) -> next offset to apply, for partitions that have one."""
    rows = await conn.fetch(
        "select projection, partition, next_offset from projection_offsets"
        " where projection = any($1::text[]) and topic = $2"
        # In one order: two workers of a rebalance then queue on the rows, never deadlock.
        + (" order by projection, partition for update" if lock else ""),
        list(projections),
        topic,
    )
    return {(r["projection"], r["partition"]): r["next_offset"] for r in rows}


async def seek_positions(
    conn: Conn, projections: Sequence[str], topic: str, partitions: Sequence[int]
) -> dict[int, int]:
    """Where to start reading each partition: the lowest next offset of all projections.

    A projection that has never applied a partition starts it at 0, so a new projection (or a
    fresh schema) reads the whole log; the others skip what they already applied.
    """
    stored = await stored_offsets(conn, projections, topic)
    return {p: min(stored.get((name, p), 0) for name in projections) for p in partitions}


async def apply_batch(
    conn: Conn,
    projections: Sequence[Projection],
    records: Sequence[Positioned],
    next_offsets: dict[TopicPartition, int],
    *,
    replay: bool = False,
) -> int:
    """Apply `records` (log order within each partition) to every projection, in one transaction.

    Returns how many events were newly applied by at least one projection. A `replay` applies
    records below the stored offsets too: only the applied event ids keep each event to one
    application.
    """
    applied = 0
    async with conn.transaction():
        # One batch at a time per schema, whichever worker holds it: each batch loads rows, folds
        # and writes them back whole, and a ban's batch (another partition) changes comments and
        # counts of the threads it covers. The offset rows' locks below serialized batches only
        # once every partition had a row; on fresh tables two batches could overwrite each
        # other's rows. Taken first, before anything else is locked, so it cannot deadlock.
        await conn.execute(
            "select pg_advisory_xact_lock(hashtext('threadlog.apply'), hashtext(current_schema()))"
        )
        topics = {topic for topic, _ in next_offsets}
        stored: dict[tuple[str, int], int] = {}
        for topic in topics:
            # Locking the offset rows makes a second worker that got the same partitions during a
            # rebalance wait, then see our offsets and skip what we applied.
            stored |= await stored_offsets(conn, [p.name for p in projections], topic, lock=True)
        # Checked on every batch, after the lock a rebuild's switch also takes: a worker still
        # running older code stops at the first batch after a switch to newer tables.
        await check_versions(conn, {p.name: p.version for p in projections}, "in use")
        for projection in projections:
            fresh: dict[str, Envelope] = {}
            parked: list[Outcome] = []
            for record in records:
                position = 0 if replay else stored.get((projection.name, record.partition), 0)
                if record.offset < position:
                    continue
                if record.envelope is not None:
                    fresh.setdefault(record.envelope.id, record.envelope)
                elif record.parked is not None:
                    parked.append(record.parked)
            if parked:
                await projection.park(conn, parked)
            if fresh:
                new_ids = {
                    row["event_id"]
                    for row in await conn.fetch(
                        "insert into applied_events (projection, event_id)"
                        " select $1, unnest($2::text[]) on conflict do nothing returning event_id",
                        projection.name,
                        list(fresh),
                    )
                }
                events = [event for event_id, event in fresh.items() if event_id in new_ids]
                await projection.apply(conn, events)
                applied = max(applied, len(events))
            await conn.execute(
                "insert into projection_offsets (projection, topic, partition, next_offset)"
                " select $1, * from unnest($2::text[], $3::int[], $4::bigint[])"
                " on conflict (projection, topic, partition) do update set"
                " next_offset = greatest(projection_offsets.next_offset, excluded.next_offset),"
                " updated_at = now()",
                projection.name,
                [topic for topic, _ in next_offsets],
                [partition for _, partition in next_offsets],
                list(next_offsets.values()),
            )
        # Delivered at commit: query processes refresh their positions and page caches at once.
        await conn.execute("select pg_notify($1, current_schema())", APPLIED_CHANNEL)
    return applied


async def snapshot(conn: Conn) -> Snapshot:
    """Every read-model table as sorted tuples, comparable with `ReadModels.snapshot`."""
    return {
        table.name: normalized(tuple(row) for row in await conn.fetch(table.snapshot_sql))
        for table in threads.TABLES
    }
