"""The query service's SQL: one statement per lookup, keyset-paginated, bounded per page.

Public reads serve comments whose status is visible or deleted (tombstones keep their replies'
place); pending and rejected comments are only in the moderation queue.
"""

from typing import Any, Literal, TypeAlias, get_args

from asyncpg import Record
from asyncpg.pool import PoolConnectionProxy

from projections.threads.sql import FLAGGED_SQL, PENDING_SQL, SHOWN_SQL
from projections.threads.statuses import DELETED
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

Conn: TypeAlias = "PoolConnectionProxy[Any]"
Sort = Literal["oldest", "newest", "top"]
QueueStatus = Literal["pending", "flagged"]

COMMENT_COLUMNS = (
    "article_id, comment_id, parent_id, author_id, author_name, body, status, posted_at,"
    " edited_at, featured, pinned, score, reply_count, flag_count"
)
_C = ", ".join(f"c.{name.strip()}" for name in COMMENT_COLUMNS.split(","))

_ARTICLE = (
    "select article_id, title, url, author, published_at, comment_count, closed"
    " from articles where article_id = $1"
)
_TOP_LEVEL_ORDER = {
    "oldest": ("posted_at asc, comment_id asc", "(posted_at, comment_id) > ($3, $4)"),
    "newest": ("posted_at desc, comment_id desc", "(posted_at, comment_id) < ($3, $4)"),
    # Featured first, then by score, ties by time: a keyset over mixed directions.
    "top": (
        "featured desc, score desc, posted_at asc, comment_id asc",
        "(featured < $5 or (featured = $5 and (score < $6 or (score = $6 and"
        " (posted_at, comment_id) > ($3, $4)))))",
    ),
}
_TOP_LEVEL_ROWS = (
    f"select {COMMENT_COLUMNS} from comments"
    f" where article_id = $1 and parent_id is null and {SHOWN_SQL}"
)
Segment = Literal["first", "pinned", "rest"]
"""Where a page of top-level comments starts: at the top, after a pinned comment (pinned ones
lead every sort), or after an unpinned one."""


def _top_level(order: str, after: str, segment: Segment) -> str:
    # Pinned comments first, each part in the sort's order over its own index: the few pinned
    # ones (a partial index), then the rest as before; a page after an unpinned comment reads
    # the rest alone.
    rest = f"{_TOP_LEVEL_ROWS} and not pinned" + (f" and {after}" if segment == "rest" else "")
    if segment == "rest":
        return f"{rest} order by {order} limit $2"
    pinned = f"{_TOP_LEVEL_ROWS} and pinned" + (f" and {after}" if segment == "pinned" else "")
    return (
        f"select * from (({pinned} order by {order} limit $2)"
        f" union all ({rest} order by {order} limit $2)) t"
        f" order by pinned desc, {order} limit $2"
    )


_TOP_LEVEL = {
    (sort, segment): _top_level(order, after, segment)
    for sort, (order, after) in _TOP_LEVEL_ORDER.items()
    for segment in get_args(Segment)
}
_PINNED = "select pinned from comments where article_id = $1 and comment_id = $2"
# The first `$3` replies of each parent, and theirs, down to `$4` levels: a page's size is
# bounded by limit x per_level^depth whatever the thread's size.
_INLINE_REPLIES = f"""
with recursive tree as (
    select c.*, 1 as depth from unnest($2::text[]) p(id)
    cross join lateral (
        select {COMMENT_COLUMNS} from comments r
        where r.article_id = $1 and r.parent_id = p.id and r.{SHOWN_SQL}
        order by r.posted_at, r.comment_id limit $3
    ) c
  union all
    select c.*, t.depth + 1 from tree t
    cross join lateral (
        select {COMMENT_COLUMNS} from comments r
        where r.article_id = $1 and r.parent_id = t.comment_id and r.{SHOWN_SQL}
        order by r.posted_at, r.comment_id limit $3
    ) c
    where t.depth < $4 and t.reply_count > 0
)
select * from tree
"""
_REPLIES = {
    after: f"select {COMMENT_COLUMNS} from comments"
    f" where article_id = $1 and parent_id = $2 and {SHOWN_SQL}"
    + (" and (posted_at, comment_id) > ($4, $5)" if after else "")
    + " order by posted_at, comment_id limit $3"
    for after in (False, True)
}
_FIND_COMMENT = (
    f"select {COMMENT_COLUMNS} from comments where comment_id = $1 and {SHOWN_SQL}"
    " and ($2::text is null or article_id = $2) limit 2"
)
_EDITS = (
    "select version, body, replaced_at from comment_edits"
    " where article_id = $1 and comment_id = $2 order by version"
)
_TIMELINE = {
    after: "select c.comment_id, c.article_id, a.title as article_title, c.body, c.status,"
    " c.posted_at, c.edited_at"
    " from comments c left join articles a on a.article_id = c.article_id"
    f" where c.author_id = $1 and c.{SHOWN_SQL}"
    + (" and (c.posted_at, c.article_id, c.comment_id) < ($3, $4, $5)" if after else "")
    + " order by c.posted_at desc, c.article_id desc, c.comment_id desc limit $2"
    for after in (False, True)
}
_COUNTS = "select article_id, comment_count from articles where article_id = any($1::text[])"
_EVENT = "select event_type, outcome, reason from event_outcomes where event_id = $1"
_QUEUE_WHERE = {
    "pending": PENDING_SQL,
    "flagged": FLAGGED_SQL,
}
_QUEUE = {
    (status, after): f"select {COMMENT_COLUMNS}, hold_reasons, array(select f.reason from flags f"
    " where f.article_id = c.article_id and f.comment_id = c.comment_id order by f.flagged_at)"
    f" as flag_reasons from comments c where ({where}"
    # Keyset over (flag_count desc, posted_at, article_id, comment_id); the index's predicate
    # covers both statuses.
    + (
        " and (flag_count < $2 or (flag_count = $2 and (posted_at, article_id, comment_id)"
        " > ($3, $4, $5)))"
        if after
        else ""
    )
    + ") order by flag_count desc, posted_at, article_id, comment_id limit $1"
    for status, where in _QUEUE_WHERE.items()
    for after in (False, True)
}


