"""Limits a deployment may tighten; the event types' own bounds are the ceiling."""

import msgspec


class Limits(msgspec.Struct, frozen=True, kw_only=True):
    """Bounds on what ingest accepts, configurable per deployment."""

    max_comment_chars: int = 10_000
    max_batch_events: int = 1_000
