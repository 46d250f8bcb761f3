"""The notifier: a subscriber of the event log that stores reply and moderation notifications.

Built on `events.subscribe` in its own consumer group: at least once, so every write is
idempotent (notifications are keyed by recipient and event id, authors by comment). Each event is
handled in one transaction, committed before the subscription moves on.
"""

from contextlib import aclosing

import asyncpg
import msgspec
import structlog

from events import CommentPosted, Envelope
from events.subscribe import subscribe
from services.notifications.rules import notice, target
from services.notifications.store import Conn, author_of, migrate, remember_author, store_notice

log = structlog.get_logger("threadlog.notifier")


class NotifierSettings(msgspec.Struct, frozen=True, kw_only=True):
    """Where the notifier reads the log and writes its tables."""

    kafka_bootstrap_servers: str
    topic: str
    dlq_topic: str
    database_url: str
    pg_schema: str = "public"
    group_id: str = "threadlog-notifier"
    db_timeout_s: float = 5.0


async def handle(conn: Conn, envelope: Envelope) -> bool:
    """Apply one event to the notifier's tables; True when it stored a notification."""
    async with conn.transaction():
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


async def run_notifier(settings: NotifierSettings) -> None:
    """Follow the log from the group's last commit (the start of the log the first time)."""
    conn = await asyncpg.connect(
        settings.database_url,
        timeout=settings.db_timeout_s,
        server_settings={"application_name": "threadlog-notifier"},
    )
    try:
        await migrate(conn, settings.pg_schema)
        await conn.execute(f'set search_path to "{settings.pg_schema}"')
        log.info("notifier started", topic=settings.topic, group=settings.group_id)
        deliveries = subscribe(
            settings.kafka_bootstrap_servers,
            settings.topic,
            group=settings.group_id,
            start="earliest",
            dead_letter_topic=settings.dlq_topic,
        )
        async with aclosing(deliveries):
            async for delivery in deliveries:
                if await handle(conn, delivery.envelope):
                    log.info(
                        "notification stored",
                        event_id=delivery.envelope.id,
                        position=delivery.position.token(),
                    )
    finally:
        await conn.close()
