"""The event types of threadlog, version 1 of each: what producers post and the log keeps.

Events are facts in the past tense. Events about a thread name its article, whose id is their
Kafka key: all events of one thread share a partition and keep their order. Events about an
author (bans) are keyed by the author's id instead.
"""

from typing import ClassVar, Literal, get_args

import msgspec

from events.fields import ArticleText, CommentText, Id, Name, Note, Timestamp, Title, Url


class _Event(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True
):
    """Base of every event's data: immutable, strict about unknown fields."""

    VERSION: ClassVar[int] = 1

    @property
    def key(self) -> str:
        """The Kafka key: the events of one key keep their order."""
        raise NotImplementedError


class _ThreadEvent(_Event, frozen=True, kw_only=True):
    """An event about one article's thread."""

    article_id: Id

    @property
    def key(self) -> str:
        """Events of one thread share the article's key."""
        return self.article_id


class _CommentEvent(_ThreadEvent, frozen=True, kw_only=True):
    """An event about one comment of a thread."""

    comment_id: Id


class ArticlePublished(_ThreadEvent, frozen=True, kw_only=True):
    """An article went online; publishing it again updates its title, url and author."""

    title: Title
    url: Url | None = None
    author: Name | None = None
    body: ArticleText | None = None
    premoderated: bool = False
    """Hold every new comment of this thread until a moderator approves it."""


class ArticleUpdated(_ThreadEvent, frozen=True, kw_only=True):
    """An article's title, url or moderation mode changed; fields left out stay as they were."""

    title: Title | None = None
    url: Url | None = None
    premoderated: bool | None = None


class ArticleClosed(_ThreadEvent, frozen=True, kw_only=True):
    """The thread takes no new comments or edits."""

    by: Id
    reason: Note | None = None


class ArticleReopened(_ThreadEvent, frozen=True, kw_only=True):
    """A closed thread takes comments again."""

    by: Id
    reason: Note | None = None


class CommentPosted(_CommentEvent, frozen=True, kw_only=True):
    """A reader posted a comment, top-level or (with `parent_id`) as a reply."""

    author_id: Id
    body: CommentText
    author_name: Name | None = None
    parent_id: Id | None = None


class CommentEdited(_CommentEvent, frozen=True, kw_only=True):
    """The author changed a comment's text (within the edit window)."""

    editor_id: Id
    body: CommentText


class CommentDeleted(_CommentEvent, frozen=True, kw_only=True):
    """A comment was withdrawn by its author or removed by a moderator; it stays a tombstone."""

    deleted_by: Id
    reason: Note | None = None
    moderator: bool = False
    """True when a moderator removes someone else's comment (needs the `moderate` scope)."""


Vote = Literal["up", "down", "none"]


class CommentVoted(_CommentEvent, frozen=True, kw_only=True):
    """A reader voted on a comment; "none" withdraws their vote."""

    voter_id: Id
    vote: Vote


FlagReason = Literal["spam", "abuse", "hate", "off_topic", "other"]


class CommentFlagged(_CommentEvent, frozen=True, kw_only=True):
    """A reader reported a comment to the moderators."""

    flagger_id: Id
    reason: FlagReason
    note: Note | None = None


ModerationAction = Literal["approve", "reject", "feature", "unfeature"]


class CommentModerated(_CommentEvent, frozen=True, kw_only=True):
    """A moderator decided on a comment."""

    moderator_id: Id
    action: ModerationAction
    note: Note | None = None


class _AuthorEvent(_Event, frozen=True, kw_only=True):
    """An event about an author across every thread."""

    author_id: Id
    moderator_id: Id
    reason: Note | None = None

    @property
    def key(self) -> str:
        """Events of one author share the author's key (prefixed, apart from article ids)."""
        return f"author:{self.author_id}"


class AuthorBanned(_AuthorEvent, frozen=True, kw_only=True):
    """An author may not comment from this event's time until `until` (or until unbanned)."""

    until: Timestamp | None = None


class AuthorUnbanned(_AuthorEvent, frozen=True, kw_only=True):
    """An author's bans end at this event's time."""


Event = (
    ArticlePublished
    | ArticleUpdated
    | ArticleClosed
    | ArticleReopened
    | CommentPosted
    | CommentEdited
    | CommentDeleted
    | CommentVoted
    | CommentFlagged
    | CommentModerated
    | AuthorBanned
    | AuthorUnbanned
)
"""Every event type's data; `match` on it to dispatch."""

EVENT_TYPES: dict[str, type[Event]] = {cls.__name__: cls for cls in get_args(Event)}
"""The CloudEvents `type` attribute of each event, mapped to the Struct of its data."""

EventType = Literal[
    "ArticlePublished",
    "ArticleUpdated",
    "ArticleClosed",
    "ArticleReopened",
    "CommentPosted",
    "CommentEdited",
    "CommentDeleted",
    "CommentVoted",
    "CommentFlagged",
    "CommentModerated",
    "AuthorBanned",
    "AuthorUnbanned",
]
