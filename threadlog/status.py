"""`threadlog status`: how far behind each projection is, how fast it applies, what is parked."""

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import asyncpg
import msgspec
from aiokafka import AIOKafkaConsumer, TopicPartition

from eventlog.connection import client_args, start_client
from eventlog.reading import READ_COMMITTED
from projections.dead_letter_ops import read_dead_letters
from projections.log_reader import partitions
from projections.registry import VERSIONS
from projections.store import migrate_operations, stored_offsets
from threadlog.log_end import committed_ends
from threadlog.settings import Settings


class PartitionStatus(msgspec.Struct, frozen=True):
    """One partition of the log as one projection sees it."""

    partition: int
    offset: int
    end: int
    lag: int
    lag_s: float
    """Age of the oldest record not yet applied; 0 when caught up."""


class ProjectionStatus(msgspec.Struct, frozen=True):
    """One projection: its version, lag, current rate and any rebuild in progress."""

    name: str
    version: int | None
    code_version: int
    lag: int
    lag_s: float
    per_second: float | None
    partitions: list[PartitionStatus]
    rebuild: dict[str, Any] | None = None


class Status(msgspec.Struct, frozen=True):
    """Everything `threadlog status` prints."""

    at: datetime
    topic: str
    projections: list[ProjectionStatus]
    dead_letters: int
    oldest_dead_letter_s: float | None
    last_error: str | None


async def _oldest_unapplied_ms(
    consumer: AIOKafkaConsumer, offsets: dict[TopicPartition, int]
) -> dict[int, int]:
    """Timestamp (ms) of the record at each given offset, from Kafka."""
    if not offsets:
        return {}
    consumer.assign(list(offsets))
    for tp, offset in offsets.items():
        consumer.seek(tp, offset)
    found: dict[int, int] = {}
    deadline = time.monotonic() + 3
    while len(found) < len(offsets) and time.monotonic() < deadline:
        for tp, records in (await consumer.getmany(timeout_ms=500, max_records=1)).items():
            if records:
                found.setdefault(tp.partition, records[0].timestamp)
                consumer.pause(tp)
    return found


async def collect(settings: Settings, conn: "asyncpg.Connection[Any]") -> Status:
    """One sample of every projection's position against the log, and the dead letters."""
    consumer = AIOKafkaConsumer(
        **client_args(settings.kafka()),
        group_id=None,
        enable_auto_commit=False,
        isolation_level=READ_COMMITTED,
    )
    await start_client(consumer, settings.kafka())
    try:
        tps = await partitions(consumer, settings.topic)
        # Not the end offsets: transaction markers lie past the last record a reader applies.
        ends = await committed_ends(consumer, tps)
        stored = await stored_offsets(conn, list(VERSIONS), settings.topic)
        versions = {
            r["projection"]: r["version"]
            for r in await conn.fetch("select projection, version from projection_versions")
        }
        builds = {r["projection"]: r for r in await conn.fetch("select * from projection_builds")}
        lagging = {
            tp: stored.get((name, tp.partition), 0)
            for name in VERSIONS
            for tp in tps
            if stored.get((name, tp.partition), 0) < ends[tp]
        }
        stamps = await _oldest_unapplied_ms(consumer, lagging)
    finally:
        await consumer.stop()
    now = datetime.now(UTC)
    projections = []
    for name, code_version in sorted(VERSIONS.items()):
        parts = []
        for tp in tps:
            offset = stored.get((name, tp.partition), 0)
            lag = ends[tp] - offset
            stamp = stamps.get(tp.partition)
            lag_s = max(now.timestamp() - stamp / 1000, 0.0) if lag and stamp else 0.0
            parts.append(PartitionStatus(tp.partition, offset, ends[tp], lag, round(lag_s, 3)))
        build = builds.get(name)
        rebuild = None
        if build is not None:
            copy = build["schema_name"]
            built = await conn.fetchval(
                f'select coalesce(sum(next_offset), 0) from "{copy}".projection_offsets'
                " where projection = $1",
                name,
            )
            rebuild = {
                "version": build["version"],
                "schema": copy,
                "done": int(built),
                "total": sum(ends.values()),
                "started_at": build["started_at"].isoformat(),
            }
        projections.append(
            ProjectionStatus(
                name=name,
                version=versions.get(name),
                code_version=code_version,
                lag=sum(p.lag for p in parts),
                lag_s=max((p.lag_s for p in parts), default=0.0),
                per_second=None,
                partitions=parts,
                rebuild=rebuild,
            )
        )
    letters = [
        d
        for d in await read_dead_letters(settings.kafka(), settings.dlq_topic, conn)
        if d.resolved is None
    ]
    oldest = min((d.at for d in letters if d.at is not None), default=None)
    return Status(
        at=now,
        topic=settings.topic,
        projections=projections,
        dead_letters=len(letters),
        oldest_dead_letter_s=round((now - oldest).total_seconds(), 1) if oldest else None,
        last_error=max(letters, key=lambda d: d.at or now).error if letters else None,
    )


