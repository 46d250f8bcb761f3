"""Imported history in the pure fold: decided by the source's history, not by today's holds,
edit window, closed threads or bans; structural rules still apply (`projections.threads`)."""

from datetime import UTC, datetime, timedelta

from events import (
    ArticleClosed,
    ArticlePublished,
    AuthorBanned,
    CommentEdited,
    CommentFlagged,
    CommentModerated,
    CommentPosted,
    CommentVoted,
    Envelope,
    Event,
    Vote,
)
from projections.policy import Policy
from projections.threads.columns import COMMENTS
from projections.threads.fold import ReadModels

OLD = datetime(2012, 3, 4, 5, 6, 7, tzinfo=UTC)
"""When the source says the history happened."""
NOW = datetime(2026, 12, 1, 21, 0, tzinfo=UTC)
"""When ingest accepted the import."""
STRICT = Policy(premoderate_all=True, banned_patterns=("pills",), max_links=0, flag_threshold=2)
"""A policy that would hold every live comment, for every reason it has."""


class Log:
    """A log on article a1, folded as it grows: ingest's clock ticks a second per event."""

    def __init__(self, policy: Policy = STRICT) -> None:
        self.model = ReadModels(policy)
        self.n = 0

    def add(
        self,
        data: Event,
        time: datetime,
        *,
        imported: bool = True,
        accepted: datetime | None = None,
    ) -> tuple[str, str | None]:
        """Fold one event (marked as imported from Disqus unless told), accepted by ingest at
        `accepted` (default: the log's clock); its outcome and reason."""
        self.n += 1
        event = Envelope(
            id=f"e{self.n}",
            type=type(data).__name__,
            source="/import",
            time=time,
            data=data,
            recordedtime=accepted or NOW + timedelta(seconds=self.n),
            importedfrom="disqus" if imported else None,
        )
        self.model.fold([event])
        outcome = self.model.outcomes[event.id]
        return outcome[2], outcome[3]  # type: ignore[return-value]

    def row(self, comment_id: str) -> dict[str, object]:
        """The comment's snapshot row, by column name."""
        [row] = [r for r in self.model.snapshot()["comments"] if r[1] == comment_id]
        return dict(zip(COMMENTS.snapshot, row, strict=True))


def post(comment_id: str, **fields: object) -> CommentPosted:
    values: dict[str, object] = {"author_id": "u1", "body": "buy pills at http://x.example"}
    return CommentPosted(article_id="a1", comment_id=comment_id, **(values | fields))  # type: ignore[arg-type]


def closed_premoderated_thread_with_a_banned_author() -> Log:
    """Article a1, premoderated and closed; its author u1 banned (live) before the import."""
    log = Log()
    log.add(ArticlePublished(article_id="a1", title="T", premoderated=True), OLD, imported=False)
    log.add(ArticleClosed(article_id="a1", by="m"), OLD, imported=False)
    log.add(AuthorBanned(author_id="u1", moderator_id="m"), NOW, imported=False)
    return log


def test_an_imported_comment_is_shown_as_of_its_old_time_whatever_holds_it_would_trip() -> None:
    """Premoderation, a banned pattern, the link limit, a closed thread and a ban in force hold
    or refuse a live post; an imported one is applied, visible, with the source's time."""
    log = closed_premoderated_thread_with_a_banned_author()
    assert log.add(post("c1"), OLD) == ("applied", None)
    row = log.row("c1")
    assert (row["status"], row["hold_reasons"], row["banned"]) == ("visible", (), False)
    assert row["posted_at"] == OLD
    assert row["imported_from"] == "disqus"
    assert log.add(post("live"), NOW, imported=False) == ("rejected", "article_closed")


def test_a_ban_applied_after_the_import_does_not_hide_imported_history() -> None:
    """A ban decides again which comments it covers, whichever the worker applied first;
    imported ones are never among them, even when the import was accepted inside the ban."""
    log = Log(Policy())
    log.add(ArticlePublished(article_id="a1", title="T"), OLD)
    log.add(post("c1", body="fine"), NOW)
    ban = AuthorBanned(author_id="u1", moderator_id="m")
    log.add(ban, NOW, imported=False, accepted=NOW - timedelta(hours=1))
    assert log.row("c1")["status"] == "visible"


def test_an_imported_ban_goes_by_the_sources_time() -> None:
    """A ban the source recorded in 2012 covers the author's live comments from then on, also
    one accepted yesterday, before the import brought the ban in."""
    log = Log(Policy())
    log.add(ArticlePublished(article_id="a1", title="T"), OLD)
    yesterday = NOW - timedelta(days=1)
    log.add(post("live", body="fine"), yesterday, imported=False, accepted=yesterday)
    log.add(AuthorBanned(author_id="u1", moderator_id="m"), OLD)
    assert log.model.outcomes["e2"][2:4] == ("rejected", "author_banned")


