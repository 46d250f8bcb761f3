"""The threads projection's Postgres shell: writes what `threads.plan_threads` decided."""

from projections.sql_rows import Conn, insert_rows
from projections.threads import ThreadChanges

_RECOUNT_COMMENTS = """
update comments c set
    reply_count = (select count(*) from comments r
                   where r.article_id = c.article_id and r.parent_id = c.comment_id),
    flag_count = (select count(*) from flags f
                  where f.article_id = c.article_id and f.comment_id = c.comment_id)
from unnest($1::text[], $2::text[]) k(article_id, comment_id)
where c.article_id = k.article_id and c.comment_id = k.comment_id
"""

_RECOUNT_ARTICLES = """
update articles a set
    comment_count = (select count(*) from comments c where c.article_id = a.article_id)
where a.article_id = any($1::text[])
"""


async def write_threads(conn: Conn, changes: ThreadChanges) -> None:
    """Apply one batch's thread changes inside the caller's transaction."""
    await insert_rows(
        conn,
        "articles",
        changes.articles,
        "on conflict (article_id) do update set"
        " title = excluded.title, url = excluded.url, author = excluded.author",
    )
    await insert_rows(conn, "comments", changes.comments)
    await insert_rows(conn, "flags", changes.flags)
    if changes.recount_comments:
        await conn.execute(
            _RECOUNT_COMMENTS,
            [key[0] for key in changes.recount_comments],
            [key[1] for key in changes.recount_comments],
        )
    if changes.recount_articles:
        await conn.execute(_RECOUNT_ARTICLES, changes.recount_articles)
