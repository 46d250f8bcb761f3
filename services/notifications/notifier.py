"""The notifier: a subscriber of the event log that stores reply and moderation notifications.

Built on `eventlog.subscribe` in its own consumer group: at least once, so every write is
idempotent (notifications are keyed by recipient and event id, authors by comment). Each event is
handled in one transaction, committed before the subscription moves on.
"""

import asyncio
from contextlib import aclosing, suppress

import asyncpg
import msgspec
import structlog

from eventlog.connection import Kafka
from eventlog.subscribe import Delivery, subscribe
from events import AuthorErased, CommentPosted, Envelope
from services.notifications.rules import notice, target
from services.notifications.store import (
    Conn,
    author_of,
    forget_author,
    migrate,
    remember_author,
    store_notice,
)
from services.transient import PG_TRANSIENT

log = structlog.get_logger("threadlog.notifier")


class NotifierSettings(msgspec.Struct, frozen=True, kw_only=True):
    """Where the notifier reads the log and writes its tables."""

    kafka: Kafka
    topic: str
    dlq_topic: str
    database_url: str
    pg_schema: str
    db_timeout_s: float
    group_id: str = "threadlog-notifier"


async def handle(conn: Conn, envelope: Envelope) -> bool:
    """Apply one event to the notifier's tables; True when it stored a notification."""
    async with conn.transaction():
        if isinstance(envelope.data, AuthorErased):
            await forget_author(conn, envelope.data.author_id)
            return False
        if isinstance(envelope.data, CommentPosted):
            data = envelope.data
            await remember_author(conn, data.article_id, data.comment_id, data.author_id)
        aimed = target(envelope)
        if aimed is None:
            return False
        made = notice(envelope, await author_of(conn, *aimed))
        if made is None:
            return False
        await store_notice(conn, made)
        return True


_DATA_ERRORS = (asyncpg.DataError, asyncpg.IntegrityConstraintViolationError, UnicodeError)
"""PostgreSQL refusing a value: this event can never be stored, however often it is tried."""


async def _connect(settings: NotifierSettings) -> Conn:
    conn = await asyncpg.connect(
        settings.database_url,
        timeout=settings.db_timeout_s,
        server_settings={
            "application_name": "threadlog-notifier",
            "search_path": settings.pg_schema,
        },
    )
    return conn


async def _handle_until_done(settings: NotifierSettings, conn: Conn, delivery: Delivery) -> Conn:
    """Handle one event: retry what passes (a lost connection) with backoff, skip what never
    can (a value PostgreSQL refuses), so that one event never stops every later one. Returns the
    connection to go on with (a new one after a reconnect)."""
    delay = 0.2
    while True:
        try:
            if await handle(conn, delivery.envelope):
                log.info(
                    "notification stored",
                    event_id=delivery.envelope.id,
                    position=delivery.position.token(),
                )
            return conn
        except _DATA_ERRORS as error:
            # The worker parked the event's record when it met the same refusal (one dead letter
            # per record); a notification is not worth stopping the subscription for.
            log.error(
                "skipped an event the notifier cannot store",
                event_id=delivery.envelope.id,
                position=delivery.position.token(),
                error=str(error),
            )
            return conn
        except PG_TRANSIENT as error:
            log.warning("postgres unavailable; retrying the event", error=str(error), in_s=delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)
            with suppress(Exception):  # the connection may be gone already
                await conn.close()
            try:
                conn = await _connect(settings)
            except PG_TRANSIENT as again:
                log.warning("cannot reconnect yet", error=str(again))


async def run_notifier(settings: NotifierSettings) -> None:
    """Follow the log from the group's last commit (the start of the log the first time)."""
    conn = await _connect(settings)
    try:
        await migrate(conn, settings.pg_schema)
        await conn.execute(f'set search_path to "{settings.pg_schema}"')
        log.info("notifier started", topic=settings.topic, group=settings.group_id)
        # No dead-letter topic: the projection worker parks every record that is not a valid
        # event, once; the subscription logs it and goes on.
        deliveries = subscribe(
            settings.kafka,
            settings.topic,
            group=settings.group_id,
            start="earliest",
        )
        async with aclosing(deliveries):
            async for delivery in deliveries:
                conn = await _handle_until_done(settings, conn, delivery)
    finally:
        await conn.close()
