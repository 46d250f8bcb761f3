"""Pinning a comment to the top of its thread, folded in memory by the pure core."""

from events import (
    AuthorBanned,
    CommentDeleted,
    CommentModerated,
    CommentPinned,
    CommentUnpinned,
    Event,
)
from projections.policy import Policy
from tests.unit.test_lifecycle import Thread


def pin(comment_id: str) -> Event:
    return CommentPinned(article_id="a1", comment_id=comment_id, moderator_id="mod")


def unpin(comment_id: str) -> Event:
    return CommentUnpinned(article_id="a1", comment_id=comment_id, moderator_id="mod", note="old")


def test_a_moderator_pins_and_unpins_a_visible_comment() -> None:
    """Pinning marks the comment, unpinning clears the mark; both apply once the comment is
    known, and name `unknown_comment` otherwise."""
    t = Thread()
    t.post("c1")
    assert t.do(pin("c1")) == ("applied", None)
    assert t.comment("c1").pinned is True
    assert t.do(unpin("c1")) == ("applied", None)
    assert t.comment("c1").pinned is False
    assert t.do(pin("nope")) == ("rejected", "unknown_comment")
    assert t.do(unpin("nope")) == ("rejected", "unknown_comment")


def test_only_a_comment_its_thread_shows_can_be_pinned() -> None:
    """A held, rejected or deleted comment is not pinned (`comment_not_visible`); deleting or
    rejecting a pinned comment unpins it, so no tombstone leads the thread."""
    t = Thread(Policy(premoderate_all=True))
    t.post("held")
    assert t.do(pin("held")) == ("rejected", "comment_not_visible")
    t.do(CommentModerated(article_id="a1", comment_id="held", moderator_id="m", action="approve"))
    assert t.do(pin("held")) == ("applied", None)
    t.do(CommentDeleted(article_id="a1", comment_id="held", deleted_by="u1"))
    assert t.comment("held").pinned is False
    assert t.do(pin("held")) == ("rejected", "comment_not_visible")
    t.post("c2")
    t.do(CommentModerated(article_id="a1", comment_id="c2", moderator_id="m", action="approve"))
    t.do(pin("c2"))
    t.do(CommentModerated(article_id="a1", comment_id="c2", moderator_id="m", action="reject"))
    assert t.comment("c2").pinned is False


def test_pinning_reads_the_threads_own_decision_not_the_ban_overlay() -> None:
    """A ban hides a comment without deciding it: pinning one of a banned author's comments
    applies (it leads the thread once the ban is lifted), as with a moderator's approval."""
    t = Thread()
    t.do(AuthorBanned(author_id="u9", moderator_id="mod"))
    t.post("c1", author="u9")
    assert t.row("c1")["status"] == "rejected"
    assert t.do(pin("c1")) == ("applied", None)
    assert t.row("c1")["pinned"] is True