def with_rates(current: Status, previous: Status) -> Status:
    """`current` with each projection's rate: offsets gained since `previous`, per second."""
    elapsed = (current.at - previous.at).total_seconds()
    before = {p.name: sum(x.offset for x in p.partitions) for p in previous.projections}
    return msgspec.structs.replace(
        current,
        projections=[
            msgspec.structs.replace(
                p,
                per_second=round(
                    (sum(x.offset for x in p.partitions) - before.get(p.name, 0)) / elapsed, 1
                )
                if elapsed > 0
                else None,
            )
            for p in current.projections
        ],
    )


def render(status: Status) -> str:
    """The human form of `status`."""
    lines = [f"{status.at:%Y-%m-%d %H:%M:%S} UTC  topic {status.topic}"]
    for p in status.projections:
        rate = "?" if p.per_second is None else f"{p.per_second:,.0f}/s"
        if p.version is None:  # recorded by `threadlog init` or the worker's first start
            version = f"code v{p.code_version}, tables not versioned yet"
        elif p.version == p.code_version:
            version = f"v{p.version}"
        else:
            version = (
                f"tables v{p.version}, code v{p.code_version}: run `threadlog rebuild {p.name}`"
            )
        lines.append(
            f"projection {p.name} ({version})  lag {p.lag:,} events, {p.lag_s:.1f} s"
            f"  applying {rate}"
        )
        lines.append(f"  {'partition':>9} {'offset':>10} {'end':>10} {'lag':>8} {'lag_s':>7}")
        lines += [
            f"  {x.partition:>9} {x.offset:>10,} {x.end:>10,} {x.lag:>8,} {x.lag_s:>7.1f}"
            for x in p.partitions
        ]
        if p.rebuild:
            r = p.rebuild
            lines.append(
                f"  rebuild to v{r['version']} in progress: {r['done']:,}/{r['total']:,}"
                f" (schema {r['schema']}, since {r['started_at']})"
            )
    oldest = (
        f", oldest {status.oldest_dead_letter_s:,.0f} s old"
        if status.oldest_dead_letter_s is not None
        else ""
    )
    lines.append(f"dead letters: {status.dead_letters} unresolved{oldest}")
    if status.last_error:
        lines.append(f"last error: {status.last_error[:300]}")
    return "\n".join(lines)


async def run_status(settings: Settings, *, as_json: bool, watch: float | None) -> None:
    """Print the status once (rate sampled over a second), or every `watch` seconds."""
    conn: asyncpg.Connection[Any] = await asyncpg.connect(
        settings.database_url, server_settings={"search_path": settings.pg_schema}
    )
    try:
        await migrate_operations(conn, settings.pg_schema)
        previous = await collect(settings, conn)
        while True:
            await asyncio.sleep(watch or 1.0)
            current = with_rates(await collect(settings, conn), previous)
            if as_json:
                print(msgspec.json.encode(current).decode(), flush=True)
            else:
                prefix = "\x1b[2J\x1b[H" if watch else ""  # clear the screen between samples
                print(prefix + render(current), flush=True)
            if watch is None:
                return
            previous = current
    finally:
        await conn.close()
