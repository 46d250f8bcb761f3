"""An article's recent comment changes, and which of them a stream still has to send. Pure.

A stream sends the changes after the last one it sent. Two rules keep it from sending what a read
no longer shows:
- a change superseded by a later change of the same comment in the same round is skipped (the
  later one says what became of the comment: a tombstone, or `removed`);
- a change from before the stream started following (a replay after Last-Event-ID) is read
  again rather than sent as it was read then: the comment may have been deleted, rejected or
  swept by a ban since, and a ban is not streamed.
A stream whose last sent change is older than what the history still holds has missed changes:
it must be told to reload (FellBehind).
"""

from collections import deque
from typing import NamedTuple


class Change(NamedTuple):
    """One change of one comment, as streams send it."""

    offset: int
    comment_id: str
    event: str | None
    """`comment` (the comment as a read returns it) or `removed` (a read no longer shows it);
    None until read (the article had no stream when it changed)."""
    data: bytes | None


class FellBehind(Exception):
    """Changes the stream did not send have left the history."""


class ToSend(NamedTuple):
    """A change to send, and whether its stored view may be sent as it is."""

    change: Change
    reread: bool


class History:
    """The last `size` changes of one article, and the newest offset that left it."""

    def __init__(self, size: int) -> None:
        self.changes: deque[Change] = deque(maxlen=size)
        self.dropped_upto = -1

    def __len__(self) -> int:
        return len(self.changes)

    @property
    def full(self) -> bool:
        """Whether the next append drops the oldest change."""
        return len(self.changes) == self.changes.maxlen

    @property
    def last_offset(self) -> int:
        """The newest change's offset, -1 when there is none."""
        return self.changes[-1].offset if self.changes else -1

    def append(self, change: Change) -> Change | None:
        """Keep `change`; the one it pushed out, if any."""
        dropped = self.changes[0] if self.full else None
        if dropped is not None:
            self.dropped_upto = dropped.offset
        self.changes.append(change)
        return dropped

    def forget_views(self) -> None:
        """Drop every stored view (an erasure): each change is read again when sent."""
        self.changes = deque(
            (change._replace(event=None, data=None) for change in self.changes),
            maxlen=self.changes.maxlen,
        )

    def after(self, last: int, live_from: int) -> list[ToSend]:
        """What a stream that sent up to `last`, and follows live since `live_from`, sends now:
        oldest first, each comment once, at its newest change; history re-read."""
        if last < self.dropped_upto:
            raise FellBehind(f"changes up to {self.dropped_upto} left the history")
        pending = [change for change in self.changes if change.offset > last]
        newest = {change.comment_id: change.offset for change in pending}
        return [
            ToSend(change, reread=change.offset <= live_from or change.data is None)
            for change in pending
            if newest[change.comment_id] == change.offset
        ]
