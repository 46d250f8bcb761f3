"""The query service's SQL: one statement per read-model lookup, keyset-paginated."""

from typing import Any, Literal, TypeAlias

from asyncpg import Record
from asyncpg.pool import PoolConnectionProxy

from services.query.cursors import Cursor, decode_cursor, encode_cursor
from services.query.tree import build_tree
from services.query.views import ArticleView, ThreadPage, TimelineItem, TimelinePage

Conn: TypeAlias = "PoolConnectionProxy[Any]"
Sort = Literal["oldest", "newest"]

_COMMENT_COLUMNS = (
    "comment_id, parent_id, author_id, author_name, body, posted_at, reply_count, flag_count"
)
_ARTICLE = (
    "select article_id, title, url, author, published_at, comment_count"
    " from articles where article_id = $1"
)
_TOP_LEVEL = {
    (sort, after): f"select {_COMMENT_COLUMNS} from comments"
    " where article_id = $1 and parent_id is null"
    + (f" and (posted_at, comment_id) {op} ($3, $4)" if after else "")
    + f" order by posted_at {direction}, comment_id {direction} limit $2"
    for sort, op, direction in (("oldest", ">", "asc"), ("newest", "<", "desc"))
    for after in (False, True)
}
_DESCENDANTS = f"""
with recursive tree as (
    select {_COMMENT_COLUMNS} from comments
    where article_id = $1 and parent_id = any($2::text[])
  union all
    select {", ".join("c." + c.strip() for c in _COMMENT_COLUMNS.split(","))}
    from comments c join tree t on c.article_id = $1 and c.parent_id = t.comment_id
)
select * from tree
"""
_TIMELINE = {
    after: "select t.comment_id, t.article_id, a.title as article_title, t.body, t.posted_at"
    " from timeline_items t left join timeline_articles a on a.article_id = t.article_id"
    " where t.author_id = $1"
    + (" and (t.posted_at, t.article_id, t.comment_id) < ($3, $4, $5)" if after else "")
    + " order by t.posted_at desc, t.article_id desc, t.comment_id desc limit $2"
    for after in (False, True)
}


def _page(rows: list[Record], limit: int) -> tuple[list[Record], bool]:
    # One row more than asked tells whether a next page exists without a count.
    return rows[:limit], len(rows) > limit


async def read_thread(
    conn: Conn, article_id: str, sort: Sort, limit: int, cursor: str | None
) -> ThreadPage | None:
    """A page of the article's thread, or None when the article was never published."""
    after = decode_cursor(cursor, f"thread:{sort}", 1) if cursor else None
    article = await conn.fetchrow(_ARTICLE, article_id)
    if article is None:
        return None
    args: list[object] = [article_id, limit + 1]
    if after is not None:
        args += [after.time, after.keys[0]]
    roots, more = _page(await conn.fetch(_TOP_LEVEL[(sort, after is not None)], *args), limit)
    descendants = (
        await conn.fetch(_DESCENDANTS, article_id, [r["comment_id"] for r in roots])
        if roots
        else []
    )
    last = roots[-1] if roots else None
    return ThreadPage(
        article=ArticleView(**dict(article)),
        comments=build_tree(roots, descendants),
        next_cursor=encode_cursor(Cursor(f"thread:{sort}", last["posted_at"], [last["comment_id"]]))
        if more and last is not None
        else None,
    )


async def read_timeline(conn: Conn, author_id: str, limit: int, cursor: str | None) -> TimelinePage:
    """A page of the author's comments across articles, newest first."""
    after = decode_cursor(cursor, "timeline", 2) if cursor else None
    args: list[object] = [author_id, limit + 1]
    if after is not None:
        args += [after.time, *after.keys]
    rows, more = _page(await conn.fetch(_TIMELINE[after is not None], *args), limit)
    last = rows[-1] if rows else None
    return TimelinePage(
        author_id=author_id,
        items=[TimelineItem(**dict(row)) for row in rows],
        next_cursor=encode_cursor(
            Cursor("timeline", last["posted_at"], [last["article_id"], last["comment_id"]])
        )
        if more and last is not None
        else None,
    )
