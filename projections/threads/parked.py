"""What a parked record says about its event: the outcome `dead_lettered`, with the reason.

Pure, and decided from the record alone (its headers, its log timestamp, the error), so the
worker, a rebuild and `verify`'s fold all record the same outcome for the same record. Without
it `GET /v1/events/{id}` would answer `pending` forever for an event that will never apply.
A parked record never hides what an event of the same id already did: an applied or rejected
outcome stands, and a redriven record that applies replaces `dead_lettered`.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import msgspec

from events import EVENT_TYPES
from events.fields import Id
from projections.threads.state import Outcome

DEAD_LETTERED = "dead_lettered"
_REASON_CHARS = 500


def parked_outcome(
    headers: Sequence[tuple[str, bytes]], timestamp_ms: int, stage: str, error: str
) -> Outcome | None:
    """The outcome of the event a parked record carried, or None when it names no valid id."""
    attributes = dict(headers)
    try:
        event_id = msgspec.convert(attributes.get("ce_id", b"").decode(), Id)
        event_type = attributes.get("ce_type", b"").decode()
    except (UnicodeDecodeError, msgspec.ValidationError):
        return None
    reason = f"{stage}: {error}".replace("\x00", "")[:_REASON_CHARS]
    return Outcome(
        event_id=event_id,
        event_type=event_type if event_type in EVENT_TYPES else "unknown",
        outcome=DEAD_LETTERED,
        reason=reason,
        at=datetime.fromtimestamp(timestamp_ms / 1000, UTC),
    )
