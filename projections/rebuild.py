"""Blue/green rebuilds: a fresh copy of a projection built from the log beside the live one.

The copy is built in its own schema (`<schema>_<projection>_build`) under its own offsets and
applied ids, by a standalone reader while the group's worker keeps the live copy current. It is
loaded in bulk (without the readers' indexes, in large batches: `projections.bulk_load`); once
it has (almost) caught up, it is finished (indexed, analyzed) while the live copy keeps serving,
catches up again, and the switch runs in ONE transaction:

1. `lock projection_offsets in exclusive mode` pauses the live worker between two batches (its
   batch transaction starts by locking its offset rows), so the live offsets stop moving;
2. the copy applies the few records it still lacks until its offsets reach the live ones;
3. every table of the projection (and the bookkeeping) is moved out of the deployment's schema
   and the copy's tables are moved in (`alter table ... set schema`), under one `lock table`.

Readers wait only during step 3, a few milliseconds: the query service finds its tables by name
through its search_path, and Postgres re-plans its prepared statements after the move, so it
needs no restart and sees no error. The worker's next batch, once the lock is gone, resolves the
same names to the new tables, where event ids already applied by the copy are skipped.

Killed at any point, a rebuild run again resumes: the copy's offsets were committed with its
rows, and the switch either committed whole or not at all.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass

import asyncpg
import structlog

from projections.bulk_load import LOAD_BATCH, Finished, finish, loader_settings, strip_for_load
from projections.registry import BOOKKEEPING, TABLES, VERSIONS
from projections.sql_rows import Conn
from projections.store import migrate, migrate_operations
from projections.worker import Worker, WorkerSettings

log = structlog.get_logger("threadlog.rebuild")


class RebuildRefused(Exception):
    """A rebuild cannot start: unknown projection, or another rebuild of it is running."""


@dataclass(frozen=True)
class Progress:
    """How far a build is: records read of the log's end, rate, and the time left at that rate."""

    done: int
    total: int
    per_second: float

    @property
    def eta_s(self) -> float | None:
        """Seconds left at the current rate; None before a rate is known."""
        if self.per_second <= 0:
            return None
        return max(self.total - self.done, 0) / self.per_second


@dataclass(frozen=True)
class SwitchReport:
    """What a switch cost: how long readers and the live worker waited on its locks."""

    readers_locked_ms: float
    worker_paused_ms: float
    attempts: int
    offsets: int
    """Log offsets the copy read past: its records, and the transaction markers between them."""
    build_s: float
    resumed: bool
    finished: Finished
    """What finishing the loaded copy cost: its readers' indexes, ANALYZE."""


def build_schema(schema: str, projection: str) -> str:
    """Where a rebuild of `projection` keeps its copy until the switch."""
    return f"{schema}_{projection}_build"


def retired_schema(schema: str, projection: str) -> str:
    """Where the replaced copy goes at the switch, to be dropped right after."""
    return f"{schema}_{projection}_retired"


async def _lag_behind(conn: Conn, schema: str, copy: str, name: str, topic: str) -> int:
    live = await _offsets(conn, schema, name, topic)
    built = await _offsets(conn, copy, name, topic)
    return sum(max(offset - built.get(p, 0), 0) for p, offset in live.items())


async def _offsets(conn: Conn, schema: str, name: str, topic: str) -> dict[int, int]:
    rows = await conn.fetch(
        f'select partition, next_offset from "{schema}".projection_offsets'
        " where projection = $1 and topic = $2",
        name,
        topic,
    )
    return {r["partition"]: r["next_offset"] for r in rows}


async def prepare_build(conn: Conn, schema: str, name: str, version: int) -> tuple[str, bool]:
    """Find the build of `name` at `version` to resume, or start one; return (schema, resumed)."""
    copy = build_schema(schema, name)
    await migrate_operations(conn, schema)
    row = await conn.fetchrow(
        f'select version, schema_name from "{schema}".projection_builds where projection = $1',
        name,
    )
    if row is not None and row["version"] == version and row["schema_name"] == copy:
        await migrate(conn, copy, {name: version})
        return copy, True
    # A build of another version, or the leftovers of a switch killed before its cleanup.
    await conn.execute(f'drop schema if exists "{copy}" cascade')
    await conn.execute(f'drop schema if exists "{retired_schema(schema, name)}" cascade')
    await migrate(conn, copy, {name: version})
    await strip_for_load(conn, copy, name)
    await conn.execute(
        f'insert into "{schema}".projection_builds (projection, version, schema_name)'
        " values ($1, $2, $3) on conflict (projection) do update set version = $2,"
        " schema_name = $3, started_at = now()",
        name,
        version,
        copy,
    )
    return copy, False


