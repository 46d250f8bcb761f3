"""How far the projection has applied the log, watched once per process for every reader.

One task reads `projection_offsets` (one indexed query of a dozen rows) whenever the worker's
NOTIFY says a batch committed, and every `interval_s` in case a notification is lost, and wakes
whoever waits: reads with `?after=` (read your own writes), the live streams, which push a change
only once the read model has it, and the page cache, which revalidates what it holds. The batch
transaction moves these offsets with the rows, so an offset seen here means the rows are visible.

Reading from a replica (DATABASE_READ_URL), the offsets are read there too, beside the rows the
reads will see: the standby replays the primary's transactions in order, so an offset it shows
means its rows are there, however far it lags. A hot standby cannot LISTEN, so the worker's
NOTIFY is heard on the primary as a hint: each round reads the primary's offsets (the target,
the same dozen rows) and polls the standby until it shows them: every few milliseconds for a
second, then every `interval_s`. A standby usually replays within milliseconds of receiving, so
a waiting read is woken about as soon as it could be, and quick polling lasts only while the
standby is behind what the primary showed. (Polling the standby's replay position instead would
need the primary's commit position to compare with; the offsets are that, and what `?after=`
checks.)
"""

import asyncio
from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager, suppress
from typing import Any

import asyncpg
import structlog
from asyncpg.pool import PoolConnectionProxy
from litestar.connection import ASGIConnection
from litestar.types import Receive, Scope

from eventlog.position import APPLIED_CHANNEL, BadPosition, Position, parse_positions
from services.errors import ApiError, ErrorDetail
from services.query.log_end import LogEnd
from services.query.wakeup import Wakeup
from services.transient import PG_TRANSIENT

log = structlog.get_logger("threadlog.query.positions")
_CHASE_S = 0.02
"""The longest pause while a standby catches up to a NOTIFY: a read waits at most this longer."""


