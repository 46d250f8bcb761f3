"""Append each request to the log whole or not at all: Kafka transactions with group commit.

A request's records are produced inside a Kafka transaction; readers of the log read committed
records only (`eventlog.reading.READ_COMMITTED`), so a request the broker refuses halfway (a
record refused, a broker restart, a timeout) is aborted and nothing of it is ever read.

A transaction costs three round trips to the broker (add its partitions, produce, commit)
however many records it carries, so requests are committed in groups: the lane whose turn it
is (a transactional producer) takes every request waiting in the queue into one transaction,
and all of them are acknowledged together or all refused together. While it commits, the
queue fills for the next turn. One transaction is open at a time, and two producers take
turns: a producer's next transaction cannot add partitions until the broker has written the
markers of its last one, and aiokafka backs off 20 ms when it tries (measured: 65 requests/s
at concurrency 1 with one producer, 777/s with two taking turns); more groups open at once
made smaller groups and cost more per request (1,077 against 1,480 requests/s at c8).

A transaction's records go to the broker as batches ingest builds (record_batches.py): one per
partition, cut at the log's record size limit, all in one produce request.

A request of a single event skips all this (services/ingest/single_record.py): one record is
appended whole or not at all without a transaction.
"""

import asyncio
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Final

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import (
    MessageSizeTooLargeError,
    ProducerFenced,
    RecordListTooLargeError,
)
from aiokafka.structs import RecordMetadata

from eventlog.connection import servers
from services.ingest.producers import LogSettings, connect, retire
from services.ingest.record_batches import send_in_batches
from services.ingest.record_size import BROKER_DEFAULT_MAX_MESSAGE_BYTES, Record
from services.ingest.single_record import SingleRecordProducer

log = structlog.get_logger("threadlog.ingest")

MAX_GROUP_RECORDS: Final = 10_000
"""Most records in one transaction: bounds how long the requests of a group wait on each other."""

_REFUSED_FOR_SIZE = (MessageSizeTooLargeError, RecordListTooLargeError)


class AppendFailed(Exception):
    """Kafka did not take the request; none of its records is visible to readers."""


class NotConnected(AppendFailed):
    """No producer is connected to Kafka yet (starting, or replacing a broken one)."""


@dataclass(eq=False)
class _Request:
    records: list[Record]
    done: asyncio.Future[list[RecordMetadata]]
    committing: bool = False
    """Set when its transaction's commit began: from then on only Kafka's answer decides."""


