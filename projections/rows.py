"""The rows of the read models, as the pure core plans them and as Postgres stores them."""

from datetime import datetime

import msgspec


class ArticleRow(msgspec.Struct, frozen=True, kw_only=True):
    """An article of the threads model; `published_at` is its first ArticlePublished's time."""

    article_id: str
    title: str
    url: str | None
    author: str | None
    published_at: datetime


class CommentRow(msgspec.Struct, frozen=True, kw_only=True):
    """A comment of the threads model, without its counts (those are derived)."""

    article_id: str
    comment_id: str
    parent_id: str | None
    author_id: str
    author_name: str | None
    body: str
    posted_at: datetime
    event_id: str


class FlagRow(msgspec.Struct, frozen=True, kw_only=True):
    """One reader's flag on one comment; a second flag by the same reader counts once."""

    article_id: str
    comment_id: str
    flagger_id: str
    reason: str
    note: str | None
    flagged_at: datetime


class TimelineItemRow(msgspec.Struct, frozen=True, kw_only=True):
    """A comment as its author's timeline lists it."""

    author_id: str
    article_id: str
    comment_id: str
    body: str
    posted_at: datetime


class TitleRow(msgspec.Struct, frozen=True, kw_only=True):
    """An article's current title, as timelines show it next to each comment."""

    article_id: str
    title: str
