"""The event types of threadlog, version 1 of each: what producers post and the log keeps.

Events are facts in the past tense. Events about a thread name its article, whose id is their
Kafka key: all events of one thread share a partition and keep their order. Events about an
author (bans) are keyed by the author's id instead.

An event type is declared here once: its class carries the scope a key needs to post it and
whether thread streams carry it, and joins the `Event` union. Every list of types (the
`EventType` literal, `EVENT_TYPES`, the scope table in services/auth/scopes.py, the streamed
types) is derived from that; tests/unit/test_event_declarations.py names what a new type still
lacks elsewhere (its rule, its strategy, its schema, its README row).
"""

from typing import TYPE_CHECKING, ClassVar, Literal, get_args

import msgspec

from events.fields import (
    ArticleText,
    CommentText,
    Id,
    ImportedScore,
    Name,
    Note,
    Timestamp,
    Title,
    Url,
)

PostScope = Literal["produce", "moderate"]
"""Who may post an event: a producer of content, or a moderator (services/auth/scopes.py)."""


class _Event(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True
):
    """Base of every event's data: immutable, strict about unknown fields."""

    VERSION: ClassVar[int] = 1
    SCOPE: ClassVar["PostScope"]
    """The scope a key needs to post it. Every type declares it: no default, so that a
    forgotten moderation event cannot be open to every producer."""
    STREAMED: ClassVar[bool]
    """Whether thread streams carry it (only events about one comment can be)."""

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

    SCOPE = "produce"
    STREAMED = False

    title: Title
    url: Url | None = None
    author: Name | None = None
    body: ArticleText | None = None
    premoderated: bool = False
    """Hold every new comment of this thread until a moderator approves it."""


class ArticleUpdated(_ThreadEvent, frozen=True, kw_only=True):
    """An article's title, url or moderation mode changed; fields left out stay as they were."""

    SCOPE = "produce"
    STREAMED = False

    title: Title | None = None
    url: Url | None = None
    premoderated: bool | None = None


class ArticleClosed(_ThreadEvent, frozen=True, kw_only=True):
    """The thread takes no new comments or edits."""

    SCOPE = "moderate"
    STREAMED = False

    by: Id
    reason: Note | None = None


class ArticleReopened(_ThreadEvent, frozen=True, kw_only=True):
    """A closed thread takes comments again."""

    SCOPE = "moderate"
    STREAMED = False

    by: Id
    reason: Note | None = None


class CommentPosted(_CommentEvent, frozen=True, kw_only=True):
    """A reader posted a comment, top-level or (with `parent_id`) as a reply."""

    SCOPE = "produce"
    STREAMED = True

    author_id: Id
    body: CommentText
    author_name: Name | None = None
    parent_id: Id | None = None
    held: bool = False
    """Imported history only (`importedfrom`): the source held it for a moderator, so it arrives
    pending, in the moderation queue, not shown to readers."""
    score: ImportedScore | None = None
    """Imported history only: the votes the source counted without naming voters (likes minus
    dislikes); added to the comment's served score."""


class CommentEdited(_CommentEvent, frozen=True, kw_only=True):
    """The author changed a comment's text (within the edit window)."""

    SCOPE = "produce"
    STREAMED = True

    editor_id: Id
    body: CommentText


class CommentDeleted(_CommentEvent, frozen=True, kw_only=True):
    """A comment was withdrawn by its author or removed by a moderator; it stays a tombstone."""

    # A deletion of someone else's comment (`moderator`) needs `moderate`: see scopes.py.
    SCOPE = "produce"
    STREAMED = True

    deleted_by: Id
    reason: Note | None = None
    moderator: bool = False
    """True when a moderator removes someone else's comment (needs the `moderate` scope)."""


Vote = Literal["up", "down", "none"]


class CommentVoted(_CommentEvent, frozen=True, kw_only=True):
    """A reader voted on a comment; "none" withdraws their vote."""

    SCOPE = "produce"
    STREAMED = False

    voter_id: Id
    vote: Vote


FlagReason = Literal["spam", "abuse", "hate", "off_topic", "other"]


class CommentFlagged(_CommentEvent, frozen=True, kw_only=True):
    """A reader reported a comment to the moderators."""

    # Streamed because the threshold's flag holds the comment: readers must see it leave.
    SCOPE = "produce"
    STREAMED = True

    flagger_id: Id
    reason: FlagReason
    note: Note | None = None


ModerationAction = Literal["approve", "reject", "feature", "unfeature"]


class CommentModerated(_CommentEvent, frozen=True, kw_only=True):
    """A moderator decided on a comment."""

    SCOPE = "moderate"
    STREAMED = True

    moderator_id: Id
    action: ModerationAction
    note: Note | None = None


class CommentPinned(_CommentEvent, frozen=True, kw_only=True):
    """A moderator pinned a visible comment: it leads its thread, whatever the sort."""

    SCOPE = "moderate"
    STREAMED = True

    moderator_id: Id
    note: Note | None = None


class CommentUnpinned(_CommentEvent, frozen=True, kw_only=True):
    """A moderator unpinned a comment: it goes back to its place in the thread."""

    SCOPE = "moderate"
    STREAMED = True

    moderator_id: Id
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

    SCOPE = "moderate"
    STREAMED = False

    until: Timestamp | None = None


class AuthorUnbanned(_AuthorEvent, frozen=True, kw_only=True):
    """An author's bans end at this event's time."""

    SCOPE = "moderate"
    STREAMED = False


class AuthorErased(_AuthorEvent, frozen=True, kw_only=True):
    """An author asked to be forgotten: their data key is destroyed, and every read model drops
    their text and name, whenever their events arrive (before or after this one)."""

    SCOPE = "moderate"
    STREAMED = False


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
    | CommentPinned
    | CommentUnpinned
    | AuthorBanned
    | AuthorUnbanned
    | AuthorErased
)
"""Every event type's data; `match` on it to dispatch. The one list of the types, kept static so
that mypy checks every dispatch ends in `assert_never`: a class added here and missing from a
`match` fails the type check there."""

EVENT_TYPES: dict[str, type[Event]] = {cls.__name__: cls for cls in get_args(Event)}
"""The CloudEvents `type` attribute of each event, mapped to the Struct of its data."""

if TYPE_CHECKING:
    EventType = str
else:
    # Derived for msgspec, which validates a posted `type` against it; mypy sees a str.
    EventType = Literal[tuple(EVENT_TYPES)]
"""The CloudEvents `type` attribute: the name of one of the types above."""

STREAMED_TYPES: tuple[type[_CommentEvent], ...] = tuple(
    cls for cls in EVENT_TYPES.values() if issubclass(cls, _CommentEvent) and cls.STREAMED
)
"""The events thread streams carry: those about one comment that declare `STREAMED`."""
