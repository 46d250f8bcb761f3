"""What `threadlog export --article` and `--author` select, judged on bytes and then on data."""

from datetime import UTC, datetime

from aiokafka.structs import ConsumerRecord

from events import (
    ArticleClosed,
    ArticlePublished,
    AuthorBanned,
    CommentDeleted,
    CommentEdited,
    CommentFlagged,
    CommentModerated,
    CommentPosted,
    CommentVoted,
    Envelope,
    Event,
    encode_record,
)
from threadlog.export.log_export import Selection
from threadlog.export.roles import roles

AT = datetime(2026, 12, 1, tzinfo=UTC)


def _envelope(data: Event) -> Envelope:
    return Envelope(id="e", type=type(data).__name__, source="/t", time=AT, data=data)


def _record(data: Event) -> ConsumerRecord:
    key, value, headers = encode_record(_envelope(data))
    return ConsumerRecord("t", 0, 0, 0, 0, key, value, None, len(key), len(value), headers)


EVENTS: list[Event] = [
    ArticlePublished(article_id="a1", title="T", author="mira"),
    CommentPosted(article_id="a1", comment_id="c1", author_id="mira", body="hi"),
    CommentPosted(article_id="a2", comment_id="c1", author_id="ben", body="mira says hi"),
    CommentEdited(article_id="a1", comment_id="c1", editor_id="mira", body="hi!"),
    CommentDeleted(article_id="a2", comment_id="c1", deleted_by="mira", moderator=True),
    CommentVoted(article_id="a2", comment_id="c1", voter_id="mira", vote="up"),
    CommentFlagged(article_id="a2", comment_id="c1", flagger_id="mira", reason="spam"),
    CommentModerated(article_id="a1", comment_id="c1", moderator_id="mod", action="reject"),
    ArticleClosed(article_id="a2", by="mira"),
    AuthorBanned(author_id="mira", moderator_id="mod"),
    AuthorBanned(author_id="mirabel", moderator_id="mod"),
]


def _selected(selection: Selection) -> list[Event]:
    return [
        data
        for data in EVENTS
        if selection.prefilter(_record(data)) and selection.wants(_envelope(data))
    ]


def test_roles_name_every_field_that_holds_a_person() -> None:
    """A ban's author is its target; every other person field names its role."""
    assert [roles(data, "mira") for data in EVENTS] == [
        [],  # an article's `author` is a byline, not an id
        ["author"],
        [],  # named in a body only
        ["editor"],
        ["deleter"],
        ["voter"],
        ["flagger"],
        [],
        ["moderator"],
        ["banned"],
        [],
    ]


def test_author_selects_events_naming_them_and_no_others() -> None:
    """--author keeps every event whose data names the person by id, in any role; a body that
    mentions them, a longer id that starts with theirs and an article's byline do not count."""
    assert _selected(Selection(author="mira")) == [data for data in EVENTS if roles(data, "mira")]


def test_article_selects_that_articles_events_only() -> None:
    """--article keeps the article's own events; another article's and bans are left out."""
    assert _selected(Selection(article="a1")) == [EVENTS[0], EVENTS[1], EVENTS[3], EVENTS[7]]


def test_no_selection_keeps_everything() -> None:
    """The whole-log export keeps every event."""
    assert _selected(Selection()) == EVENTS


def test_an_article_named_like_a_ban_key_selects_no_ban() -> None:
    """A ban's key is `author:<id>`; an article of that id (ids may hold ':') still gets only
    its own events."""
    ban = AuthorBanned(author_id="x", moderator_id="mod")
    selection = Selection(article="author:x")
    assert selection.prefilter(_record(ban))
    assert not selection.wants(_envelope(ban))