def _page(rows: list[Record], limit: int) -> tuple[list[Record], bool]:
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
    descendants = (
        await conn.fetch(_INLINE_REPLIES, article_id, parents, per_level, depth)
        if parents and per_level > 0 and depth > 0
        else []
    )
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
    article = await conn.fetchrow(_ARTICLE, article_id)
    if article is None:
        return None
    args: list[object] = [article_id, limit + 1]
    if after is not None:
        args += [after.time, after.keys[-1]]
        if sort == "top":
            args += [after.keys[0] == "1", int(after.keys[1])]
    segment: Segment = "first"
    if after is not None:
        # The cursor names the last comment served: whether it was pinned says which part of
        # the order the page goes on in (a cursor from before pins existed names an unpinned one).
        pinned = await conn.fetchval(_PINNED, article_id, after.keys[-1])
        segment = "pinned" if pinned else "rest"
    roots, more = _page(await conn.fetch(_TOP_LEVEL[(sort, segment)], *args), limit)
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
    rows = await conn.fetch(_FIND_COMMENT, comment_id, article_id)
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
    edits = (
        [] if row["status"] == DELETED else await conn.fetch(_EDITS, row["article_id"], comment_id)
    )
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
    args: list[object] = [article, comment_id, limit + 1]
    if after is not None:
        args += [after.time, after.keys[0]]
    rows, more = _page(await conn.fetch(_REPLIES[after is not None], *args), limit)
    return RepliesPage(
        article_id=article,
        parent_id=comment_id,
        replies=await _nest(conn, article, rows, per_level, depth),
        next_cursor=_replies_cursor(article)(rows[-1]) if more and rows else None,
    )


async def read_timeline(conn: Conn, author_id: str, limit: int, cursor: str | None) -> TimelinePage:
    """A page of the author's comments across articles, newest first."""
    after = decode_cursor(cursor, "timeline", ("id", "id")) if cursor else None
    args: list[object] = [author_id, limit + 1]
    if after is not None:
        args += [after.time, *after.keys]
    rows, more = _page(await conn.fetch(_TIMELINE[after is not None], *args), limit)
    last = rows[-1] if rows else None
    items = [
        TimelineItem(**(dict(row) | ({"body": None} if row["status"] == DELETED else {})))
        for row in rows
    ]
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
    found = {r["article_id"]: r["comment_count"] for r in await conn.fetch(_COUNTS, article_ids)}
    return Counts(counts={a: found.get(a, 0) for a in article_ids})


async def read_event(conn: Conn, event_id: str) -> EventStatus:
    """Applied or rejected (with the reason) once the worker decided; pending until then."""
    row = await conn.fetchrow(_EVENT, event_id)
    if row is None:
        return EventStatus(id=event_id, status="pending")
    return EventStatus(
        id=event_id, status=row["outcome"], type=row["event_type"], reason=row["reason"]
    )


async def read_queue(conn: Conn, status: QueueStatus, limit: int, cursor: str | None) -> QueuePage:
    """Comments for a moderator to decide: held (pending) or flagged and still visible."""
    after = decode_cursor(cursor, f"queue:{status}", ("int", "id", "id")) if cursor else None
    args: list[object] = [limit + 1]
    if after is not None:
        args += [int(after.keys[0]), after.time, after.keys[1], after.keys[2]]
    rows, more = _page(await conn.fetch(_QUEUE[(status, after is not None)], *args), limit)
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
