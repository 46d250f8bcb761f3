"""The response bodies of the query service, as the contract in README.md describes them."""

from datetime import datetime
from typing import Annotated

import msgspec

from events.fields import Id


class ArticleView(msgspec.Struct, frozen=True, kw_only=True):
    """An article, its thread's size (visible comments) and whether it takes comments."""

    article_id: str
    title: str
    url: str | None
    author: str | None
    published_at: datetime
    comment_count: int
    closed: bool


class CommentView(msgspec.Struct, frozen=True, kw_only=True):
    """A comment with its first replies, oldest first, nested to any depth.

    A deleted comment is a tombstone: status "deleted", no body, no author; `erased` when its
    author was erased (AuthorErased), rather than the comment deleted. `more_replies`
    counts the direct replies not inlined; fetch them from /v1/comments/{id}/replies, starting
    after `replies_cursor` (or from the first reply when it is null).
    """

    comment_id: str
    parent_id: str | None
    author_id: str | None
    author_name: str | None
    body: str | None
    status: str
    posted_at: datetime
    edited_at: datetime | None
    featured: bool
    pinned: bool
    score: int
    reply_count: int
    flag_count: int
    erased: bool
    replies: list["CommentView"]
    more_replies: int
    replies_cursor: str | None


class ThreadPage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of an article's top-level comments, each with its first replies."""

    article: ArticleView
    comments: list[CommentView]
    next_cursor: str | None


class EditView(msgspec.Struct, frozen=True, kw_only=True):
    """A comment's text as it was before an edit."""

    version: int
    body: str
    replaced_at: datetime


class CommentPage(msgspec.Struct, frozen=True, kw_only=True):
    """A permalink: one comment with its first replies and its edit history."""

    article_id: str
    comment: CommentView
    edits: list[EditView]


class RepliesPage(msgspec.Struct, frozen=True, kw_only=True):
    """A page of a comment's direct replies, oldest first, each with its first replies."""

    article_id: str
    parent_id: str
    replies: list[CommentView]
    next_cursor: str | None


class TimelineItem(msgspec.Struct, frozen=True, kw_only=True):
    """One comment on an author's timeline; a deleted one is a tombstone without body."""

    comment_id: str
    article_id: str
    article_title: str | None
    body: str | None
    status: str
    posted_at: datetime
    edited_at: datetime | None


class TimelinePage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of an author's comments, newest first."""

    author_id: str
    items: list[TimelineItem]
    next_cursor: str | None


class Counts(msgspec.Struct, frozen=True, kw_only=True):
    """Visible comments per article, for an article list; unknown articles count 0."""

    counts: dict[str, int]


class EventStatus(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """What became of an event: pending (not applied yet, or never seen), applied, rejected, or
    dead_lettered (its record was parked)."""

    id: str
    status: str
    type: str | None = None
    reason: str | None = None


class QueueItem(msgspec.Struct, frozen=True, kw_only=True):
    """A comment waiting for a moderator, with every reason it is there."""

    article_id: str
    comment_id: str
    author_id: str
    author_name: str | None
    body: str
    status: str
    posted_at: datetime
    hold_reasons: list[str]
    flag_count: int
    flag_reasons: list[str]


class QueuePage(msgspec.Struct, frozen=True, kw_only=True):
    """A page of the moderation queue, most flagged first, then oldest."""

    items: list[QueueItem]
    next_cursor: str | None


class NotificationView(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Someone replied to the reader's comment, or a moderator decided on it."""

    id: str
    """The event's id: pass it to mark-as-read."""
    kind: str
    article_id: str
    comment_id: str
    actor_id: str
    at: datetime
    read: bool
    reply_id: str | None = None
    action: str | None = None


class NotificationsPage(msgspec.Struct, frozen=True, kw_only=True):
    """A page of an author's notifications, newest first, and how many are unread in all."""

    author_id: str
    unread: int
    items: list[NotificationView]
    next_cursor: str | None


class MarkRead(msgspec.Struct, frozen=True, kw_only=True):
    """Which notifications to mark read: the ids given, or every one when `ids` is left out."""

    # Event ids, as producers may choose them; bounded, so a request cannot carry NUL (which
    # PostgreSQL text refuses) or an unbounded list.
    ids: Annotated[list[Id], msgspec.Meta(max_length=1000)] | None = None


class MarkedRead(msgspec.Struct, frozen=True, kw_only=True):
    """How many notifications changed to read, and how many remain unread."""

    marked: int
    unread: int
