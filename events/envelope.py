"""The envelope every event travels in; its attribute names are those of CloudEvents 1.0."""

from datetime import datetime

import msgspec

from events.catalog import Event


class Envelope(msgspec.Struct, frozen=True, kw_only=True):
    """A validated event with its CloudEvents context attributes, all of them filled in.

    `id` is the idempotency key: the log may hold the same id twice (a producer retried), and the
    projections apply it once.
    """

    id: str
    type: str
    source: str
    time: datetime
    data: Event
    specversion: str = "1.0"
    recordedtime: datetime | None = None
    """When ingest accepted the event into the log (the CloudEvents `recordedtime` extension).

    `time` is the producer's, shown to readers; rules that depend on when something happened
    (bans, the edit window) use `accepted_at`, so a producer's clock cannot decide them and a
    replay, reading the same record, decides the same."""

    importedfrom: str | None = None
    """The format this event was imported from (the CloudEvents extension `importedfrom`, one
    of `events.imported.IMPORT_SOURCES`), on imported history only; None for a live event. It
    stays in the record, so every replay decides an imported event as imported."""

    @property
    def accepted_at(self) -> datetime:
        """The time the rules go by: ingest's `recordedtime`, or `time` for records written
        before ingest recorded it (deterministic either way: both are in the record).

        Imported history goes by `time`, when the source accepted it: a ban the source
        recorded in 2012 covers from 2012, and a live edit of a comment from 2012 is outside
        the edit window, whenever the import ran."""
        if self.importedfrom is not None:
            return self.time
        return self.recordedtime or self.time

    @property
    def key(self) -> str:
        """The Kafka key: the article id, or `author:<id>` for an author's events."""
        return self.data.key
