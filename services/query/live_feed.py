"""The live feed of one query process: comment changes, released once the read model has them.

One subscription per process (no consumer group, nothing committed) reads the log from the
projection's applied offsets as they were when the feed started. Each comment event whose type
declares `STREAMED` (events/catalog.py) waits in a per-partition queue until `AppliedPositions`
shows the projection past it; it is then read once through the permalink query (so what is
pushed is what a read returns) and appended to its article's short history, and the article's
streams are woken.
A stream costs a history cursor and a waiter: no query, no task, no queue of its own.

Resuming with Last-Event-ID (`<partition>:<offset>`) replays the history after it. When the feed
cannot prove it holds everything after that id (it started later or forgot entries to stay
bounded; the id is past what it has read, on another partition than the article's, or no
position at all) the stream gets a `reset` event: reload the thread, then follow again. The
reset carries the id to resume from, a position whose changes a read already shows, so a later
reconnect resumes from there instead of resetting again.
"""

import asyncio
from collections import OrderedDict, deque
from collections.abc import AsyncIterator
from contextlib import aclosing, suppress
from typing import Any

import asyncpg
import structlog
from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaError
from aiokafka.partitioner import murmur2
from litestar.response import ServerSentEventMessage

from eventlog.connection import Kafka, client_args
from eventlog.position import Position
from eventlog.subscribe import subscribe
from events import STREAMED_TYPES, AuthorErased, encode_json
from services.query.change_history import Change, FellBehind, History
from services.query.positions import AppliedPositions
from services.query.read_errors import CommentNotFound
from services.query.reads import read_comment
from services.query.stream_limits import StreamLimits
from services.query.wakeup import Wakeup
from services.transient import PG_TRANSIENT

log = structlog.get_logger("threadlog.query.live")

KEEPALIVE_S = 15.0

_ERASURE = ""
"""The article id an erasure waits under in the pending queues (no article has an empty id)."""


class _Article:
    """An article's recent changes and the streams following it."""

    def __init__(self, history: int) -> None:
        self.partition: int | None = None
        self.history = History(history)
        self.wakeup = Wakeup()
        self.streams = 0


