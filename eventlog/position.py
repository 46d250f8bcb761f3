"""Position tokens: where an event sits in the log, as ingest answers it and readers wait for it.

A token is `<partition>:<offset>` of the event log, e.g. `3:1042`. Offsets only grow within a
partition, so "the projection has applied 3:1042" means its next offset on partition 3 is past
1042. A list of tokens is comma-separated (`3:1042,7:88`): a reader waits for all of them.
"""

import re
from typing import NamedTuple

APPLIED_CHANNEL = "threadlog_applied"
"""The PostgreSQL NOTIFY channel a projection worker signals, in the transaction that moves its
applied positions (payload: its schema), so readers learn of a commit at once, not at a poll."""

_TOKEN = re.compile(r"^(\d{1,6}):(\d{1,19})$")
MAX_TOKENS = 100


class Position(NamedTuple):
    """One event's partition and offset."""

    partition: int
    offset: int

    def token(self) -> str:
        """The position as the text clients carry around."""
        return f"{self.partition}:{self.offset}"


class BadPosition(ValueError):
    """A token that is not `<partition>:<offset>`."""


def parse_positions(text: str) -> list[Position]:
    """The positions of a comma-separated token list; BadPosition says which part is wrong."""
    parts = [part.strip() for part in text.split(",")]
    if len(parts) > MAX_TOKENS:
        raise BadPosition(f"at most {MAX_TOKENS} positions, got {len(parts)}")
    positions = []
    for part in parts:
        match = _TOKEN.match(part)
        if match is None:
            raise BadPosition(f"{part!r} is not a position token like 3:1042")
        positions.append(Position(int(match.group(1)), int(match.group(2))))
    return positions
