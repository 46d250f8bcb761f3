"""The response bodies of the query service, as the contract in README.md describes them."""

from datetime import datetime

import msgspec


class ArticleView(msgspec.Struct, frozen=True, kw_only=True):
    """An article and its thread's size."""

    article_id: str
    title: str
    url: str | None
    author: str | None
    published_at: datetime
    comment_count: int


class CommentView(msgspec.Struct, frozen=True, kw_only=True):
    """A comment with its replies, oldest first, nested to any depth."""

    comment_id: str
    parent_id: str | None
    author_id: str
    author_name: str | None
    body: str
    posted_at: datetime
    reply_count: int
    flag_count: int
    replies: list["CommentView"]


class ThreadPage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of an article's top-level comments, each with its whole subtree."""

    article: ArticleView
    comments: list[CommentView]
    next_cursor: str | None


class TimelineItem(msgspec.Struct, frozen=True, kw_only=True):
    """One comment on an author's timeline."""

    comment_id: str
    article_id: str
    article_title: str | None
    body: str
    posted_at: datetime


class TimelinePage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of an author's comments, newest first."""

    author_id: str
    items: list[TimelineItem]
    next_cursor: str | None
