"""Planned events through ingest's own validation, into the envelopes the log will hold.

Each planned event is written as a producer would post it and decoded by `events.decode_request`,
the function ingest decodes every request with: an imported event passes exactly the checks a
posted one does (types, lengths, ids, times, the configurable limits), and gets its
`recordedtime` the same way. There is no second validator to drift from the first.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from events import Envelope, InvalidEvents, Limits, Problem, decode_request, encode_json
from importers.plan import PlannedEvent


def source_of(format_: str) -> str:
    """The CloudEvents `source` of an import's events."""
    return f"/import/{format_}"


def posted(event: PlannedEvent, format_: str) -> dict[str, Any]:
    """The event as a producer posts it, marked as imported from `format_`."""
    return {
        "id": event.id,
        "type": event.type,
        "source": source_of(format_),
        "time": event.time,
        "importedfrom": format_,
        "data": event.data,
    }


def validated(
    events: Sequence[PlannedEvent], format_: str, limits: Limits, now: datetime
) -> list[Envelope]:
    """The envelopes of `events`, in order; InvalidEvents listing every problem (indexes into
    `events`) when ingest would refuse any of them."""
    envelopes: list[Envelope] = []
    problems: list[Problem] = []
    step = limits.max_batch_events
    for start in range(0, len(events), step):
        body = encode_json([posted(e, format_) for e in events[start : start + step]])
        try:
            envelopes.extend(decode_request(body, limits, now, shape="many"))
        except InvalidEvents as error:
            problems.extend(Problem(start + p.index, p.field, p.message) for p in error.problems)
    if problems:
        raise InvalidEvents(problems)
    return envelopes