class AppliedPositions:
    """The projection's next offset per partition, refreshed in the background."""

    def __init__(
        self,
        pool: "asyncpg.Pool[Any]",
        topic: str,
        projection: str = "threads",
        schema: str = "public",
        interval_s: float = 0.25,
        hints: "asyncpg.Pool[Any] | None" = None,
    ) -> None:
        self._pool = pool
        self._hints = hints
        """The primary, when `pool` is a replica: where NOTIFY is heard and the target read."""
        self._topic = topic
        self._projection = projection
        self._schema = schema
        self._interval_s = interval_s
        self.next_offsets: dict[int, int] = {}
        self.generation = 0
        """Moves whenever the offsets do: what was read at one generation may be stale after."""
        self.changed = Wakeup()
        self._notified = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start watching (idempotent)."""
        if self._task is None:
            self._task = asyncio.create_task(self._watch(), name="applied-positions")

    async def stop(self) -> None:
        """Stop watching."""
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def applied(self, position: Position) -> bool:
        """Whether the projection has applied the event at `position`."""
        return self.next_offsets.get(position.partition, 0) > position.offset

    async def wait_applied(self, wanted: list[Position], timeout_s: float) -> bool:
        """Wait until every position is applied; False if `timeout_s` passes first."""
        try:
            async with asyncio.timeout(timeout_s):
                while not all(map(self.applied, wanted)):
                    await self.changed.wait()
        except TimeoutError:
            return False
        return True

    async def refresh(self, conn: "PoolConnectionProxy[Any] | None" = None) -> None:
        """Read the offsets now and wake the waiters if they moved."""
        if conn is None:
            async with self._pool.acquire() as pooled:
                return await self.refresh(pooled)
        fresh = await self._read(conn)
        if fresh != self.next_offsets:
            self.next_offsets = fresh
            self.generation += 1
            self.changed.fire()

    def _on_notify(
        self,
        _conn: "asyncpg.Connection[Any] | PoolConnectionProxy[Any]",
        _pid: int,
        _channel: str,
        schema: object,
    ) -> None:
        if schema == self._schema:
            self._notified.set()

    async def _read(self, conn: "PoolConnectionProxy[Any]") -> dict[int, int]:
        rows = await conn.fetch(
            "select partition, next_offset from projection_offsets"
            " where projection = $1 and topic = $2",
            self._projection,
            self._topic,
        )
        return {row["partition"]: row["next_offset"] for row in rows}

    def _reached(self, target: dict[int, int]) -> bool:
        return all(self.next_offsets.get(p, 0) >= offset for p, offset in target.items())

    async def _catch_up(self, conn: "PoolConnectionProxy[Any]", target: dict[int, int]) -> None:
        """Refresh until the offsets reach `target` (what the primary showed): every few
        milliseconds for the first second (a standby is usually that close), then every
        `interval_s` (one far behind, or paused, is not worth a hundred reads a second)."""
        started = asyncio.get_running_loop().time()
        pause = 0.002
        await self.refresh(conn)
        while not self._reached(target):
            await asyncio.sleep(pause)
            behind_s = asyncio.get_running_loop().time() - started
            pause = min(pause * 2, _CHASE_S) if behind_s < 1 else self._interval_s
            await self.refresh(conn)

    async def _watch(self) -> None:
        while True:
            try:
                # Pooled connections read (and listen) for the process's whole life.
                async with AsyncExitStack() as held:
                    conn = await held.enter_async_context(self._pool.acquire())
                    listener = conn
                    if self._hints is not None:
                        listener = await held.enter_async_context(self._hints.acquire())
                    await listener.add_listener(APPLIED_CHANNEL, self._on_notify)
                    # Unlisten before the pool takes the connection back (asyncpg warns else).
                    held.push_async_callback(
                        listener.remove_listener, APPLIED_CHANNEL, self._on_notify
                    )
                    while not (conn.is_closed() or listener.is_closed()):
                        # Cleared before reading: a batch committed meanwhile notifies again.
                        self._notified.clear()
                        if listener is conn:
                            await self.refresh(conn)
                        else:
                            await self._catch_up(conn, await self._read(listener))
                        with suppress(TimeoutError):
                            async with asyncio.timeout(self._interval_s):
                                await self._notified.wait()
            except PG_TRANSIENT as error:
                # Readers waiting meanwhile time out with 503; the next round may succeed.
                log.warning("cannot read the applied positions; retrying", error=repr(error))
                await asyncio.sleep(1)


class WaitPool:
    """A bound on the reads waiting for positions at once, apart from the request slots."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.count = 0

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one place while waiting; 503 `too_many_waits` when none is left."""
        if self.count >= self.limit:
            raise ApiError(
                503,
                "too_many_waits",
                f"{self.limit} reads are already waiting for positions; retry shortly.",
                headers={"Retry-After": "1"},
            )
        self.count += 1
        try:
            yield
        finally:
            self.count -= 1


def _wanted(connection: ASGIConnection[Any, Any, Any, Any]) -> list[Position]:
    token = connection.query_params.get("after")
    if not token:
        return []
    try:
        return parse_positions(token)
    except BadPosition as error:
        raise ApiError(
            400,
            "invalid_parameter",
            f"after: {error}; pass a `position` from the ingest answer unchanged.",
            [ErrorDetail(field="after", message=str(error))],
        ) from error


async def wait_for_after(scope: Scope, receive: Receive) -> None:
    """Admission's wait: with `?after=TOKEN[,TOKEN...]`, let the request on only once the
    projection applied each position (read your own writes). A position the log does not hold is
    400 `unknown_position` at once; past the bounded wait, 503 `not_yet_applied` + Retry-After;
    with every place of the waits' pool taken, 503 `too_many_waits`."""
    connection: ASGIConnection[Any, Any, Any, Any] = ASGIConnection(scope, receive)
    wanted = _wanted(connection)
    state = connection.app.state
    positions: AppliedPositions = state.positions
    if all(map(positions.applied, wanted)):
        return
    log_end: LogEnd = state.log_end
    beyond = await log_end.beyond(wanted)
    if beyond:
        tokens = ",".join(position.token() for position in beyond)
        raise ApiError(
            400,
            "unknown_position",
            f"after: the log holds no event at {tokens}; pass a `position` from the ingest"
            " answer unchanged.",
            [ErrorDetail(field="after", message=f"no event at {tokens}")],
        )
    wait_s: float = state.settings.after_max_wait_s
    waits: WaitPool = state.after_waits
    with waits.slot():
        if not await positions.wait_applied(wanted, wait_s):
            tokens = ",".join(position.token() for position in wanted)
            raise ApiError(
                503,
                "not_yet_applied",
                f"The read model has not applied position {tokens} within {wait_s:g} s (the"
                " worker lags or is stopped); retry after the Retry-After seconds.",
                headers={"Retry-After": "1"},
            )
