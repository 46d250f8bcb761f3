"""The query service's reads: the threads model's rows (`projections.threads.queries`) as pages.

Here a read decodes its cursor, asks the read model for one row more than it serves (so it
knows whether a next page exists without a count), and builds the views and the next cursor.
"""

from typing import Any, TypeVar

from asyncpg import Record

from projections.threads import queries
from projections.threads.queries import Conn, QueueStatus, Sort, TopLevelAfter
from services.query.cursors import Cursor, KeyKind, decode_cursor, encode_cursor
from services.query.read_errors import AmbiguousCommentId, CommentNotFound
from services.query.tree import Row, build_tree
from services.query.views import (
    ArticleView,
    CommentPage,
    CommentView,
    Counts,
    EditView,
    EventStatus,
    QueueItem,
    QueuePage,
    RepliesPage,
    ThreadPage,
    TimelineItem,
    TimelinePage,
)

__all__ = ["Conn", "QueueStatus", "Sort", "read_comment", "read_counts", "read_event"]
__all__ += ["read_queue", "read_replies", "read_thread", "read_timeline"]


R = TypeVar("R")


def _page(rows: list[R], limit: int) -> tuple[list[R], bool]:
    # One row more than asked tells whether a next page exists without a count.
    return rows[:limit], len(rows) > limit


def _replies_cursor(article_id: str) -> Any:
    def after(row: Row) -> str:
        return encode_cursor(Cursor(f"replies:{article_id}", row["posted_at"], [row["comment_id"]]))

    return after


async def _nest(
    conn: Conn, article_id: str, roots: list[Record], per_level: int, depth: int
) -> list[CommentView]:
    parents = [r["comment_id"] for r in roots if r["reply_count"] > 0]
    descendants = await queries.inline_replies(conn, article_id, parents, per_level, depth)
    return build_tree(roots, descendants, _replies_cursor(article_id))


async def read_thread(
    conn: Conn,
    article_id: str,
    sort: Sort,
    limit: int,
    cursor: str | None,
    per_level: int,
    depth: int,
) -> ThreadPage | None:
    """A page of the article's thread, or None when the article was never published."""
    keys: tuple[KeyKind, ...] = ("flag", "int", "id") if sort == "top" else ("id",)
    after = decode_cursor(cursor, f"thread:{sort}", keys) if cursor else None
    article = await queries.article(conn, article_id)
    if article is None:
        return None
    last_served = None
    if after is not None:
        last_served = TopLevelAfter(after.time, after.keys[-1])
        if sort == "top":
            last_served = TopLevelAfter(
                after.time, after.keys[-1], after.keys[0] == "1", int(after.keys[1])
            )
    rows = await queries.top_level(conn, article_id, sort, limit + 1, last_served)
    roots, more = _page(rows, limit)
    last = roots[-1] if roots else None
    next_cursor = None
    if more and last is not None:
        tail = [last["comment_id"]]
        if sort == "top":
            tail = ["1" if last["featured"] else "0", str(last["score"]), *tail]
        next_cursor = encode_cursor(Cursor(f"thread:{sort}", last["posted_at"], tail))
    return ThreadPage(
        article=ArticleView(**dict(article)),
        comments=await _nest(conn, article_id, roots, per_level, depth),
        next_cursor=next_cursor,
    )


async def _find(conn: Conn, comment_id: str, article_id: str | None) -> Record:
    rows = await queries.find_comment(conn, comment_id, article_id)
    if not rows:
        raise CommentNotFound(comment_id)
    if len(rows) > 1:
        raise AmbiguousCommentId(comment_id)
    row: Record = rows[0]
    return row


