"""The notifications tables: what the notifier writes, what the query service serves and marks.

Serving joins the threads read model: a notification shows once the worker applied its event
(`event_outcomes`), and a reply's only while the reply itself is visible. So a reply the worker
refused, one held for a moderator, or one deleted since notifies nobody, and what a reader is
told agrees with what the thread shows.
"""

from datetime import datetime
from importlib.resources import files
from typing import Any, TypeAlias

from asyncpg import Record
from asyncpg.pool import PoolConnectionProxy

from projections.threads.queries import comment_visible, event_applied
from services.notifications.rules import Notice

Conn: TypeAlias = "PoolConnectionProxy[Any] | Any"


def _schema_sql() -> str:
    return files("services.notifications").joinpath("schema.sql").read_text()


async def migrate(conn: Conn, schema: str) -> None:
    """Create the notifier's tables in `schema` if missing; safe to run from several processes."""
    async with conn.transaction():
        await conn.execute("select pg_advisory_xact_lock(hashtext('threadlog.migrate'))")
        await conn.execute(f'create schema if not exists "{schema}"')
        await conn.execute(f'set local search_path to "{schema}"')
        await conn.execute(_schema_sql())


async def remember_author(conn: Conn, article_id: str, comment_id: str, author_id: str) -> None:
    """Keep who wrote a comment; the first post of an id wins, as in the thread."""
    await conn.execute(
        "insert into notifier_comments values ($1, $2, $3) on conflict do nothing",
        article_id,
        comment_id,
        author_id,
    )


async def author_of(conn: Conn, article_id: str, comment_id: str) -> str | None:
    """The author of a comment the notifier has seen, or None."""
    author: str | None = await conn.fetchval(
        "select author_id from notifier_comments where article_id = $1 and comment_id = $2",
        article_id,
        comment_id,
    )
    return author


async def store_notice(conn: Conn, notice: Notice) -> None:
    """Store a notification once, however often its event is delivered."""
    await conn.execute(
        "insert into notifications (recipient_id, event_id, kind, article_id, comment_id,"
        " reply_id, actor_id, action, at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        " on conflict do nothing",
        notice.recipient_id,
        notice.event_id,
        notice.kind,
        notice.article_id,
        notice.comment_id,
        notice.reply_id,
        notice.actor_id,
        notice.action,
        notice.at,
    )


_SERVED = f"""
from notifications n
where n.recipient_id = $1
  and {event_applied("n.event_id")}
  and (n.kind <> 'reply' or {comment_visible("n.article_id", "n.reply_id")})
"""
_COLUMNS = "n.event_id, n.kind, n.article_id, n.comment_id, n.reply_id, n.actor_id, n.action, n.at"


async def list_notifications(
    conn: Conn, recipient_id: str, limit: int, after: tuple[datetime, str] | None, unread: bool
) -> list[Record]:
    """Up to `limit` served notifications, newest first, after a keyset position."""
    where = " and n.read_at is null" if unread else ""
    args: list[object] = [recipient_id, limit]
    if after is not None:
        where += " and (n.at, n.event_id) < ($3, $4)"
        args += list(after)
    rows: list[Record] = await conn.fetch(
        f"select {_COLUMNS}, n.read_at is not null as read {_SERVED}{where}"
        " order by n.at desc, n.event_id desc limit $2",
        *args,
    )
    return rows


async def unread_count(conn: Conn, recipient_id: str) -> int:
    """How many served notifications of the recipient are unread."""
    count: int = await conn.fetchval(
        f"select count(*) {_SERVED} and n.read_at is null", recipient_id
    )
    return count


async def mark_read(conn: Conn, recipient_id: str, event_ids: list[str] | None) -> int:
    """Mark the recipient's served notifications read (those of `event_ids`, or all); return how
    many changed."""
    status: str = await conn.execute(
        "update notifications set read_at = now() where recipient_id = $1 and read_at is null"
        " and ($2::text[] is null or event_id = any($2::text[]))"
        # Only what the reader can be shown: a held reply must stay unread until it shows.
        f" and event_id in (select n.event_id {_SERVED})",
        recipient_id,
        event_ids,
    )
    return int(status.rsplit(" ", 1)[-1])


async def forget_author(conn: Conn, author_id: str) -> None:
    """An erased author's inbox, the notices they caused, and which comments were theirs."""
    await conn.execute(
        "delete from notifications where recipient_id = $1 or actor_id = $1", author_id
    )
    await conn.execute("delete from notifier_comments where author_id = $1", author_id)
