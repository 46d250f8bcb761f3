"""The personal export's fold: one person's comments with their history, votes, flags, bans."""

from datetime import UTC, datetime, timedelta

import jsonschema
import msgspec
from aiokafka.structs import ConsumerRecord

from events import (
    ArticleClosed,
    AuthorBanned,
    AuthorUnbanned,
    CommentDeleted,
    CommentEdited,
    CommentFlagged,
    CommentModerated,
    CommentPinned,
    CommentPosted,
    CommentVoted,
    Envelope,
    Event,
    encode_record,
)
from threadlog.export.personal_document import personal_export_schema
from threadlog.export.personal_fold import PersonalFold

START = datetime(2026, 12, 1, 10, tzinfo=UTC)


def _log(events: list[tuple[str, Event]]) -> list[Envelope]:
    return [
        Envelope(
            id=event_id,
            type=type(data).__name__,
            source="/t",
            time=START + timedelta(minutes=n),
            recordedtime=START + timedelta(minutes=n, seconds=1),
            data=data,
        )
        for n, (event_id, data) in enumerate(events)
    ]


def _fold(log: list[Envelope]) -> PersonalFold:
    """Feed the log as the export does: only what `wants` lets through gets decoded."""
    fold = PersonalFold("mira", START, {})
    for envelope in log:
        key, value, headers = encode_record(envelope)
        record = ConsumerRecord("t", 0, 0, 0, 0, key, value, None, 0, 0, headers)
        if fold.wants(record):
            fold.add(envelope)
    return fold


LOG = _log(
    [
        ("p1", CommentPosted(article_id="a1", comment_id="c1", author_id="mira", body="one")),
        ("p2", CommentPosted(article_id="a1", comment_id="c2", author_id="ben", body="two")),
        ("e1", CommentEdited(article_id="a1", comment_id="c1", editor_id="mira", body="one!")),
        ("v1", CommentVoted(article_id="a1", comment_id="c2", voter_id="mira", vote="up")),
        ("v2", CommentVoted(article_id="a1", comment_id="c1", voter_id="ben", vote="down")),
        ("f1", CommentFlagged(article_id="a1", comment_id="c2", flagger_id="mira", reason="spam")),
        (
            "m1",
            CommentModerated(
                article_id="a1", comment_id="c1", moderator_id="mod", action="feature"
            ),
        ),
        ("pin", CommentPinned(article_id="a1", comment_id="c1", moderator_id="mod")),
        (
            "d1",
            CommentDeleted(
                article_id="a1", comment_id="c1", deleted_by="mod", moderator=True, reason="rude"
            ),
        ),
        ("d2", CommentDeleted(article_id="a1", comment_id="c2", deleted_by="ben")),
        ("p1", CommentPosted(article_id="a1", comment_id="c1", author_id="mira", body="one")),
        ("b1", AuthorBanned(author_id="mira", moderator_id="mod", reason="spam")),
        ("u1", AuthorUnbanned(author_id="mira", moderator_id="mod")),
        ("x1", ArticleClosed(article_id="a9", by="mira")),
        ("e2", CommentEdited(article_id="a1", comment_id="c2", editor_id="mira", body="not mine")),
    ]
)


def test_comments_carry_their_history_and_no_one_elses_data() -> None:
    """Their comment comes with its edit, the moderator's decisions and its deletion by "a
    moderator" (the deletion names only the moderator: it is found by the comment); others'
    votes on it, others' comments and their deletions are not theirs."""
    doc = _fold(LOG).finish({0: 15})
    [comment] = doc.comments
    assert (comment.comment_id, comment.body, comment.event_id) == ("c1", "one", "p1")
    assert [(e.event_id, e.body) for e in comment.edits] == [("e1", "one!")]
    assert [(m.action, m.event_id) for m in comment.moderation] == [
        ("feature", "m1"),
        ("pin", "pin"),
    ]
    assert [(d.by, d.reason) for d in comment.deletions] == [("moderator", "rude")]
    assert b'"mod"' not in msgspec.json.encode(doc)
    assert b'"ben"' not in msgspec.json.encode(doc)
    assert doc.log_read_to == {0: 15}


def test_votes_flags_bans_and_other_acts_are_listed_once_with_times() -> None:
    """Acts they made and bans of them are listed with both times; an event id the log holds
    twice (a retry) is listed once; acts in other roles go to `other_events`."""
    doc = _fold(LOG).finish({})
    assert [(v.event_id, v.vote, v.accepted_at) for v in doc.votes] == [
        ("v1", "up", START + timedelta(minutes=3, seconds=1))
    ]
    assert [(f.event_id, f.reason) for f in doc.flags] == [("f1", "spam")]
    assert [(b.kind, b.reason) for b in doc.bans] == [("banned", "spam"), ("unbanned", None)]
    assert [(o.event_id, o.type, o.roles) for o in doc.other_events] == [
        ("x1", "ArticleClosed", ["moderator"]),
        ("e2", "CommentEdited", ["editor"]),
    ]
    assert len(_fold(LOG).logged()) == 11


def test_the_document_validates_against_its_published_schema() -> None:
    """What the command writes is what schemas/personal-export.v1.json describes."""
    doc = _fold(LOG).finish({0: 15, 1: 0})
    jsonschema.validate(msgspec.json.decode(msgspec.json.encode(doc)), personal_export_schema())


def test_imported_history_says_where_it_came_from() -> None:
    """A comment imported from another system is marked with it; a live one is not."""
    [imported, live] = _log(
        [
            ("i1", CommentPosted(article_id="a1", comment_id="c1", author_id="mira", body="old")),
            ("p2", CommentPosted(article_id="a1", comment_id="c2", author_id="mira", body="new")),
        ]
    )
    doc = _fold([msgspec.structs.replace(imported, importedfrom="disqus"), live]).finish({})
    assert [(c.comment_id, c.importedfrom) for c in doc.comments] == [
        ("c1", "disqus"),
        ("c2", None),
    ]
