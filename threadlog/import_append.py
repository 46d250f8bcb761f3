"""Appending an import's events: in chunks of articles, minus what the log has applied already.

Events the threads projection applied (its `applied_events`) are left out, so a second run,
or a run after a kill halfway, appends only what is missing. Events appended but not applied
yet (the worker behind) are appended again; the projection applies an id once, so nothing
doubles in the threads, only in the log.
"""

import asyncio
import socket
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Final

import asyncpg

from eventlog.connection import check
from projections.sql_rows import Conn
from services.ingest.atomic_append import MAX_GROUP_RECORDS, AppendFailed, AtomicAppender
from services.ingest.producer_identity import claim
from services.ingest.producers import LogSettings
from services.ingest.record_size import Record
from threadlog.settings import Settings

if TYPE_CHECKING:
    from importers.batches import ArticleSummary
    from threadlog.import_report import ImportReport

CHUNK_EVENTS: Final = 5_000
"""Events looked up and appended together: one query and one transaction per chunk."""
PROJECTION: Final = "threads"
"""The projection whose applied ids say what is imported: the one threads are served from."""


class ImportStopped(Exception):
    """Appending stopped; the message says what was appended and what not."""


@asynccontextmanager
async def log_connection(
    settings: Settings,
) -> AsyncIterator[tuple["asyncpg.Connection[asyncpg.Record]", AtomicAppender]]:
    """The command's own connections: PostgreSQL (the secret, the applied ids) and a
    transactional producer. Its id is claimed per host (services/ingest/producer_identity.py),
    so a rerun after a kill takes the same id and the broker aborts what the kill left open at
    once, instead of holding back the worker until the transaction times out."""
    try:
        conn = await asyncpg.connect(settings.database_url, timeout=settings.db_timeout_s)
    except (OSError, TimeoutError, asyncpg.PostgresError) as error:
        raise ImportStopped(
            f"PostgreSQL did not answer ({error!r}); is it running, and is DATABASE_URL right?"
            " Nothing was appended"
        ) from error
    identity = claim(settings.topic, f"import-{socket.gethostname()}")
    appender = AtomicAppender(
        LogSettings(
            kafka=settings.kafka(),
            topic=settings.topic,
            transactional_ids=identity.transactional_ids(1),
        )
    )
    try:
        await check(settings.kafka())  # refused (TLS, SASL): said now, not after 30 s
        appender.start()
        await connected(appender, settings)
        yield conn, appender
    finally:
        await appender.stop()
        identity.release()
        await conn.close()


async def connected(appender: AtomicAppender, settings: Settings, timeout_s: float = 30) -> None:
    """Wait until the appender's producer is connected and the topic exists."""
    try:
        async with asyncio.timeout(timeout_s):
            # The appender offers no event for its connection (it retries on its own): polled.
            while not appender.connected:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
            partitions = await appender.any_producer().partitions_for(settings.topic)
    except TimeoutError:
        raise ImportStopped(
            f"Kafka at {settings.kafka_bootstrap_servers} did not answer within {timeout_s:g} s;"
            " is it running? Nothing was appended"
        ) from None
    if not partitions:
        raise ImportStopped(f"topic {settings.topic} does not exist; run `threadlog init`")


async def already_applied(conn: Conn, schema: str, event_ids: Sequence[str]) -> set[str]:
    """Which of `event_ids` the threads projection has applied."""
    rows = await conn.fetch(
        f'select event_id from "{schema}".applied_events'
        " where projection = $1 and event_id = any($2::text[])",
        PROJECTION,
        list(event_ids),
    )
    return {row["event_id"] for row in rows}


class Appending:
    """Collects articles' envelopes and appends them a chunk at a time, in order."""

    def __init__(
        self, appender: AtomicAppender, conn: Conn, schema: str, report: "ImportReport"
    ) -> None:
        self._appender = appender
        self._conn = conn
        self._schema = schema
        self._report = report
        self._pending: list[tuple[ArticleSummary, list[str], list[Record]]] = []
        self._count = 0

    async def add(
        self, summary: "ArticleSummary", event_ids: list[str], records: list[Record]
    ) -> None:
        """Queue one article's records (and their event ids); append the chunk once full."""
        if not records:
            return
        self._pending.append((summary, event_ids, records))
        self._count += len(records)
        if self._count >= CHUNK_EVENTS:
            await self.flush()

    async def flush(self) -> None:
        """Append what is queued, minus what is applied already; ImportStopped on a failure."""
        pending, self._pending, self._count = self._pending, [], 0
        if not pending:
            return
        applied = await already_applied(
            self._conn, self._schema, [i for _, ids, _ in pending for i in ids]
        )
        records: list[Record] = []
        for summary, ids, article_records in pending:
            fresh = [r for i, r in zip(ids, article_records, strict=True) if i not in applied]
            summary.already_imported += len(ids) - len(fresh)
            self._report.already_imported += len(ids) - len(fresh)
            records.extend(fresh)
        # Each part in order, one at a time: an article split over two parts keeps its order,
        # and a refused part stops the import before anything after it is appended.
        for start in range(0, len(records), MAX_GROUP_RECORDS):
            part = records[start : start + MAX_GROUP_RECORDS]
            try:
                await self._appender.append(part)
            except AppendFailed as error:
                raise ImportStopped(
                    f"Kafka did not take a batch ({error}): {self._report.events_appended:,}"
                    " events were appended before it, none after. Run the same command again"
                    " to finish; events already applied are skipped"
                ) from error
            self._report.events_appended += len(part)
            self._report.batches += 1
