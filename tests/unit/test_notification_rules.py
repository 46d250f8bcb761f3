"""Who is notified of which event: the pure rules of the notifier."""

import json
from datetime import UTC, datetime

import msgspec

from events import Envelope, Limits, decode_request
from services.notifications.rules import Notice, notice, target

AT = datetime(2026, 1, 1, tzinfo=UTC)


def event(type_: str, **data: object) -> Envelope:
    """One decoded event with id `e` on article `a`."""
    body = {"id": "e", "type": type_, "data": {"article_id": "a", **data}}
    [envelope] = decode_request(json.dumps(body).encode(), Limits(), now=AT)
    return envelope


def test_a_reply_notifies_the_parent_author_but_not_oneself() -> None:
    """A reply targets its parent and notifies the parent's author, unless they replied to
    themselves; a top-level comment targets nobody."""
    reply = event("CommentPosted", comment_id="c2", parent_id="c1", author_id="bob", body="x")
    assert target(reply) == ("a", "c1")
    assert notice(reply, "ann") == Notice(
        recipient_id="ann", event_id="e", kind="reply", article_id="a", comment_id="c1",
        actor_id="bob", at=AT, reply_id="c2",
    )  # fmt: skip
    assert notice(reply, "bob") is None
    assert notice(reply, None) is None
    top = event("CommentPosted", comment_id="c1", author_id="ann", body="x")
    assert target(top) is None
    assert notice(top, "ann") is None


def test_moderators_decisions_and_removals_notify_the_author() -> None:
    """Every moderation action, and a moderator's deletion, notify the comment's author; an
    author deleting their own comment and votes or flags notify nobody."""
    decided = event("CommentModerated", comment_id="c1", moderator_id="m", action="reject")
    assert target(decided) == ("a", "c1")
    made = notice(decided, "ann")
    assert made is not None
    assert (made.kind, made.action, made.actor_id) == ("moderation", "reject", "m")
    removed = event("CommentDeleted", comment_id="c1", deleted_by="m", moderator=True)
    made = notice(removed, "ann")
    assert made is not None
    assert made.action == "delete"
    assert target(event("CommentDeleted", comment_id="c1", deleted_by="ann")) is None
    assert target(event("CommentVoted", comment_id="c1", voter_id="v", vote="up")) is None


def test_imported_history_notifies_nobody() -> None:
    """A reply or a moderator's decision from imported history happened years ago in another
    system: it targets nobody, so an import does not flood authors with old news."""
    for type_, data in [
        ("CommentPosted", {"comment_id": "c2", "parent_id": "c1", "author_id": "b", "body": "x"}),
        ("CommentModerated", {"comment_id": "c1", "moderator_id": "m", "action": "reject"}),
    ]:
        imported = msgspec.structs.replace(event(type_, **data), importedfrom="disqus")
        assert target(imported) is None
        assert notice(imported, "ann") is None
