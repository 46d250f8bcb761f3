"""The threads projection's pure core: a batch of events in, the row changes out.

Rules, the same in Postgres (`threads_store`) and in memory (`memory`):
- an article is upserted: publishing again replaces title, url and author, keeps `published_at`;
- a comment is inserted once per (article, comment id); a later post with the same id is ignored;
- a flag counts once per (comment, flagger);
- counts are derived, never incremented: `reply_count` is the number of stored direct replies,
  `flag_count` the number of distinct flaggers, `comment_count` the number of stored comments.
  Deriving them keeps re-application harmless and makes early arrivals (a reply before its parent,
  a comment before its article) count as soon as they are stored.
"""

from collections.abc import Sequence

import msgspec

from events import ArticlePublished, CommentFlagged, CommentPosted, Envelope
from projections.rows import ArticleRow, CommentRow, FlagRow

CommentKey = tuple[str, str]
"""(article_id, comment_id): comment ids are unique within their article."""


class ThreadChanges(msgspec.Struct, frozen=True, kw_only=True):
    """Row changes for one batch, plus the keys whose derived counts must be recomputed."""

    articles: list[ArticleRow]
    comments: list[CommentRow]
    flags: list[FlagRow]
    recount_comments: list[CommentKey]
    recount_articles: list[str]


def plan_threads(events: Sequence[Envelope]) -> ThreadChanges:
    """Fold a batch of events, in log order, into the changes the threads model needs."""
    articles: dict[str, ArticleRow] = {}
    comments: dict[CommentKey, CommentRow] = {}
    flags: dict[tuple[str, str, str], FlagRow] = {}
    recount_comments: set[CommentKey] = set()
    recount_articles: set[str] = set()
    for event in events:
        match event.data:
            case ArticlePublished() as data:
                first = articles.get(data.article_id)
                articles[data.article_id] = ArticleRow(
                    article_id=data.article_id,
                    title=data.title,
                    url=data.url,
                    author=data.author,
                    published_at=first.published_at if first else event.time,
                )
                recount_articles.add(data.article_id)
            case CommentPosted() as data:
                key = (data.article_id, data.comment_id)
                if key in comments:
                    continue
                comments[key] = CommentRow(
                    article_id=data.article_id,
                    comment_id=data.comment_id,
                    parent_id=data.parent_id,
                    author_id=data.author_id,
                    author_name=data.author_name,
                    body=data.body,
                    posted_at=event.time,
                    event_id=event.id,
                )
                recount_comments.add(key)
                if data.parent_id is not None:
                    recount_comments.add((data.article_id, data.parent_id))
                recount_articles.add(data.article_id)
            case CommentFlagged() as data:
                flag_key = (data.article_id, data.comment_id, data.flagger_id)
                if flag_key in flags:
                    continue
                flags[flag_key] = FlagRow(
                    article_id=data.article_id,
                    comment_id=data.comment_id,
                    flagger_id=data.flagger_id,
                    reason=data.reason,
                    note=data.note,
                    flagged_at=event.time,
                )
                recount_comments.add((data.article_id, data.comment_id))
    return ThreadChanges(
        articles=list(articles.values()),
        comments=list(comments.values()),
        flags=list(flags.values()),
        recount_comments=sorted(recount_comments),
        recount_articles=sorted(recount_articles),
    )
