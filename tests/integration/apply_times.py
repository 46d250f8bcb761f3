"""When each event was acknowledged and when it was applied: the load generator of the chaos and
fault tests, and the wait and recovery figures they print and write to .state/<name>-report.json.

Times are wall-clock seconds (`time.time()`), comparable with PostgreSQL's `clock_timestamp()` on
the same machine. `applied_events.applied_at` is read at the insert early in the batch's
transaction, so every wait is a lower bound, short of the commit by at most the rest of that one
batch. A worker can commit an event before its 202 reaches the client: such a wait is negative,
and counted apart.
"""

from __future__ import annotations

import asyncio
import bisect
import statistics
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import asyncpg
import msgspec
from litestar.testing import AsyncTestClient

from events import Envelope, encode_json

ROOT = Path(__file__).resolve().parents[2]
DRAINED_AFTER_S = 1.0
"""A fault is drained once the backlog (acknowledged, not yet applied) is under 1 s of load."""


class Ack(NamedTuple):
    """When an event id was first acknowledged (202), and the partition ingest wrote it to."""

    at: float
    partition: int


class _Accepted(msgspec.Struct):
    id: str
    partition: int
    position: str


class _Answer(msgspec.Struct):
    accepted: list[_Accepted]


_answer = msgspec.json.Decoder(_Answer)


class Load:
    """A producer that must not lose anything: posts `events` in order at `rate` per second,
    `batch` per request, and repeats a refused request after `retry_s` until it is acknowledged
    (the ids make a repeat harmless). Keeps every answer, and each id's first acknowledgement."""

    def __init__(self, events: Sequence[Envelope], *, rate: float, batch: int, retry_s: float):
        self.events = events
        self.rate, self.batch, self.retry_s = rate, batch, retry_s
        self.answers: list[tuple[float, int]] = []
        """(wall time, status) of every answer, in order."""
        self.acks: dict[str, Ack] = {}
        self.positions: dict[int, str] = {}
        """The last position acknowledged in each partition."""
        self.acknowledged = 0
        self.posted = 0
        self._progress = asyncio.Event()

    @property
    def refused(self) -> int:
        """Answers other than 202, each followed by a repeat of its request."""
        return sum(1 for _, status in self.answers if status != 202)

    def first_202_after(self, at: float) -> float | None:
        """Seconds from `at` to the first 202 after it; None if posting had ended."""
        return min((t - at for t, status in self.answers if t > at and status == 202), default=None)

    async def run(self, client: AsyncTestClient[Any]) -> None:
        """Post every event through `client` (the ingest app), each batch until acknowledged."""
        began = time.monotonic()
        for start in range(0, len(self.events), self.batch):
            await asyncio.sleep(max(0.0, began + start / self.rate - time.monotonic()))
            body = encode_json(self.events[start : start + self.batch])
            while True:
                response = await client.post(
                    "/v1/events", content=body, headers={"content-type": "application/json"}
                )
                at = time.time()
                self.answers.append((at, response.status_code))
                if response.status_code == 202:
                    break
                # A refusal for the request itself would be refused again: fail, don't spin.
                assert response.status_code in (429, 503), response.text
                await asyncio.sleep(self.retry_s)
            accepted = _answer.decode(response.content).accepted
            self.acknowledged += len(accepted)
            for event in accepted:
                self.acks.setdefault(event.id, Ack(at, event.partition))
                self.positions[event.partition] = event.position
            self.posted = start + self.batch
            self._progress.set()

    def after(self) -> str:
        """The `?after=` value that makes a read include every event acknowledged so far."""
        return ",".join(self.positions.values())

    async def until_posted(self, count: int) -> None:
        """Return once at least `count` events are acknowledged."""
        while self.posted < count:
            self._progress.clear()
            await self._progress.wait()


async def applied_times(conn: asyncpg.Connection[Any], schema: str) -> dict[str, float]:
    """Event id -> when the `threads` projection applied it (wall-clock seconds)."""
    rows = await conn.fetch(
        "select event_id, extract(epoch from applied_at)::float8 as at"
        f" from \"{schema}\".applied_events where projection = 'threads'"
    )
    return {row["event_id"]: row["at"] for row in rows}


def ms(seconds: float | None) -> float | None:
    """Seconds rounded to the millisecond, for a report."""
    return None if seconds is None else round(seconds, 3)


