"""The projections the worker runs, each a pure planner paired with its Postgres writer."""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from events import Envelope
from projections.sql_rows import Conn
from projections.threads import plan_threads
from projections.threads_store import write_threads
from projections.timelines import plan_timelines
from projections.timelines_store import write_timelines

C = TypeVar("C")


@dataclass(frozen=True)
class Projection(Generic[C]):
    """A read model: `plan` folds events into changes (pure); `write` stores them (I/O)."""

    name: str
    plan: Callable[[Sequence[Envelope]], C]
    write: Callable[[Conn, C], Awaitable[None]]

    async def apply(self, conn: Conn, events: Sequence[Envelope]) -> None:
        """Plan and write one batch, inside the caller's transaction."""
        await self.write(conn, self.plan(events))


THREADS: Projection[Any] = Projection("threads", plan_threads, write_threads)
TIMELINES: Projection[Any] = Projection("timelines", plan_timelines, write_timelines)
PROJECTIONS: dict[str, Projection[Any]] = {p.name: p for p in (THREADS, TIMELINES)}
