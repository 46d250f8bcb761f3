"""The worker's Prometheus metrics and its `/metrics` and `/healthz`, on a tiny asyncio server.

No dependency: the text exposition format is a few lines, and the worker has no other HTTP to
serve. Counters live in `WorkerStats`, which the worker updates once per batch.
"""

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import structlog

log = structlog.get_logger("threadlog.metrics")

BATCH_SIZE_BUCKETS = (1, 10, 100, 500, 1000, 2000, 5000)
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass
class Histogram:
    """Cumulative buckets, a sum and a count: Prometheus' histogram."""

    bounds: tuple[float, ...]
    counts: list[int] = field(default_factory=list)
    total: float = 0.0
    count: int = 0

    def observe(self, value: float) -> None:
        """Count `value` in every bucket it fits."""
        if not self.counts:
            self.counts = [0] * len(self.bounds)
        for i, bound in enumerate(self.bounds):
            if value <= bound:
                self.counts[i] += 1
        self.total += value
        self.count += 1

    def lines(self, name: str, labels: str = "") -> list[str]:
        """The exposition lines of this histogram."""
        counts = self.counts or [0] * len(self.bounds)
        sep = "," if labels else ""
        out = [
            f'{name}_bucket{{{labels}{sep}le="{bound:g}"}} {n}'
            for bound, n in zip(self.bounds, counts, strict=True)
        ]
        out.append(f'{name}_bucket{{{labels}{sep}le="+Inf"}} {self.count}')
        braces = f"{{{labels}}}" if labels else ""
        return [*out, f"{name}_sum{braces} {self.total:g}", f"{name}_count{braces} {self.count}"]


@dataclass
class WorkerStats:
    """What the worker counts while it runs."""

    applied_total: int = 0
    dead_lettered_total: int = 0
    batches_total: int = 0
    batch_size: Histogram = field(default_factory=lambda: Histogram(BATCH_SIZE_BUCKETS))
    apply_seconds: Histogram = field(default_factory=lambda: Histogram(LATENCY_BUCKETS))
    lag: dict[int, int] = field(default_factory=dict)
    """Partition -> records between the last applied one and the partition's end, for every
    partition this worker reads (set on assignment, then after each batch)."""
    last_error: str | None = None
    started_at: float = field(default_factory=time.time)
    dead_letters_unresolved: int | None = None
    """Records on the dead-letter topic neither redriven nor purged (None until first counted)."""
    oldest_dead_letter_at: float | None = None
    """Unix time the oldest unresolved dead letter was parked."""

    def partitions_assigned(self, lags: Mapping[int, int]) -> None:
        """The worker now reads these partitions, this far behind their ends: each gets a series
        at once, so one that never held a record shows 0 rather than no series at all (which an
        alert cannot tell from a worker that does not read it)."""
        for partition, lag in lags.items():
            self.lag[partition] = max(lag, 0)

    def partitions_revoked(self, partitions: Iterable[int]) -> None:
        """Another worker reads these now: its series, not ours, says how far behind they are."""
        for partition in partitions:
            self.lag.pop(partition, None)

    def batch_applied(self, records: int, applied: int, seconds: float) -> None:
        """Count one committed batch."""
        self.batches_total += 1
        self.applied_total += applied
        self.batch_size.observe(records)
        self.apply_seconds.observe(seconds)


def _dead_letter_lines(stats: WorkerStats) -> list[str]:
    if stats.dead_letters_unresolved is None:
        return []
    age = time.time() - stats.oldest_dead_letter_at if stats.oldest_dead_letter_at else 0.0
    return [
        "# HELP threadlog_dead_letters_unresolved Dead letters neither redriven nor purged.",
        "# TYPE threadlog_dead_letters_unresolved gauge",
        f"threadlog_dead_letters_unresolved {stats.dead_letters_unresolved}",
        "# HELP threadlog_dead_letter_oldest_age_seconds Age of the oldest unresolved (0: none).",
        "# TYPE threadlog_dead_letter_oldest_age_seconds gauge",
        f"threadlog_dead_letter_oldest_age_seconds {age:.1f}",
    ]


def render(stats: WorkerStats, topic: str) -> str:
    """The Prometheus text exposition (version 0.0.4) of `stats`."""
    lines = [
        "# HELP threadlog_events_applied_total Events applied to the read models.",
        "# TYPE threadlog_events_applied_total counter",
        f"threadlog_events_applied_total {stats.applied_total}",
        "# HELP threadlog_dead_letters_total Records this worker parked on the dead-letter topic.",
        "# TYPE threadlog_dead_letters_total counter",
        f"threadlog_dead_letters_total {stats.dead_lettered_total}",
        "# HELP threadlog_batches_total Batches committed.",
        "# TYPE threadlog_batches_total counter",
        f"threadlog_batches_total {stats.batches_total}",
        "# HELP threadlog_batch_size_records Records per committed batch.",
        "# TYPE threadlog_batch_size_records histogram",
        *stats.batch_size.lines("threadlog_batch_size_records"),
        "# HELP threadlog_apply_seconds Time to apply and commit one batch.",
        "# TYPE threadlog_apply_seconds histogram",
        *stats.apply_seconds.lines("threadlog_apply_seconds"),
        "# HELP threadlog_lag_records Records between the last applied and the partition's end.",
        "# TYPE threadlog_lag_records gauge",
        *(
            f'threadlog_lag_records{{topic="{topic}",partition="{p}"}} {lag}'
            for p, lag in sorted(stats.lag.items())
        ),
        *_dead_letter_lines(stats),
        "# HELP threadlog_worker_start_time_seconds When this worker started (Unix time).",
        "# TYPE threadlog_worker_start_time_seconds gauge",
        f"threadlog_worker_start_time_seconds {stats.started_at:.3f}",
    ]
    return "\n".join(lines) + "\n"


def _response(
    status: str, body: bytes, content_type: str, *, head: bool = False, extra: str = ""
) -> bytes:
    # HEAD (RFC 9110 9.3.2): the GET's status and headers, Content-Length included, no body.
    lines = (
        f"HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\n{extra}"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return lines.encode() + (b"" if head else body)


_ALLOW = "allow: GET, HEAD\r\n"


async def serve_metrics(host: str, port: int, exposition: Callable[[], str]) -> asyncio.Server:
    """Serve GET (and HEAD) /metrics (the exposition) and /healthz (200 while the loop runs)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            method, path, *_ = request.split(b"\r\n", 1)[0].decode("latin-1").split(" ")
            path = path.split("?", 1)[0]
            head = method == "HEAD"
            if method not in ("GET", "HEAD"):
                answer = _response(
                    "405 Method Not Allowed", b"GET only\n", "text/plain", extra=_ALLOW
                )
            elif path == "/metrics":
                answer = _response(
                    "200 OK",
                    exposition().encode(),
                    "text/plain; version=0.0.4; charset=utf-8",
                    head=head,
                )
            elif path == "/healthz":
                answer = _response("200 OK", b'{"status":"ok"}', "application/json", head=head)
            else:
                answer = _response(
                    "404 Not Found", b"/metrics or /healthz\n", "text/plain", head=head
                )
            writer.write(answer)
            await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, ValueError, ConnectionError):
            pass  # a client that sends no request line gets no answer
        finally:
            writer.close()

    server = await asyncio.start_server(handle, host, port)
    log.info("metrics listening", url=f"http://{host}:{port}/metrics")
    return server