@dataclass(eq=False)
class AtomicAppender:
    """Appends requests to one topic, each atomically; `start()` connects in the background."""

    settings: LogSettings
    on_refused_for_size: Callable[[], None] = lambda: None
    """Called when the broker refused a record for its size: the topic's limit changed."""
    max_batch_bytes: Callable[[], int] = lambda: BROKER_DEFAULT_MAX_MESSAGE_BYTES
    """The largest record batch the log takes now (the record size limit, RecordLimit.bytes)."""
    _queue: asyncio.Queue[_Request] = field(default_factory=asyncio.Queue)
    _producers: dict[str, AIOKafkaProducer] = field(default_factory=dict)
    _lanes: list[asyncio.Task[None]] = field(default_factory=list)
    _turn: asyncio.Lock = field(default_factory=asyncio.Lock)
    """Held by the lane whose transaction is open: one at a time, the lanes taking turns."""
    _single: SingleRecordProducer = field(init=False)
    """For requests of one event: one record needs no transaction to be appended whole."""
    _retiring: set[asyncio.Task[None]] = field(default_factory=set)
    """Replaced producers being stopped, held so that their tasks are not collected."""

    def __post_init__(self) -> None:
        self._single = SingleRecordProducer(self.settings)

    @property
    def connected(self) -> bool:
        """Whether some lane has a producer ready to take requests."""
        return bool(self._producers)

    def any_producer(self) -> AIOKafkaProducer:
        """A connected producer, for metadata queries; raises NotConnected when there is none."""
        for producer in self._producers.values():
            return producer
        raise NotConnected(f"not connected to Kafka at {servers(self.settings.kafka)}")

    def start(self) -> None:
        """Start every lane; each connects its producer, retrying until Kafka answers."""
        self._single.start()
        self._lanes = [
            asyncio.create_task(self._lane(transactional_id))
            for transactional_id in self.settings.transactional_ids
        ]

    async def stop(self) -> None:
        """Stop the lanes; a transaction still open is aborted by the broker (fenced on restart)."""
        for lane in self._lanes:
            lane.cancel()
        for lane in self._lanes:
            with suppress(asyncio.CancelledError):
                await lane
        for producer in list(self._producers.values()):
            await producer.stop()
        self._producers.clear()
        await asyncio.gather(*self._retiring, return_exceptions=True)
        await self._single.stop()

    async def append(self, records: list[Record]) -> list[RecordMetadata]:
        """Append `records` in one transaction (shared with concurrent requests); their metadata
        in order. Raises AppendFailed when nothing of them was committed."""
        if not self._producers:
            raise NotConnected(f"not connected to Kafka at {servers(self.settings.kafka)}")
        single = self._single.producer
        if len(records) == 1 and single is not None:
            try:
                return [await self._single.append(single, records[0])]
            except Exception as error:
                if isinstance(error, _REFUSED_FOR_SIZE):
                    self.on_refused_for_size()
                raise AppendFailed(repr(error)) from error
        request = _Request(records, asyncio.get_running_loop().create_future())
        self._queue.put_nowait(request)
        try:
            return await asyncio.wait_for(asyncio.shield(request.done), self.settings.timeout_s)
        except TimeoutError:
            if request.committing:
                # Kafka decides now; the lane answers within its own timeout of the commit.
                return await request.done
            # The lane sees it is done: it skips it, or aborts the transaction it is in.
            request.done.cancel()
            raise AppendFailed(
                f"not acknowledged within {self.settings.timeout_s:g} s; nothing appended"
            ) from None

    async def _lane(self, transactional_id: str) -> None:
        producer = await self._connect(transactional_id)
        while True:
            async with self._turn:
                group = await self._take_group()
                if not group:
                    continue
                try:
                    written = await self._commit(producer, group)
                except Exception as caught:
                    error: Exception | None = caught
                else:
                    error = None
            if error is not None:
                # Whatever failed (Kafka, a timeout, aiokafka's state checks), the group's
                # requests get 503 and the lane carries on: it must never die with the process
                # still taking requests.
                refused = AppendFailed(repr(error))
                for request in group:
                    if not request.done.done():
                        request.done.set_exception(refused)
                if isinstance(error, _REFUSED_FOR_SIZE):
                    self.on_refused_for_size()
                producer = await self._recover(transactional_id, producer, error, group)
                continue
            for request, metadata in zip(group, written, strict=True):
                if not request.done.done():
                    request.done.set_result(metadata)

    async def _take_group(self) -> list[_Request]:
        """The next request and every one waiting behind it, up to MAX_GROUP_RECORDS records;
        requests whose client stopped waiting are left out."""
        group = [await self._queue.get()]
        size = len(group[0].records)
        while not self._queue.empty() and size < MAX_GROUP_RECORDS:
            request = self._queue.get_nowait()
            group.append(request)
            size += len(request.records)
        return [request for request in group if not request.done.done()]

    async def _commit(
        self, producer: AIOKafkaProducer, group: list[_Request]
    ) -> list[list[RecordMetadata]]:
        records = [record for request in group for record in request.records]
        async with asyncio.timeout(self.settings.timeout_s):
            await producer.begin_transaction()
            flat = await send_in_batches(
                producer, self.settings.topic, records, self.max_batch_bytes()
            )
        if any(request.done.done() for request in group):
            raise _Abandoned("a request of the group timed out before its commit")
        for request in group:
            request.committing = True
        async with asyncio.timeout(self.settings.timeout_s):
            await producer.commit_transaction()
        written, start = [], 0
        for request in group:
            written.append(flat[start : start + len(request.records)])
            start += len(request.records)
        return written

    async def _recover(
        self,
        transactional_id: str,
        producer: AIOKafkaProducer,
        error: Exception,
        group: list[_Request],
    ) -> AIOKafkaProducer:
        """After a failure the producer is known to survive (a record refused, a request
        abandoned, a timeout), abort the transaction and keep the producer. After any other
        (its sequence state lost in a broker restart, fenced, the commit's outcome unknown), or
        when the abort fails, replace it: a new producer with the same transactional id makes
        the broker abort what the old one left open."""
        log.warning(
            "transaction failed; its requests get 503",
            error=repr(error),
            requests=len(group),
            transactional_id=transactional_id,
        )
        if isinstance(error, ProducerFenced):
            log.warning(
                "fenced: a newer producer took this transactional id. If this repeats, two live"
                " ingest processes share THREADLOG_INGEST_INSTANCE_ID; give each its own",
                transactional_id=transactional_id,
            )
        survivable = isinstance(error, (*_REFUSED_FOR_SIZE, _Abandoned, TimeoutError))
        if survivable and not any(request.committing for request in group):
            try:
                async with asyncio.timeout(self.settings.timeout_s):
                    await producer.abort_transaction()
                return producer
            except Exception as abort_error:
                # Any failure to abort (aiokafka asserts on states it cannot leave): replace it.
                log.warning("could not abort; replacing the producer", error=repr(abort_error))
        self._producers.pop(transactional_id, None)
        # Stopped in the background: against a broker that is down, stopping takes its timeout,
        # and the new producer fences the old one anyway.
        retiring = asyncio.create_task(retire(producer, self.settings.timeout_s))
        self._retiring.add(retiring)
        retiring.add_done_callback(self._retiring.discard)
        return await self._connect(transactional_id)

    async def _connect(self, transactional_id: str) -> AIOKafkaProducer:
        producer = await connect(self.settings, transactional_id)
        self._producers[transactional_id] = producer
        return producer


class _Abandoned(Exception):
    """A request of the group stopped waiting before the commit; the group is aborted."""
