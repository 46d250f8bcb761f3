"""Operating the dead-letter topic: list, show, redrive and purge parked records.

The topic is append-only, so what an operator did is recorded in `dead_letter_actions` and a
resolved dead letter no longer counts. A redrive appends the original record (key, value and
headers, without the `threadlog.dlq.*` ones) to the event topic again: the worker applies it
like any new event, once, because its event id is recorded when it applies; redriving the same
event twice, or after a crash between the append and the record of the action, changes nothing.

Order within a thread: later events of a thread are applied AROUND a dead-lettered one, not held
behind it. Holding would stop a whole partition (every thread on it) behind one poison record.
A redriven event is decided against the thread as it is when it comes back, and gets its outcome
(`applied` or `rejected` with a reason) like any other; a rebuild decides it at that same later
position, so the rebuilt copy agrees with the live one.
"""

from collections.abc import Sequence
from datetime import datetime

import msgspec
from aiokafka import AIOKafkaProducer

from eventlog.connection import Kafka
from eventlog.dead_letters import DLQ_HEADER_PREFIX
from projections.log_reader import read_range
from projections.sql_rows import Conn


class DeadLetter(msgspec.Struct, frozen=True, kw_only=True):
    """One parked record: where it sits on the dead-letter topic, what it was, what went wrong."""

    partition: int
    offset: int
    key: str | None
    event_id: str | None
    event_type: str | None
    stage: str
    error: str
    source: str
    """topic:partition:offset of the record in the event log."""
    at: datetime | None
    resolved: str | None = None
    """`redriven` or `purged` once an operator dealt with it."""
    headers: list[tuple[str, bytes]] = []
    value: bytes | None = None

    @property
    def id(self) -> str:
        """How operators name it: `<dlq partition>:<dlq offset>`."""
        return f"{self.partition}:{self.offset}"


class Filter(msgspec.Struct, frozen=True, kw_only=True):
    """Which dead letters a command touches; every given criterion must hold."""

    ids: tuple[str, ...] = ()
    error: str | None = None
    """A substring of the error, case-insensitive."""
    event_type: str | None = None
    article: str | None = None
    """The record's key: an article id (or `author:<id>`)."""
    since: datetime | None = None
    until: datetime | None = None
    include_resolved: bool = False

    def matches(self, letter: DeadLetter) -> bool:
        """Whether `letter` is selected."""
        at = letter.at
        return (
            (self.include_resolved or letter.resolved is None)
            and (not self.ids or letter.id in self.ids or (letter.event_id in self.ids))
            and (self.error is None or self.error.lower() in letter.error.lower())
            and (self.event_type is None or letter.event_type == self.event_type)
            and (self.article is None or letter.key == self.article)
            and (self.since is None or (at is not None and at >= self.since))
            and (self.until is None or (at is not None and at < self.until))
        )


def _text(headers: dict[str, bytes], name: str) -> str | None:
    raw = headers.get(name)
    return raw.decode("utf-8", "replace") if raw is not None else None


def parse(
    partition: int,
    offset: int,
    key: bytes | None,
    value: bytes | None,
    headers: Sequence[tuple[str, bytes]],
    resolved: str | None = None,
) -> DeadLetter:
    """A dead letter from a record of the dead-letter topic."""
    h = dict(headers)
    at = _text(h, f"{DLQ_HEADER_PREFIX}time")
    p = DLQ_HEADER_PREFIX
    return DeadLetter(
        partition=partition,
        offset=offset,
        key=key.decode("utf-8", "replace") if key is not None else None,
        event_id=_text(h, "ce_id"),
        event_type=_text(h, "ce_type"),
        stage=_text(h, f"{p}stage") or "?",
        error=_text(h, f"{p}error") or "",
        source=f"{_text(h, f'{p}topic')}:{_text(h, f'{p}partition')}:{_text(h, f'{p}offset')}",
        at=datetime.fromisoformat(at) if at else None,
        resolved=resolved,
        headers=list(headers),
        value=value,
    )


def original_headers(letter: DeadLetter) -> list[tuple[str, bytes]]:
    """The record's headers as the producer wrote them: without ours."""
    return [(k, v) for k, v in letter.headers if not k.startswith(DLQ_HEADER_PREFIX)]


async def read_dead_letters(kafka: Kafka, dlq_topic: str, conn: Conn) -> list[DeadLetter]:
    """Every record of the dead-letter topic, with what an operator did to each."""
    actions = {
        (r["partition"], r["offset"]): r["action"]
        for r in await conn.fetch(
            'select partition, "offset", action from dead_letter_actions where dlq_topic = $1',
            dlq_topic,
        )
    }
    return [
        parse(
            r.partition, r.offset, r.key, r.value, r.headers, actions.get((r.partition, r.offset))
        )
        async for r in read_range(kafka, dlq_topic)
    ]


async def _record(conn: Conn, dlq_topic: str, letters: Sequence[DeadLetter], action: str) -> None:
    await conn.execute(
        'insert into dead_letter_actions (dlq_topic, partition, "offset", action)'
        " select $1, * from unnest($2::int[], $3::bigint[], $4::text[])"
        ' on conflict (dlq_topic, partition, "offset") do update set action = excluded.action,'
        " at = now()",
        dlq_topic,
        [d.partition for d in letters],
        [d.offset for d in letters],
        [action] * len(letters),
    )


async def redrive(
    producer: AIOKafkaProducer,
    topic: str,
    conn: Conn,
    dlq_topic: str,
    letters: Sequence[DeadLetter],
) -> None:
    """Append each letter's original record to `topic`, wait for every ack, then record it."""
    pending = [
        await producer.send(
            topic,
            key=d.key.encode() if d.key is not None else None,
            value=d.value,
            headers=original_headers(d),
        )
        for d in letters
    ]
    for ack in pending:
        await ack
    await _record(conn, dlq_topic, letters, "redriven")


async def purge(conn: Conn, dlq_topic: str, letters: Sequence[DeadLetter]) -> None:
    """Mark the letters purged: they stay on the topic (it is append-only) but no longer count."""
    await _record(conn, dlq_topic, letters, "purged")
