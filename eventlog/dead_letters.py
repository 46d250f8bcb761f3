"""Dead letters: records a reader can never decode, parked whole on a topic of their own.

A dead letter is the original record untouched (key, value, headers) plus headers saying where it
came from and what went wrong, so that it can be inspected and redriven after a fix. Every reader
of the log (the worker, subscribers) writes the same headers.
"""

from collections.abc import Sequence
from datetime import datetime

DLQ_HEADER_PREFIX = "threadlog.dlq."
_MAX_ERROR_BYTES = 4000


def dead_letter_headers(
    headers: Sequence[tuple[str, bytes]],
    *,
    stage: str,
    error: str,
    topic: str,
    partition: int,
    offset: int,
    at: datetime,
) -> list[tuple[str, bytes]]:
    """The original headers followed by the dead-letter headers (stage: decode, apply, ...)."""
    return [
        *headers,
        (f"{DLQ_HEADER_PREFIX}stage", stage.encode()),
        (f"{DLQ_HEADER_PREFIX}error", error.encode()[:_MAX_ERROR_BYTES]),
        (f"{DLQ_HEADER_PREFIX}topic", topic.encode()),
        (f"{DLQ_HEADER_PREFIX}partition", str(partition).encode()),
        (f"{DLQ_HEADER_PREFIX}offset", str(offset).encode()),
        (f"{DLQ_HEADER_PREFIX}time", at.isoformat().encode()),
    ]
