"""Limits a deployment may tighten; the event types' own bounds are the ceiling."""

from datetime import UTC, datetime

import msgspec

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Limits(msgspec.Struct, frozen=True, kw_only=True):
    """Bounds on what ingest accepts, configurable per deployment."""

    max_comment_chars: int = 10_000
    max_batch_events: int = 1_000
    earliest_time: datetime = EPOCH
    """The earliest event `time` (and ban `until`) ingest accepts. Lower it to import history
    from before 1970; year 1 in a zone east of UTC is year 0 in UTC, which neither PostgreSQL
    nor Python's datetime can hold."""
    max_future_s: float = 300.0
    """How far past ingest's clock an event's `time` may be: producers' clocks drift, but a
    time far ahead would sort first for ever and decide rules against events not yet written."""
