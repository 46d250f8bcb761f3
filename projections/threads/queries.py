"""The threads model's read side: the statements the query service runs, one per lookup.

Public reads serve comments whose status is in `SHOWN` (visible, and deleted ones as tombstones
that keep their replies' place); pending and rejected comments are only in the moderation
queue. Every read is keyset-paginated: a page starts after the last row served (`after`), and
asks for as many rows as it is given (`rows`), so the caller can ask one more than it serves to
learn whether a next page exists. The query service turns these rows into its views, cursors
and errors; the table and column names stay here, next to the model that writes them.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, TypeAlias, get_args

from asyncpg import Record
from asyncpg.pool import PoolConnectionProxy

from projections.threads.sql import FLAGGED_SQL, PENDING_SQL, SHOWN_SQL, VISIBLE_SQL
from projections.threads.statuses import DELETED

Conn: TypeAlias = "PoolConnectionProxy[Any]"
Sort = Literal["oldest", "newest", "top"]
QueueStatus = Literal["pending", "flagged"]

COMMENT_COLUMNS = (
    "article_id, comment_id, parent_id, author_id, author_name, body, status, posted_at,"
    " edited_at, featured, pinned, score, reply_count, flag_count, erased"
)
"""The columns of every comment row a read returns."""

ARTICLE = (
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


TOP_LEVEL = {
    (sort, segment): _top_level(order, after, segment)
    for sort, (order, after) in _TOP_LEVEL_ORDER.items()
    for segment in get_args(Segment)
}
"""A page of an article's top-level comments, by (sort, segment): $1 article, $2 rows, then
the last row's (posted_at, comment_id) and, for `top`, its (featured, score)."""
_PINNED = "select pinned from comments where article_id = $1 and comment_id = $2"
# The first `$3` replies of each parent, and theirs, down to `$4` levels: a page's size is
# bounded by limit x per_level^depth whatever the thread's size.
INLINE_REPLIES = f"""
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
THREAD_VERSION = "select version from articles where article_id = $1"
"""The id of the transaction that last changed an article's thread: pages are cached by it."""
READY = "select 1 from articles limit 1"
"""Answers once the read model's tables exist in the connection's schema."""
_COUNTS = "select article_id, comment_count from articles where article_id = any($1::text[])"
_EVENT = "select event_type, outcome, reason from event_outcomes where event_id = $1"
_QUEUE_WHERE: dict[QueueStatus, str] = {"pending": PENDING_SQL, "flagged": FLAGGED_SQL}
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


@dataclass(frozen=True)
class TopLevelAfter:
    """The last top-level comment a page served: where the next page starts."""

    posted_at: datetime
    comment_id: str
    featured: bool = False
    """Read by the `top` sort only, with `score`."""
    score: int = 0


def is_tombstone(row: Record | dict[str, Any]) -> bool:
    """A deleted comment, served only to keep its replies' place: no body, author or history."""
    return bool(row["status"] == DELETED)


async def article(conn: Conn, article_id: str) -> Record | None:
    """The article's row, or None when it was never published."""
    row: Record | None = await conn.fetchrow(ARTICLE, article_id)
    return row


async def top_level(
    conn: Conn, article_id: str, sort: Sort, rows: int, after: TopLevelAfter | None
) -> list[Record]:
    """Up to `rows` top-level comments in the sort's order, pinned ones first, after `after`."""
    args: list[object] = [article_id, rows]
    segment: Segment = "first"
    if after is not None:
        args += [after.posted_at, after.comment_id]
        if sort == "top":
            args += [after.featured, after.score]
        # Whether the last comment served was pinned says which part of the order the page
        # goes on in (a cursor from before pins existed names an unpinned one).
        pinned = await conn.fetchval(_PINNED, article_id, after.comment_id)
        segment = "pinned" if pinned else "rest"
    found: list[Record] = await conn.fetch(TOP_LEVEL[(sort, segment)], *args)
    return found


async def inline_replies(
    conn: Conn, article_id: str, parents: Sequence[str], per_level: int, depth: int
) -> list[Record]:
    """The first `per_level` replies of each parent, and theirs, down to `depth` levels."""
    if not parents or per_level <= 0 or depth <= 0:
        return []
    found: list[Record] = await conn.fetch(
        INLINE_REPLIES, article_id, list(parents), per_level, depth
    )
    return found


async def replies(
    conn: Conn, article_id: str, parent_id: str, rows: int, after: tuple[datetime, str] | None
) -> list[Record]:
    """Up to `rows` direct replies, oldest first, after (posted_at, comment_id)."""
    args: list[object] = [article_id, parent_id, rows, *(after or ())]
    found: list[Record] = await conn.fetch(_REPLIES[after is not None], *args)
    return found


async def find_comment(conn: Conn, comment_id: str, article_id: str | None) -> list[Record]:
    """The served comments with that id (in that article, when given): at most two, so the
    caller can tell none, one and ambiguous apart."""
    found: list[Record] = await conn.fetch(_FIND_COMMENT, comment_id, article_id)
    return found


async def edits(conn: Conn, comment: Record) -> list[Record]:
    """The comment's earlier texts, oldest first; none for a tombstone."""
    if is_tombstone(comment):
        return []
    found: list[Record] = await conn.fetch(_EDITS, comment["article_id"], comment["comment_id"])
    return found


async def timeline(
    conn: Conn, author_id: str, rows: int, after: tuple[datetime, str, str] | None
) -> list[dict[str, Any]]:
    """Up to `rows` of the author's served comments, newest first, after (posted_at,
    article_id, comment_id); a tombstone's body is None."""
    args: list[object] = [author_id, rows, *(after or ())]
    return [
        dict(row) | ({"body": None} if is_tombstone(row) else {})
        for row in await conn.fetch(_TIMELINE[after is not None], *args)
    ]


async def counts(conn: Conn, article_ids: Sequence[str]) -> dict[str, int]:
    """The visible comment count of each known article among `article_ids`."""
    return {
        r["article_id"]: r["comment_count"] for r in await conn.fetch(_COUNTS, list(article_ids))
    }


async def event_outcome(conn: Conn, event_id: str) -> Record | None:
    """What the worker decided for the event (event_type, outcome, reason), or None until then."""
    row: Record | None = await conn.fetchrow(_EVENT, event_id)
    return row


async def queue(
    conn: Conn,
    status: QueueStatus,
    rows: int,
    after: tuple[int, datetime, str, str] | None,
) -> list[Record]:
    """Up to `rows` comments for a moderator: held (pending), or flagged and still visible;
    most flagged first, after (flag_count, posted_at, article_id, comment_id)."""
    found: list[Record] = await conn.fetch(
        _QUEUE[(status, after is not None)], rows, *(after or ())
    )
    return found


def event_applied(event_id: str) -> str:
    """An SQL predicate: the worker applied the event whose id the expression `event_id` gives
    (for another model's statements: the notifier serves a notification once its event did)."""
    return (
        "exists (select 1 from event_outcomes o"
        f" where o.event_id = {event_id} and o.outcome = 'applied')"
    )


def comment_visible(article_id: str, comment_id: str) -> str:
    """An SQL predicate: the comment the two expressions name is visible in its thread now."""
    return (
        "exists (select 1 from comments c"
        f" where c.article_id = {article_id} and c.comment_id = {comment_id} and c.{VISIBLE_SQL})"
    )
