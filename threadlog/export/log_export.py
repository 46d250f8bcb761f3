"""`threadlog export`: the log, whole or one article's or one person's events, as JSON Lines.

Each line is one event in the format of importers/threadlog_format.py, the one
`threadlog import threadlog FILE` reads back; lines come in export order (log_order.py), with
their personal fields opened (log_order.py says why): an export file holds personal data in
clear.
"""

from dataclasses import dataclass
from typing import BinaryIO

from aiokafka.structs import ConsumerRecord

from eventlog.connection import Kafka
from events import Envelope
from importers.threadlog_format import record_line
from subject_keys import KeyStore
from threadlog.export.log_order import ReadStats, read_in_export_order
from threadlog.export.roles import roles


@dataclass(frozen=True)
class Selection:
    """Which events to export: all of them, one article's, or those naming one person."""

    article: str | None = None
    author: str | None = None

    def prefilter(self, record: ConsumerRecord) -> bool:
        """Whether the record may be selected, judged on its bytes: an article's events carry
        its id as their key; an event naming a person holds their id, quoted, in its JSON (ids
        need no escaping there). Records failing this are not decoded at all."""
        if self.article is not None:
            return bool(record.key == self.article.encode())
        if self.author is not None:
            return f'"{self.author}"'.encode() in (record.value or b"")
        return True

    def wants(self, envelope: Envelope) -> bool:
        """Whether the decoded event is selected (a key alone could be another kind's)."""
        if self.article is not None:
            return getattr(envelope.data, "article_id", None) == self.article
        if self.author is not None:
            return bool(roles(envelope.data, self.author))
        return True


async def export_log(
    kafka: Kafka, topic: str, selection: Selection, out: BinaryIO, keys: KeyStore
) -> ReadStats:
    """Write the selected events to `out`, one line each, opened with `keys`, and say what was
    read."""
    stats = ReadStats()
    async for clear in read_in_export_order(kafka, topic, selection.prefilter, stats, keys):
        if selection.wants(clear.envelope):
            out.write(record_line(clear.headers, clear.value))
            stats.events += 1
    return stats