def test_a_held_import_waits_in_the_moderation_queue_until_approved() -> None:
    """`held` puts the comment in the queue (pending, held at the source), and a moderator's
    approval shows it, like any hold."""
    log = Log(Policy())
    log.add(ArticlePublished(article_id="a1", title="T"), OLD)
    assert log.add(post("c1", body="fine", held=True), OLD) == ("applied", None)
    row = log.row("c1")
    assert (row["status"], row["hold_reasons"]) == ("pending", ("held_at_source",))
    log.add(
        CommentModerated(article_id="a1", comment_id="c1", moderator_id="m", action="approve"), OLD
    )
    assert log.row("c1")["status"] == "visible"


def test_a_counted_score_adds_to_the_votes() -> None:
    """The served score is up votes minus down votes plus the score the source counted."""
    log = Log(Policy())
    log.add(ArticlePublished(article_id="a1", title="T"), OLD)
    log.add(post("c1", body="fine", score=5), OLD)
    votes: list[tuple[str, Vote]] = [("v1", "up"), ("v2", "up"), ("v3", "down")]
    for voter, vote in votes:
        cast = CommentVoted(article_id="a1", comment_id="c1", voter_id=voter, vote=vote)
        log.add(cast, NOW, imported=False)
    row = log.row("c1")
    assert (row["score"], row["imported_score"]) == (6, 5)


def test_imported_edits_escape_the_window_closed_threads_and_holds() -> None:
    """An edit the source made years after the post, in a thread closed since, with text that
    trips a hold, is applied; the earlier text is kept."""
    log = closed_premoderated_thread_with_a_banned_author()
    log.add(post("c1"), OLD)
    later = OLD + timedelta(days=400)
    edit = CommentEdited(article_id="a1", comment_id="c1", editor_id="u1", body="more pills")
    assert log.add(edit, later) == ("applied", None)
    row = log.row("c1")
    assert (row["body"], row["status"], row["edited_at"]) == ("more pills", "visible", later)


def test_a_live_edit_of_imported_history_goes_by_its_old_time() -> None:
    """The window runs from when the source accepted the post: a live edit today is too late."""
    log = Log(Policy())
    log.add(ArticlePublished(article_id="a1", title="T"), OLD)
    log.add(post("c1", body="fine"), OLD)
    edit = CommentEdited(article_id="a1", comment_id="c1", editor_id="u1", body="new")
    assert log.add(edit, NOW, imported=False) == ("rejected", "edit_window_expired")


def test_imported_flags_hold_nothing() -> None:
    """Flags the source recorded are kept and counted, and do not hold at the threshold."""
    log = Log(Policy(flag_threshold=2))
    log.add(ArticlePublished(article_id="a1", title="T"), OLD)
    log.add(post("c1", body="fine"), OLD)
    for flagger in ("f1", "f2"):
        flag = CommentFlagged(article_id="a1", comment_id="c1", flagger_id=flagger, reason="spam")
        assert log.add(flag, OLD) == ("applied", None)
    row = log.row("c1")
    assert (row["status"], row["flag_count"]) == ("visible", 2)


def test_structural_rules_still_apply_to_imported_history() -> None:
    """A reply waits for its parent, an event for an unknown comment is refused, an id is a
    comment once, and a reply to a deleted parent is refused, imported or not."""
    log = Log(Policy())
    log.add(ArticlePublished(article_id="a1", title="T"), OLD)
    assert log.add(post("r1", body="fine", parent_id="p1"), OLD) == ("applied", None)
    edit = CommentEdited(article_id="a1", comment_id="nope", editor_id="u1", body="x")
    assert log.add(edit, OLD) == ("rejected", "unknown_comment")
    assert log.add(post("r1", body="again"), OLD) == ("rejected", "duplicate_comment_id")
    assert log.add(post("p1", body="parent"), OLD) == ("applied", None)
    assert log.row("r1")["status"] == "visible"


def test_unmarked_held_and_score_change_nothing() -> None:
    """Ingest and the codec refuse them unmarked; an event built in code with them anyway is
    folded as if they were absent, so the fold never holds or scores by them."""
    log = Log(Policy())
    log.add(ArticlePublished(article_id="a1", title="T"), OLD, imported=False)
    log.add(post("c1", body="fine", held=True, score=9), OLD, imported=False)
    row = log.row("c1")
    assert (row["status"], row["score"], row["imported_from"]) == ("visible", 0, None)
