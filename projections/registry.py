"""The projections the worker runs. Each folds a batch with the pure rules and writes the result."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from events import Envelope
from projections.policy import Policy
from projections.sql_rows import Conn
from projections.threads import columns as threads
from projections.threads.rules import evolve
from projections.threads.state import Outcome
from projections.threads.write import load_state, write_parked, write_state


class Projection(Protocol):
    """A read model the worker keeps: a short name, and how to apply a batch in a transaction."""

    @property
    def name(self) -> str:
        """The short name operators use (`threads`)."""

    @property
    def version(self) -> int:
        """The version of the tables this code writes; a new one needs `threadlog rebuild`."""

    async def apply(self, conn: Conn, events: Sequence[Envelope]) -> None:
        """Apply `events` (new ones only, in log order) inside the caller's transaction."""

    async def park(self, conn: Conn, outcomes: Sequence[Outcome]) -> None:
        """Record what became of events whose records were parked (`projections.threads.parked`)."""


@dataclass(frozen=True)
class Threads:
    """Articles, comment trees with moderation state, votes, flags, bans and event outcomes.

    Author timelines are served from the same comments table, so they follow the same rules.
    """

    policy: Policy = field(default_factory=Policy)
    name: str = "threads"
    # Raise it whenever a change to the rules or to schema.sql means the rows already written
    # are no longer what this code would write: workers then refuse until a rebuild.
    # 2: a ban is an overlay recomputed on every ban and unban; rules go by the log's time.
    version: int = 2

    async def apply(self, conn: Conn, events: Sequence[Envelope]) -> None:
        """Load what the events can read, fold them in memory, write back what changed."""
        state, loaded = await load_state(conn, events)
        for event in events:
            evolve(state, event, self.policy)
        await write_state(conn, state, loaded)

    async def park(self, conn: Conn, outcomes: Sequence[Outcome]) -> None:
        """Mark parked events `dead_lettered`, unless an event of the same id already applied."""
        await write_parked(conn, outcomes)


TABLES: dict[str, tuple[str, ...]] = {"threads": tuple(t.name for t in threads.TABLES)}
"""Each projection's read-model tables in schema.sql: what a rebuild builds and swaps in."""

BOOKKEEPING = ("projection_offsets", "applied_events")
"""Tables every projection shares, keyed by projection name: its offsets and applied event ids."""


def build_projections(policy: Policy) -> dict[str, Projection]:
    """Every projection by name, configured with `policy`."""
    return {"threads": Threads(policy)}


VERSIONS: dict[str, int] = {name: p.version for name, p in build_projections(Policy()).items()}
"""The version of each projection this code writes."""
