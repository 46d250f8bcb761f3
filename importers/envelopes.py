"""Planned events through ingest's own validation, into the envelopes the log will hold.

Each planned event is written as a producer would post it and decoded by `events.decode_request`,
the function ingest decodes every request with: an imported event passes exactly the checks a
posted one does (types, lengths, ids, times, the configurable limits), and gets its
`recordedtime` the same way. There is no second validator to drift from the first.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from events import (
    Envelope,
    InvalidEvents,
    Limits,
    Problem,
    decode_request,
    encode_json,
    encode_record,
)
from importers.plan import PlannedEvent

Record = tuple[bytes, bytes, list[tuple[str, bytes]]]
"""A Kafka record's key, value and headers, as `events.encode_record` makes them."""


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


def records(envelopes: Sequence[Envelope]) -> list[Record]:
    """`encode_record` of each envelope, in order, at a third of its cost for an import.

    Measured on a 20 MB Disqus export, encode_record took 12 µs an event, as long as ingest's
    validation: most of it the headers every event of an import shares (the spec version, its
    source, its type's schema, `recordedtime`, the mark), written again for each. Here the
    first envelope of each (type, source, recordedtime, mark) goes through encode_record itself,
    and the others get its headers with their own id and time: the same records, from the same
    function, whatever headers it writes."""
    found: list[Record] = []
    shared: dict[tuple[str, str, object, object], tuple[list[tuple[str, bytes]], int, int]] = {}
    for envelope in envelopes:
        kind = (envelope.type, envelope.source, envelope.recordedtime, envelope.importedfrom)
        template = shared.get(kind)
        if template is None:
            record = encode_record(envelope)
            names = [name for name, _ in record[2]]
            shared[kind] = (record[2], names.index("ce_id"), names.index("ce_time"))
            found.append(record)
            continue
        headers, at_id, at_time = template
        own = headers.copy()
        own[at_id] = ("ce_id", envelope.id.encode())
        own[at_time] = ("ce_time", envelope.time.isoformat().encode())
        found.append((envelope.key.encode(), encode_json(envelope.data), own))
    return found
