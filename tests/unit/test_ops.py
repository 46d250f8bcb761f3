"""The pure parts of the operator commands: versions, digests, dead-letter filters, metrics."""

import asyncio
from datetime import UTC, datetime

from eventlog.dead_letters import dead_letter_headers
from projections.dead_letter_ops import DeadLetter, Filter, original_headers, parse
from projections.digest import differences, digest
from projections.metrics import WorkerStats, render, serve_metrics
from projections.snapshot import Snapshot
from projections.versions import mismatches

AT = datetime(2026, 11, 25, 12, tzinfo=UTC)


def test_versions_match_when_the_tables_carry_the_code_version_or_none_yet() -> None:
    """Equal versions, and a projection with no stored version (a fresh one), pass."""
    assert mismatches({"threads": 2}, {"threads": 2}, "public") == []
    assert mismatches({"threads": 2}, {}, "public") == []


def test_a_newer_code_version_points_to_rebuild() -> None:
    """Tables older than the code name the projection, both versions and the command to run."""
    [problem] = mismatches({"threads": 2}, {"threads": 1}, "public")
    assert "version 1" in problem
    assert "version 2" in problem
    assert "`threadlog rebuild threads`" in problem


def test_equal_rows_digest_equally_and_any_changed_value_changes_the_digest() -> None:
    """Equal snapshots digest equally; any changed value changes the digest."""
    rows: Snapshot = {"t": [(1, "a", AT), (2, "b", None)]}
    assert digest(rows) == digest({"t": list(rows["t"])})
    assert digest(rows) != digest({"t": [(1, "a", AT), (2, "c", None)]})
    assert differences(rows, rows) == []
    [line] = differences(rows, {"t": [(1, "a", AT)]})
    assert line.startswith("t: 1 row(s) not in the fold, 0 missing")


def letter(offset: int, error: str = "boom", event_type: str = "CommentPosted") -> DeadLetter:
    """A dead letter as the worker parks it."""
    headers = dead_letter_headers(
        [("ce_id", f"e{offset}".encode()), ("ce_type", event_type.encode())],
        stage="apply",
        error=error,
        topic="t",
        partition=1,
        offset=offset,
        at=AT,
    )
    return parse(0, offset, b"art-1", b"{}", headers)


def test_dead_letter_filters_select_by_every_criterion_given() -> None:
    """Each filter narrows; ids match either the position on the topic or the event id."""
    first, second = letter(1, "value too long"), letter(2, "check violated", "CommentEdited")
    assert Filter(error="TOO LONG").matches(first)
    assert not Filter(error="long").matches(second)
    assert Filter(event_type="CommentEdited").matches(second)
    assert Filter(ids=("0:1",)).matches(first)
    assert Filter(ids=("e2",)).matches(second)
    assert not Filter(article="art-2").matches(first)
    assert Filter(since=AT).matches(first)
    assert not Filter(until=AT).matches(first)


def test_a_redriven_record_carries_the_producers_headers_only() -> None:
    """The dead-letter headers are stripped; the original ones are kept as they were."""
    assert original_headers(letter(1)) == [("ce_id", b"e1"), ("ce_type", b"CommentPosted")]


def test_metrics_render_counters_histograms_and_lag_per_partition() -> None:
    """The exposition carries the counters, cumulative buckets and one lag line per partition."""
    stats = WorkerStats()
    stats.batch_applied(records=150, applied=140, seconds=0.03)
    stats.lag = {0: 5, 1: 0}
    text = render(stats, "threadlog.events")
    assert "threadlog_events_applied_total 140" in text
    assert 'threadlog_batch_size_records_bucket{le="100"} 0' in text
    assert 'threadlog_batch_size_records_bucket{le="500"} 1' in text
    assert 'threadlog_apply_seconds_bucket{le="+Inf"} 1' in text
    assert 'threadlog_lag_records{topic="threadlog.events",partition="0"} 5' in text


async def test_the_metrics_server_answers_metrics_and_healthz() -> None:
    """GET /metrics serves the exposition, /healthz answers 200, anything else 404."""
    stats = WorkerStats(applied_total=7)
    server = await serve_metrics("127.0.0.1", 0, lambda: render(stats, "t"))
    port = server.sockets[0].getsockname()[1]

    async def get(path: str) -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(f"GET {path} HTTP/1.1\r\nhost: x\r\n\r\n".encode())
        answer = await reader.read()
        writer.close()
        return answer

    try:
        metrics, health, other = await get("/metrics"), await get("/healthz"), await get("/x")
    finally:
        server.close()
    assert metrics.startswith(b"HTTP/1.1 200 OK")
    assert b"threadlog_events_applied_total 7" in metrics
    assert health.startswith(b"HTTP/1.1 200 OK")
    assert other.startswith(b"HTTP/1.1 404")