async def read_comment(
    conn: Conn, comment_id: str, article_id: str | None, per_level: int, depth: int
) -> CommentPage:
    """A permalink: the comment, its first replies, and its edit history; CommentNotFound or
    AmbiguousCommentId when no one comment is served under that id."""
    row = await _find(conn, comment_id, article_id)
    [view] = await _nest(conn, row["article_id"], [row], per_level, depth)
    edits = await queries.edits(conn, row)
    return CommentPage(
        article_id=row["article_id"], comment=view, edits=[EditView(**dict(e)) for e in edits]
    )


async def read_replies(
    conn: Conn,
    comment_id: str,
    article_id: str | None,
    limit: int,
    cursor: str | None,
    per_level: int,
    depth: int,
) -> RepliesPage:
    """A page of a comment's direct replies, oldest first, each with its first replies; the
    errors of `read_comment`, and InvalidCursor."""
    parent = await _find(conn, comment_id, article_id)
    article = parent["article_id"]
    after = decode_cursor(cursor, f"replies:{article}", ("id",)) if cursor else None
    last_served = (after.time, after.keys[0]) if after is not None else None
    rows, more = _page(
        await queries.replies(conn, article, comment_id, limit + 1, last_served), limit
    )
    return RepliesPage(
        article_id=article,
        parent_id=comment_id,
        replies=await _nest(conn, article, rows, per_level, depth),
        next_cursor=_replies_cursor(article)(rows[-1]) if more and rows else None,
    )


async def read_timeline(conn: Conn, author_id: str, limit: int, cursor: str | None) -> TimelinePage:
    """A page of the author's comments across articles, newest first."""
    after = decode_cursor(cursor, "timeline", ("id", "id")) if cursor else None
    last_served = (after.time, after.keys[0], after.keys[1]) if after is not None else None
    rows, more = _page(await queries.timeline(conn, author_id, limit + 1, last_served), limit)
    last = rows[-1] if rows else None
    items = [TimelineItem(**row) for row in rows]
    return TimelinePage(
        author_id=author_id,
        items=items,
        next_cursor=encode_cursor(
            Cursor("timeline", last["posted_at"], [last["article_id"], last["comment_id"]])
        )
        if more and last is not None
        else None,
    )


async def read_counts(conn: Conn, article_ids: list[str]) -> Counts:
    """Visible comment counts for up to 100 articles; unknown articles count 0."""
    found = await queries.counts(conn, article_ids)
    return Counts(counts={a: found.get(a, 0) for a in article_ids})


async def read_event(conn: Conn, event_id: str) -> EventStatus:
    """Applied or rejected (with the reason) once the worker decided; pending until then."""
    row = await queries.event_outcome(conn, event_id)
    if row is None:
        return EventStatus(id=event_id, status="pending")
    return EventStatus(
        id=event_id, status=row["outcome"], type=row["event_type"], reason=row["reason"]
    )


async def read_queue(conn: Conn, status: QueueStatus, limit: int, cursor: str | None) -> QueuePage:
    """Comments for a moderator to decide: held (pending) or flagged and still visible."""
    after = decode_cursor(cursor, f"queue:{status}", ("int", "id", "id")) if cursor else None
    last_served = (
        (int(after.keys[0]), after.time, after.keys[1], after.keys[2])
        if after is not None
        else None
    )
    rows, more = _page(await queries.queue(conn, status, limit + 1, last_served), limit)
    items = [
        QueueItem(
            article_id=r["article_id"],
            comment_id=r["comment_id"],
            author_id=r["author_id"],
            author_name=r["author_name"],
            body=r["body"],
            status=r["status"],
            posted_at=r["posted_at"],
            hold_reasons=list(r["hold_reasons"]),
            flag_count=r["flag_count"],
            flag_reasons=list(r["flag_reasons"]),
        )
        for r in rows
    ]
    last = rows[-1] if rows else None
    return QueuePage(
        items=items,
        next_cursor=encode_cursor(
            Cursor(
                f"queue:{status}",
                last["posted_at"],
                [str(last["flag_count"]), last["article_id"], last["comment_id"]],
            )
        )
        if more and last is not None
        else None,
    )