def _percentile(ordered: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile of an ascending sequence; None when it is empty."""
    if not ordered:
        return None
    return ordered[max(0, min(len(ordered) - 1, round(q * len(ordered)) - 1))]


def spread(values: Iterable[float | None]) -> dict[str, float | None]:
    """Max and median of the values that exist (a fault with no figure is left out)."""
    present = [v for v in values if v is not None]
    return {
        "max": ms(max(present, default=None)),
        "median": ms(statistics.median(present)) if present else None,
    }


class Applied:
    """Every acknowledged event joined with when it was applied: waits, lag, recovery."""

    def __init__(self, acks: Mapping[str, Ack], applied: Mapping[str, float]) -> None:
        self.lost = sorted(acks.keys() - applied.keys())
        joined = [(ack.at, applied[i], ack.partition) for i, ack in acks.items() if i in applied]
        self.waits = sorted(done - acked for acked, done, _ in joined)
        self._acked = sorted(acked for acked, _, _ in joined)
        # The lag at t counts events acknowledged by t and not applied by t.
        self._settled = sorted(max(acked, done) for acked, done, _ in joined)
        by_partition: dict[int, list[float]] = defaultdict(list)
        for _, done, partition in joined:
            by_partition[partition].append(done)
        self._by_partition = {p: sorted(times) for p, times in by_partition.items()}

    def wait_figures(self) -> dict[str, float | int | None]:
        """Seconds from 202 to applied: max, p50, p99, and how many were applied before the 202
        reached the client."""
        w = self.waits
        return {
            "max": ms(_percentile(w, 1.0)),
            "p50": ms(_percentile(w, 0.50)),
            "p99": ms(_percentile(w, 0.99)),
            "min": ms(_percentile(w, 0.0)),
            "applied_before_202": bisect.bisect_left(w, 0.0),
        }

    def lag(self, at: float) -> int:
        """Events acknowledged by `at` and not yet applied."""
        return bisect.bisect_right(self._acked, at) - bisect.bisect_right(self._settled, at)

    def first_applied_after(self, at: float) -> float | None:
        """Seconds from `at` to the first event any worker applied after it."""
        firsts = [self._first_after(times, at) for times in self._by_partition.values()]
        return min((t - at for t in firsts if t is not None), default=None)

    def resumed_after(self, at: float) -> float | None:
        """Seconds from `at` until every partition still in use had an event applied again: for a
        lost worker, until the others apply its partitions."""
        firsts = [self._first_after(times, at) for times in self._by_partition.values()]
        return max((t - at for t in firsts if t is not None), default=None)

    def drained_after(self, at: float, bound: int) -> float | None:
        """Seconds from `at` until, all partitions applying again, at most `bound` events wait."""
        resumed = self.resumed_after(at)
        if resumed is None:
            return None
        start = at + resumed
        candidates = [start, *self._settled[bisect.bisect_right(self._settled, start) :]]
        return next((t - at for t in candidates if self.lag(t) <= bound), None)

    def isolated(self, at: float, faults: Iterable[float]) -> bool:
        """Whether the fault at `at` recovered alone: the partitions of every earlier fault were
        applied again before it, and the next fault came only after it resumed."""
        resumed = self.resumed_after(at)
        if resumed is None:
            return False
        for other in faults:
            if other < at:
                earlier = self.resumed_after(other)
                if earlier is None or other + earlier > at:
                    return False
            elif at < other < at + resumed:
                return False
        return True

    def recovery(self, at: float, bound: int) -> dict[str, float | None]:
        """The three recovery figures of one fault that ended at `at`."""
        return {
            "first_applied_s": ms(self.first_applied_after(at)),
            "resumed_s": ms(self.resumed_after(at)),
            "drained_s": ms(self.drained_after(at, bound)),
        }

    @staticmethod
    def _first_after(times: Sequence[float], at: float) -> float | None:
        i = bisect.bisect_right(times, at)
        return times[i] if i < len(times) else None


def event_figures(
    load: Load, applied: Applied, count: int, equal: bool
) -> dict[str, int | bool | None]:
    """What became of the events: `count` rows in applied_events; `equal` when the read models
    equal the pure fold of every event once, so that nothing was doubled."""
    return {
        "posted": len(load.events),
        "distinct_ids": len({event.id for event in load.events}),
        "acknowledged": len(load.acks),
        "applied": count,
        "lost": len(applied.lost),
        "doubled": 0 if equal else None,
        "read_models_equal_pure_fold": equal,
        "refused_requests_repeated": load.refused,
    }


def write_report(name: str, report: Mapping[str, Any]) -> Path:
    """Write `report` to .state/<name>-report.json and print it; return the path."""
    path = ROOT / ".state" / f"{name}-report.json"
    path.parent.mkdir(exist_ok=True)
    text = msgspec.json.format(msgspec.json.encode(report), indent=2)
    path.write_bytes(text + b"\n")
    print(f"\n{name} report ({path}):\n{text.decode()}")
    return path