async def switch(
    conn: Conn,
    *,
    schema: str,
    name: str,
    topic: str,
    version: int,
    catch_up: Callable[[dict[int, int]], Awaitable[None]],
    lock_timeout_ms: int = 500,
) -> tuple[float, float]:
    """Swap the built copy in for the live one in one transaction; return the lock times (ms).

    `catch_up(live_offsets)` must return once the copy's offsets reached `live_offsets`; it runs
    while the live worker is paused. Raises asyncpg.LockNotAvailableError when readers or the
    worker held the tables past `lock_timeout_ms`: nothing changed, try again.
    """
    copy, retired = build_schema(schema, name), retired_schema(schema, name)
    tables = [*TABLES[name], *BOOKKEEPING]
    await conn.execute(f'create schema if not exists "{retired}"')
    async with conn.transaction():
        # Short: a reader that waits on us longer than this would rather we gave up and retried.
        await conn.execute(f"set local lock_timeout = {int(lock_timeout_ms)}")
        await conn.execute(f'lock table "{schema}".projection_offsets in exclusive mode')
        paused = time.monotonic()
        await catch_up(await _offsets(conn, schema, name, topic))
        # Other projections keep their bookkeeping rows through the swap.
        for table in BOOKKEEPING:
            await conn.execute(
                f'insert into "{copy}".{table} select * from "{schema}".{table}'
                " where projection <> $1 on conflict do nothing",
                name,
            )
        locked = time.monotonic()
        qualified = [f'"{s}".{t}' for s in (schema, copy) for t in tables]
        await conn.execute(f"lock table {', '.join(qualified)} in access exclusive mode")
        for table in tables:
            await conn.execute(f'alter table "{schema}".{table} set schema "{retired}"')
        for table in tables:
            await conn.execute(f'alter table "{copy}".{table} set schema "{schema}"')
        await conn.execute(
            f'insert into "{schema}".projection_versions (projection, version) values ($1, $2)'
            " on conflict (projection) do update set version = $2, built_at = now()",
            name,
            version,
        )
        await conn.execute(f'delete from "{schema}".projection_builds where projection = $1', name)
    done = time.monotonic()
    for leftover in (retired, copy):
        await conn.execute(f'drop schema if exists "{leftover}" cascade')
    return (done - locked) * 1000, (done - paused) * 1000


async def _catch_up_to(
    builder: Worker,
    conn: Conn,
    copy: str,
    name: str,
    topic: str,
    target: dict[int, int],
    timeout_s: float,
) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        built = await _offsets(conn, copy, name, topic)
        if all(built.get(p, 0) >= offset for p, offset in target.items()):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"the copy did not reach the live offsets within {timeout_s} s")
        await builder.step()


async def rebuild(
    settings: WorkerSettings,
    conn: Conn,
    name: str,
    *,
    on_progress: Callable[[Progress], None] = lambda _: None,
    switch_within: int = 1000,
    lock_timeout_ms: int = 500,
    load_batch: int = LOAD_BATCH,
) -> SwitchReport:
    """Build `name` afresh from the start of the log and switch to it; resumable at any point.

    `conn` is a connection of its own (search_path irrelevant); the build reads with a
    standalone worker on the copy's schema, `load_batch` records per transaction. The copy is
    finished once within `switch_within` records of the live copy, and the switch is tried when
    it is there again.
    """
    if name not in VERSIONS:
        raise RebuildRefused(f"unknown projection {name!r}; known: {', '.join(sorted(VERSIONS))}")
    schema, version = settings.pg_schema, VERSIONS[name]
    key = f"threadlog.rebuild:{schema}:{name}"
    # A session lock, not a row: a SIGKILLed rebuild's lock goes with its connection.
    if not await conn.fetchval("select pg_try_advisory_lock(hashtext($1))", key):
        raise RebuildRefused(f"another `threadlog rebuild {name}` is running on schema {schema}")
    started = time.monotonic()
    copy, resumed = await prepare_build(conn, schema, name, version)
    log.info("rebuild", projection=name, version=version, copy=copy, resumed=resumed)
    builder = Worker(loader_settings(settings, copy, name, load_batch))
    await builder.start()
    try:
        consumer = builder.consumer
        partitions = list(consumer.assignment())
        first = sum((await _offsets(conn, copy, name, settings.topic)).values())
        first_end = sum((await consumer.end_offsets(partitions)).values())
        window = (time.monotonic(), first)
        rate, attempts = 0.0, 0
        finished: Finished | None = None
        while True:
            ends = await consumer.end_offsets(partitions)
            done = sum((await _offsets(conn, copy, name, settings.topic)).values())
            now = time.monotonic()
            if now - window[0] >= 1.0:
                rate, window = (done - window[1]) / (now - window[0]), (now, done)
            on_progress(Progress(done, sum(ends.values()), rate))
            lag = await _lag_behind(conn, schema, copy, name, settings.topic)
            # Near the live copy AND near the log's end as it was at the start: a live copy with
            # no offsets yet (a new projection) must not be replaced by a copy still empty.
            if lag <= switch_within and done >= first_end - switch_within:
                if finished is None:
                    # Before the switch's transaction, so the switch still takes milliseconds;
                    # the live copy moves on meanwhile, and the copy catches up again after.
                    log.info("loaded; finishing the copy", copy=copy, records=done)
                    finished = await finish(conn, copy, name)
                    log.info("finished", copy=copy, **asdict(finished))
                    continue
                attempts += 1
                try:
                    readers_ms, worker_ms = await switch(
                        conn,
                        schema=schema,
                        name=name,
                        topic=settings.topic,
                        version=version,
                        catch_up=lambda target: _catch_up_to(
                            builder, conn, copy, name, settings.topic, target, 10.0
                        ),
                        lock_timeout_ms=lock_timeout_ms,
                    )
                except (
                    TimeoutError,
                    asyncpg.LockNotAvailableError,
                    asyncpg.DeadlockDetectedError,
                ) as error:
                    log.warning("switch postponed", error=str(error), attempt=attempts)
                    await asyncio.sleep(min(0.1 * attempts, 2.0))
                    continue
                log.info(
                    "switched",
                    projection=name,
                    readers_locked_ms=round(readers_ms, 1),
                    worker_paused_ms=round(worker_ms, 1),
                )
                applied = await _offsets(conn, schema, name, settings.topic)
                return SwitchReport(
                    readers_ms,
                    worker_ms,
                    attempts,
                    sum(applied.values()),
                    time.monotonic() - started,
                    resumed,
                    finished,
                )
            await builder.step()
    finally:
        await builder.stop()
        await conn.execute("select pg_advisory_unlock(hashtext($1))", key)
