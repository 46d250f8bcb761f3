"""The event types of threadlog, version 1 of each: what producers post and the log keeps.

Events are facts in the past tense. Every event names its article, because the article id is the
Kafka key: all events of one thread share a partition and keep their order.
"""

from typing import ClassVar, Literal

import msgspec

from events.fields import ArticleText, CommentText, Id, Name, Note, Title, Url


class _Event(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True
):
    """Base of every event's data: immutable, strict about unknown fields."""

    VERSION: ClassVar[int] = 1
    article_id: Id


class ArticlePublished(_Event, frozen=True, kw_only=True):
    """An article went online; publishing it again updates its title, url and author."""

    title: Title
    url: Url | None = None
    author: Name | None = None
    body: ArticleText | None = None


class CommentPosted(_Event, frozen=True, kw_only=True):
    """A reader posted a comment, top-level or (with `parent_id`) as a reply."""

    comment_id: Id
    author_id: Id
    body: CommentText
    author_name: Name | None = None
    parent_id: Id | None = None


FlagReason = Literal["spam", "abuse", "hate", "off_topic", "other"]


class CommentFlagged(_Event, frozen=True, kw_only=True):
    """A reader reported a comment to the moderators."""

    comment_id: Id
    flagger_id: Id
    reason: FlagReason
    note: Note | None = None


Event = ArticlePublished | CommentPosted | CommentFlagged
"""Every event type's data; `match` on it to dispatch."""

EVENT_TYPES: dict[str, type[Event]] = {
    cls.__name__: cls for cls in (ArticlePublished, CommentPosted, CommentFlagged)
}
"""The CloudEvents `type` attribute of each event, mapped to the Struct of its data."""

EventType = Literal["ArticlePublished", "CommentPosted", "CommentFlagged"]
