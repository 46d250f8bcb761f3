"""The live feed of one query process: comment changes, released once the read model has them.

One subscription per process (no consumer group, nothing committed) reads the log from the
projection's applied offsets as they were when the feed started. Each comment event whose type
declares `STREAMED` (events/catalog.py) waits in a per-partition queue until `AppliedPositions`
shows the projection past it; it is then read once through the permalink query (so what is
pushed is what a read returns) and appended to its article's short history, and the article's
streams are woken.
A stream costs a history cursor and a waiter: no query, no task, no queue of its own.

Resuming with Last-Event-ID (`<partition>:<offset>`) replays the history after it. When the feed
cannot prove it holds everything after that position (it started later, or forgot entries to
stay bounded) the stream gets a `reset` event: reload the thread, then follow again.
"""

import asyncio
from collections import OrderedDict, deque
from collections.abc import AsyncIterator
from contextlib import aclosing, suppress
from typing import Any

import asyncpg
import structlog
from aiokafka.errors import KafkaError
from litestar.response import ServerSentEventMessage

from eventlog.position import Position
from eventlog.subscribe import subscribe
from events import STREAMED_TYPES, encode_json
from services.query.change_history import Change, FellBehind, History
from services.query.positions import AppliedPositions
from services.query.read_errors import CommentNotFound
from services.query.reads import read_comment
from services.query.wakeup import Wakeup
from services.transient import PG_TRANSIENT

log = structlog.get_logger("threadlog.query.live")

KEEPALIVE_S = 15.0


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
        kafka_bootstrap_servers: str,
        topic: str,
        history: int = 64,
        max_articles: int = 10_000,
        max_pending: int = 10_000,
    ) -> None:
        self._pool = pool
        self._positions = positions
        self._servers = kafka_bootstrap_servers
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
        self._forgotten: dict[int, int] = {}
        """Per partition, the offset before which some history may have been dropped."""
        self._lock = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []
        self.streams = 0

    async def start(self) -> None:
        """Begin at the offsets the projection has applied now: everything after them is seen."""
        await self._positions.refresh()
        self._covered_from = dict(self._positions.next_offsets)
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

    async def _read(self) -> None:
        read_upto = dict(self._covered_from)
        while True:
            deliveries = subscribe(self._servers, self._topic, start=read_upto, poll_timeout_ms=100)
            try:
                async with aclosing(deliveries):
                    async for delivery in deliveries:
                        read_upto[delivery.partition] = delivery.offset + 1
                        data = delivery.envelope.data
                        if isinstance(data, STREAMED_TYPES):
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

    def _resumable(self, article: _Article, after: Position) -> bool:
        if article.partition is not None and article.partition != after.partition:
            return False
        start = max(
            self._covered_from.get(after.partition, 0), self._forgotten.get(after.partition, 0)
        )
        return after.offset + 1 >= start

    async def follow(
        self, article_id: str, after: Position | None
    ) -> AsyncIterator[ServerSentEventMessage]:
        """The SSE messages of one stream: the history after `after` (if any), then live. A
        stream too slow to take its changes before they leave the history gets `reset` and
        ends: the reader reloads the thread and follows again."""
        article = self._article(article_id)
        article.streams += 1
        self.streams += 1
        try:
            live_from = last = article.history.last_offset
            if after is not None:
                if self._resumable(article, after):
                    last = after.offset
                else:
                    yield _reset(article_id, "history_unavailable")
            yield ServerSentEventMessage(comment="following", retry=1000, data=None)
            while True:
                try:
                    due = article.history.after(last, live_from)
                except FellBehind:
                    yield _reset(article_id, "fell_behind")
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


def _reset(article_id: str, reason: str) -> ServerSentEventMessage:
    return ServerSentEventMessage(
        event="reset", data=encode_json({"reason": reason, "article_id": article_id})
    )