class LiveFeed:
    """Follows the log for every stream of one process (started by the first stream)."""

    def __init__(
        self,
        pool: "asyncpg.Pool[Any]",
        positions: AppliedPositions,
        kafka: Kafka,
        topic: str,
        history: int = 64,
        max_articles: int = 10_000,
        max_pending: int = StreamLimits().max_pending,
    ) -> None:
        self._pool = pool
        self._positions = positions
        self._kafka = kafka
        self._topic = topic
        self._history = history
        self._max_articles = max_articles
        self._articles: OrderedDict[str, _Article] = OrderedDict()
        self._pending: dict[int, deque[tuple[int, str, str]]] = {}
        self._max_pending = max_pending
        self._pending_count = 0
        """Changes read but not yet applied by the projection; past `max_pending` the feed stops
        reading until the worker catches up (Kafka keeps the rest)."""
        self._covered_from: dict[int, int] = {}
        self._read_upto: dict[int, int] = {}
        """Per partition, the next offset the feed reads: ids at or past it are not provable."""
        self._partitions = 0
        """How many partitions the topic has (0: unknown), to find an article's partition."""
        self._forgotten: dict[int, int] = {}
        """Per partition, the offset before which some history may have been dropped."""
        self._lock = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []
        self.streams = 0

    async def start(self) -> None:
        """Begin at the offsets the projection has applied now: everything after them is seen."""
        await self._positions.refresh()
        self._covered_from = dict(self._positions.next_offsets)
        self._read_upto = dict(self._covered_from)
        self._partitions = await self._partition_count()
        self._tasks = [
            asyncio.create_task(self._read(), name="live-feed-read"),
            asyncio.create_task(self._release_on_change(), name="live-feed-release"),
        ]

    async def stop(self) -> None:
        """Stop following the log."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with suppress(asyncio.CancelledError):
                await task

    async def _partition_count(self) -> int:
        consumer = AIOKafkaConsumer(**client_args(self._kafka))
        try:
            await consumer.start()
            # As log_end.py: the consumer's own view covers subscribed topics only.
            cluster = await consumer._client.fetch_all_metadata()
            return len(cluster.partitions_for_topic(self._topic) or ())
        except (KafkaError, OSError) as error:
            # Then an article's partition is known from its first change only.
            log.warning("cannot read the topic's partitions", error=repr(error))
            return 0
        finally:
            await consumer.stop()

    async def _read(self) -> None:
        read_upto = self._read_upto
        while True:
            deliveries = subscribe(self._kafka, self._topic, start=read_upto, poll_timeout_ms=100)
            try:
                async with aclosing(deliveries):
                    async for delivery in deliveries:
                        read_upto[delivery.partition] = delivery.offset + 1
                        data = delivery.envelope.data
                        if isinstance(data, AuthorErased):
                            # Released like a change, once applied: then no history holds
                            # the author's text (`_scrub`).
                            queue = self._pending.setdefault(delivery.partition, deque())
                            queue.append((delivery.offset, _ERASURE, ""))
                            self._pending_count += 1
                            await self._release()
                        elif isinstance(data, STREAMED_TYPES):
                            queue = self._pending.setdefault(delivery.partition, deque())
                            queue.append((delivery.offset, data.article_id, data.comment_id))
                            self._pending_count += 1
                            await self._release()
                            await self._until_room()
            except (KafkaError, OSError, RuntimeError, asyncpg.PostgresError) as error:
                # Streams stay open meanwhile; the feed resumes where it stopped reading.
                log.warning("live feed interrupted; resuming", error=repr(error))
                await asyncio.sleep(1)

    async def _until_room(self) -> None:
        # A lagging worker must not grow memory: wait for it here, without reading further.
        while self._pending_count >= self._max_pending:
            await self._positions.changed.wait()
            await self._release()

    async def _release_on_change(self) -> None:
        while True:
            await self._positions.changed.wait()
            try:
                await self._release()
            except PG_TRANSIENT as error:
                log.warning("cannot read a changed comment; retrying", error=repr(error))
                await asyncio.sleep(0.5)

    async def _release(self) -> None:
        async with self._lock:
            for partition, queue in self._pending.items():
                while queue and self._positions.applied(Position(partition, queue[0][0])):
                    offset, article_id, comment_id = queue[0]
                    if article_id == _ERASURE:
                        self._scrub()
                    else:
                        await self._publish(partition, offset, article_id, comment_id)
                    queue.popleft()
                    self._pending_count -= 1

    async def _publish(self, partition: int, offset: int, article_id: str, comment_id: str) -> None:
        article = self._article(article_id)
        article.partition = partition
        # Read once for all its streams; an article nobody follows is read only if one resumes.
        event, data = await self.view(article_id, comment_id) if article.streams else (None, None)
        dropped = article.history.append(Change(offset, comment_id, event, data))
        if dropped is not None:
            self._forget(partition, dropped.offset + 1)
        article.wakeup.fire()

    def _scrub(self) -> None:
        """An author was erased: forget every view the histories hold (each is read again
        when sent), so that none of their text stays in this process or reaches a stream.
        Erasures are rare; re-reading a history costs one read per change."""
        for article in self._articles.values():
            article.history.forget_views()

    def _article(self, article_id: str) -> _Article:
        article = self._articles.get(article_id)
        if article is None:
            article = self._articles[article_id] = _Article(self._history)
            self._evict()
        self._articles.move_to_end(article_id)
        return article

    def _evict(self) -> None:
        for article_id in list(self._articles):
            if len(self._articles) <= self._max_articles:
                return
            old = self._articles[article_id]
            if old.streams == 0:
                del self._articles[article_id]
                if old.partition is not None and old.history:
                    self._forget(old.partition, old.history.last_offset + 1)

    def _forget(self, partition: int, before: int) -> None:
        self._forgotten[partition] = max(before, self._forgotten.get(partition, 0))

    async def view(self, article_id: str, comment_id: str) -> tuple[str, bytes]:
        """The comment as a permalink read returns it now, or `removed` if a read hides it."""
        async with self._pool.acquire() as conn:
            try:
                page = await read_comment(conn, comment_id, article_id, 0, 0)
            except CommentNotFound:
                return "removed", encode_json({"comment_id": comment_id})
        return "comment", encode_json(page.comment)

    def _partition_of(self, article_id: str, article: _Article) -> int | None:
        """The article's partition: where its changes came from, or where ingest's producer
        sends its key (Kafka's default partitioner: murmur2 of the key)."""
        if article.partition is not None or not self._partitions:
            return article.partition
        # aiokafka ships no types, so murmur2 returns Any to mypy.
        return (murmur2(article_id.encode()) & 0x7FFFFFFF) % self._partitions  # type: ignore[no-any-return]

    def _resumable(self, article_id: str, article: _Article, after: Position | str) -> bool:
        """Whether the feed holds every change of the article after `after`: a position on the
        article's partition, not before what the feed covers and not past what it has read."""
        if isinstance(after, str) or after.partition != self._partition_of(article_id, article):
            return False
        start = max(
            self._covered_from.get(after.partition, 0), self._forgotten.get(after.partition, 0)
        )
        return start <= after.offset + 1 and after.offset < self._read_upto.get(after.partition, 0)

    def _resume_point(self, article_id: str, article: _Article) -> Position | None:
        """Where a stream told to reload goes on from: the last offset of the article's partition
        that is both applied (so a reload shows it) and read by the feed (so it is provable).
        None when the partition is unknown or holds nothing yet: resume from no id at all."""
        partition = self._partition_of(article_id, article)
        if partition is None:
            return None
        known = min(
            self._positions.next_offsets.get(partition, 0), self._read_upto.get(partition, 0)
        )
        offset = max(known - 1, article.history.last_offset)
        return Position(partition, offset) if offset >= 0 else None

    async def follow(
        self, article_id: str, after: Position | str | None
    ) -> AsyncIterator[ServerSentEventMessage]:
        """The SSE messages of one stream: the history after `after` (if any; a str is a
        Last-Event-ID that is no position), then live. A stream too slow to take its changes
        before they leave the history gets `reset` and ends: the reader reloads the thread and
        follows again."""
        article = self._article(article_id)
        article.streams += 1
        self.streams += 1
        try:
            live_from = last = article.history.last_offset
            if after is not None:
                if self._resumable(article_id, article, after):
                    assert isinstance(after, Position)
                    last = after.offset
                else:
                    resume = self._resume_point(article_id, article)
                    last = resume.offset if resume is not None else last
                    yield _reset(article_id, "history_unavailable", resume)
            yield ServerSentEventMessage(comment="following", retry=1000, data=None)
            while True:
                try:
                    due = article.history.after(last, live_from)
                except FellBehind:
                    yield _reset(article_id, "fell_behind", self._resume_point(article_id, article))
                    return
                for change, reread in due:
                    last = change.offset
                    event, data = change.event, change.data
                    if reread or data is None:
                        event, data = await self.view(article_id, change.comment_id)
                    yield ServerSentEventMessage(
                        id=f"{article.partition}:{change.offset}", event=event, data=data
                    )
                try:
                    async with asyncio.timeout(KEEPALIVE_S):
                        await article.wakeup.wait()
                except TimeoutError:
                    yield ServerSentEventMessage(comment="keep-alive", data=None)
        finally:
            article.streams -= 1
            self.streams -= 1


def _reset(article_id: str, reason: str, resume: Position | None) -> ServerSentEventMessage:
    # An empty id clears the client's Last-Event-ID (SSE): it reconnects as a new reader.
    return ServerSentEventMessage(
        id=resume.token() if resume is not None else "",
        event="reset",
        data=encode_json({"reason": reason, "article_id": article_id}),
    )
