"""The rules of a comment's life, folded in memory by the pure core (`projections.threads`)."""

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from events import (
    ArticleClosed,
    ArticlePublished,
    ArticleReopened,
    ArticleUpdated,
    AuthorBanned,
    AuthorUnbanned,
    CommentDeleted,
    CommentEdited,
    CommentFlagged,
    CommentModerated,
    CommentPosted,
    CommentVoted,
    Envelope,
    Event,
)
from projections.policy import Policy
from projections.threads.fold import ReadModels
from tests.strategies import event_logs

T0 = datetime(2024, 5, 1, tzinfo=UTC)


class Thread:
    """A tiny script of events on article a1, one minute apart unless told otherwise."""

    def __init__(self, policy: Policy | None = None) -> None:
        self.model = ReadModels(policy)
        self.n = 0
        self.model.fold([self.at(0, ArticlePublished(article_id="a1", title="T"))])

    def at(self, minute: float, data: Event) -> Envelope:
        self.n += 1
        return Envelope(
            id=f"e{self.n}",
            type=type(data).__name__,
            source="/t",
            time=T0 + timedelta(minutes=minute),
            data=data,
        )

    def do(self, data: Event, minute: float | None = None) -> tuple[str, str | None]:
        """Fold one event; return its outcome and reason."""
        event = self.at(self.n if minute is None else minute, data)
        self.model.fold([event])
        outcome = self.model.outcomes[event.id]
        return outcome[2], outcome[3]  # type: ignore[return-value]

    def post(
        self,
        comment_id: str,
        author: str = "u1",
        parent: str | None = None,
        body: str = "hello",
        minute: float | None = None,
    ) -> tuple[str, str | None]:
        return self.do(
            CommentPosted(
                article_id="a1",
                comment_id=comment_id,
                author_id=author,
                body=body,
                parent_id=parent,
            ),
            minute,
        )

    def comment(self, comment_id: str) -> Any:
        return self.model.state.comments[("a1", comment_id)]

    def row(self, comment_id: str) -> dict[str, object]:
        names = [
            "article_id",
            "comment_id",
            "parent_id",
            "author_id",
            "author_name",
            "body",
            "posted_at",
            "event_id",
            "accepted_at",
            "own_status",
            "own_holds",
            "post_rejection",
            "banned",
            "status",
            "hold_reasons",
            "featured",
            "approved",
            "edited_at",
            "edit_count",
            "deleted_at",
            "reply_count",
            "flag_count",
            "score",
            "pinned",
            "imported_from",
            "imported_score",
            "erased",
        ]
        [row] = [r for r in self.model.snapshot()["comments"] if r[1] == comment_id]
        return dict(zip(names, row, strict=True))


def test_closed_thread_rejects_comments_and_edits_until_reopened() -> None:
    """A comment or an edit on a closed thread is rejected (article_closed) until it reopens."""
    t = Thread()
    assert t.post("c1") == ("applied", None)
    t.do(ArticleClosed(article_id="a1", by="mod"))
    assert t.post("c2") == ("rejected", "article_closed")
    assert t.do(CommentEdited(article_id="a1", comment_id="c1", editor_id="u1", body="x")) == (
        "rejected",
        "article_closed",
    )
    t.do(ArticleReopened(article_id="a1", by="mod"))
    assert t.post("c3") == ("applied", None)
    assert t.row("c2")["status"] == "rejected"


def test_edits_by_the_author_within_the_window_keep_history() -> None:
    """Only the author edits, only within the window; each edit keeps the previous text."""
    t = Thread(Policy(edit_window=timedelta(minutes=15)))
    t.post("c1", body="first", minute=1)
    assert t.do(
        CommentEdited(article_id="a1", comment_id="c1", editor_id="u2", body="x"), minute=2
    ) == ("rejected", "not_author")
    assert t.do(
        CommentEdited(article_id="a1", comment_id="c1", editor_id="u1", body="second"), minute=10
    ) == ("applied", None)
    assert t.do(
        CommentEdited(article_id="a1", comment_id="c1", editor_id="u1", body="late"), minute=17
    ) == ("rejected", "edit_window_expired")
    assert t.do(
        CommentEdited(article_id="a1", comment_id="nope", editor_id="u1", body="x"), minute=3
    ) == ("rejected", "unknown_comment")
    assert (t.row("c1")["body"], t.row("c1")["edit_count"]) == ("second", 1)
    assert [(e[2], e[3]) for e in t.model.snapshot()["comment_edits"]] == [(1, "first")]


def test_delete_leaves_a_tombstone_its_replies_keep_their_place() -> None:
    """A deleted comment keeps its place with no text and no name; replies to it are refused."""
    t = Thread()
    t.post("c1")
    t.post("c2", parent="c1")
    assert t.do(CommentDeleted(article_id="a1", comment_id="c1", deleted_by="u2")) == (
        "rejected",
        "not_author",
    )
    assert t.do(CommentDeleted(article_id="a1", comment_id="c1", deleted_by="u1")) == (
        "applied",
        None,
    )
    row = t.row("c1")
    assert (row["status"], row["body"], row["author_name"], row["reply_count"]) == (
        "deleted",
        "",
        None,
        1,
    )
    assert t.post("c3", parent="c1") == ("rejected", "parent_deleted")
    assert t.do(CommentDeleted(article_id="a1", comment_id="c1", deleted_by="u1")) == (
        "rejected",
        "already_deleted",
    )
    assert t.do(
        CommentDeleted(article_id="a1", comment_id="c2", deleted_by="mod", moderator=True)
    ) == ("applied", None)


def test_one_vote_per_voter_changeable_and_withdrawable() -> None:
    """Votes replace the voter's previous vote; "none" withdraws it; the score follows."""
    t = Thread()
    t.post("c1")
    t.do(CommentVoted(article_id="a1", comment_id="c1", voter_id="v1", vote="up"))
    t.do(CommentVoted(article_id="a1", comment_id="c1", voter_id="v1", vote="up"))
    t.do(CommentVoted(article_id="a1", comment_id="c1", voter_id="v2", vote="down"))
    t.do(CommentVoted(article_id="a1", comment_id="c1", voter_id="v3", vote="up"))
    assert t.row("c1")["score"] == 1
    t.do(CommentVoted(article_id="a1", comment_id="c1", voter_id="v2", vote="none"))
    t.do(CommentVoted(article_id="a1", comment_id="c1", voter_id="v1", vote="down"))
    assert t.row("c1")["score"] == 0
    assert t.do(CommentVoted(article_id="a1", comment_id="c9", voter_id="v1", vote="up")) == (
        "rejected",
        "unknown_comment",
    )


def test_flags_hold_a_comment_at_the_threshold_until_a_moderator_decides() -> None:
    """N distinct flaggers hold a comment (pending, reason flagged); an approval stands against
    later flags; a second flag by the same reader is refused."""
    t = Thread(Policy(flag_threshold=2))
    t.post("c1")
    t.do(CommentFlagged(article_id="a1", comment_id="c1", flagger_id="f1", reason="spam"))
    assert t.do(
        CommentFlagged(article_id="a1", comment_id="c1", flagger_id="f1", reason="spam")
    ) == ("rejected", "already_flagged")
    assert t.comment("c1").status == "visible"
    t.do(CommentFlagged(article_id="a1", comment_id="c1", flagger_id="f2", reason="hate"))
    assert (t.comment("c1").status, t.comment("c1").hold_reasons) == ("pending", ["flagged"])
    t.do(CommentModerated(article_id="a1", comment_id="c1", moderator_id="m", action="approve"))
    t.do(CommentFlagged(article_id="a1", comment_id="c1", flagger_id="f3", reason="spam"))
    assert (t.comment("c1").status, t.row("c1")["flag_count"]) == ("visible", 3)


def test_premoderation_and_automatic_holds_record_why() -> None:
    """Pre-moderated threads, banned patterns and too many links hold a comment, with reasons."""
    t = Thread(Policy(banned_patterns=(r"\bpills\b",), max_links=1))
    t.post("c1", body="cheap PILLS at http://a.example and http://b.example")
    assert t.comment("c1").hold_reasons == [r"banned_pattern:\bpills\b", "links:2>1"]
    t.do(ArticleUpdated(article_id="a1", premoderated=True))
    t.post("c2", body="fine")
    assert (t.comment("c2").status, t.comment("c2").hold_reasons) == ("pending", ["premoderation"])
    t.do(CommentModerated(article_id="a1", comment_id="c2", moderator_id="m", action="approve"))
    t.do(CommentModerated(article_id="a1", comment_id="c1", moderator_id="m", action="reject"))
    assert (t.comment("c2").status, t.comment("c1").status) == ("visible", "rejected")
    everywhere = Thread(Policy(premoderate_all=True))
    everywhere.post("c1")
    assert everywhere.comment("c1").status == "pending"


def test_feature_only_visible_comments() -> None:
    """Featuring needs a visible comment; unfeature clears it."""
    t = Thread(Policy(premoderate_all=True))
    t.post("c1")
    assert t.do(
        CommentModerated(article_id="a1", comment_id="c1", moderator_id="m", action="feature")
    ) == ("rejected", "comment_not_visible")
    t.do(CommentModerated(article_id="a1", comment_id="c1", moderator_id="m", action="approve"))
    t.do(CommentModerated(article_id="a1", comment_id="c1", moderator_id="m", action="feature"))
    assert t.comment("c1").featured


def test_bans_reject_comments_in_their_time_whichever_comes_first() -> None:
    """A comment posted while its author is banned is rejected, whether the ban was applied
    before the comment or after it (bans and comments live on different partitions)."""
    ban_first, comment_first = Thread(), Thread()
    ban = AuthorBanned(author_id="u1", moderator_id="mod", until=T0 + timedelta(minutes=30))
    ban_first.do(ban, minute=5)
    assert ban_first.post("c1", minute=10) == ("rejected", "author_banned")
    comment_first.post("c1", minute=10)
    comment_first.do(ban, minute=5)
    for t, post_id in ((ban_first, "e3"), (comment_first, "e2")):
        assert t.row("c1")["status"] == "rejected"
        assert t.model.outcomes[post_id][2:4] == ("rejected", "author_banned")
    assert ban_first.post("c2", minute=31) == ("applied", None)
    ban_first.do(AuthorBanned(author_id="u1", moderator_id="mod"), minute=40)
    ban_first.do(AuthorUnbanned(author_id="u1", moderator_id="mod"), minute=50)
    assert ban_first.post("c3", minute=45) == ("rejected", "author_banned")
    assert ban_first.post("c4", minute=55) == ("applied", None)


def test_unknown_articles_and_early_replies() -> None:
    """Updating or closing an unknown article is rejected; a comment before its article and a
    reply before its parent are kept and count once their targets arrive."""
    t = Thread()
    assert t.do(ArticleClosed(article_id="zz", by="m")) == ("rejected", "unknown_article")
    assert t.do(
        CommentPosted(article_id="a2", comment_id="c2", author_id="u", body="x", parent_id="c1")
    ) == ("applied", None)
    t.do(ArticlePublished(article_id="a2", title="Later"))
    t.do(CommentPosted(article_id="a2", comment_id="c1", author_id="u", body="y"))
    snap = t.model.snapshot()
    assert [r[-1] for r in snap["articles"] if r[0] == "a2"] == [2]
    assert [r[20] for r in snap["comments"] if r[:2] == ("a2", "c1")] == [1]


def test_duplicate_comment_ids_and_retries() -> None:
    """A second post of a comment id is rejected; a retried event id is applied once."""
    t = Thread()
    first = t.at(1, CommentPosted(article_id="a1", comment_id="c1", author_id="u", body="x"))
    t.model.fold([first, first])
    assert t.post("c1") == ("rejected", "duplicate_comment_id")
    assert len(t.model.snapshot()["comments"]) == 1


@given(event_logs(), st.data())
def test_any_batch_split_folds_to_the_same_read_models(
    log: list[Envelope], data: st.DataObject
) -> None:
    """Folding a log in batches of any sizes gives the read models of folding it at once, which
    is what lets the worker take whatever a poll returns."""
    whole = ReadModels()
    whole.fold(log)
    split, rest = ReadModels(), list(log)
    while rest:
        size = data.draw(st.integers(1, len(rest)))
        split.fold(rest[:size])
        rest = rest[size:]
    assert split.snapshot() == whole.snapshot()


@given(event_logs(with_bans=False))
def test_articles_are_independent(log: list[Envelope]) -> None:
    """Folding each article's events apart gives the rows of folding the interleaved log, so the
    order Kafka interleaves partitions in cannot change the read models."""
    together = ReadModels()
    together.fold(log)
    apart = ReadModels()
    for key in sorted({e.key for e in log}):
        apart.fold([e for e in log if e.key == key])
    assert apart.snapshot() == together.snapshot()


@settings(deadline=None)  # two folds of 50 events: a loaded machine takes longer than 200 ms
@given(event_logs(max_size=50), st.data())
def test_any_interleaving_of_keys_folds_to_the_same_read_models(
    log: list[Envelope], data: st.DataObject
) -> None:
    """Bans and unbans included: any merge of the keys' event sequences (each key, so each
    partition, kept in its order) gives the read models of the log as written. This is what
    lets a rebuild, or workers on other partitions, give back the live tables."""
    queues = {key: [e for e in log if e.key == key] for key in dict.fromkeys(e.key for e in log)}
    merged: list[Envelope] = []
    while queues:
        key = data.draw(st.sampled_from(sorted(queues)))
        merged.append(queues[key].pop(0))
        if not queues[key]:
            del queues[key]
    as_written, interleaved = ReadModels(), ReadModels()
    as_written.fold(log)
    interleaved.fold(merged)
    assert interleaved.snapshot() == as_written.snapshot()


def _orders(*events: Envelope) -> list[ReadModels]:
    """The same events folded in every order that keeps each key's events in theirs."""
    models = []
    for order in itertools.permutations(events):
        ranks = {e.id: i for i, e in enumerate(events)}
        keys_in_order = all(
            ranks[a.id] < ranks[b.id]
            for i, a in enumerate(order)
            for b in order[i + 1 :]
            if a.key == b.key and ranks[a.id] > ranks[b.id]
        )
        # A permutation that swaps two events of one key is not an interleaving: skip it.
        if not keys_in_order:
            continue
        model = ReadModels()
        model.fold(order)
        models.append(model)
    return models


def test_unban_gives_back_what_its_ban_hid_whichever_comes_first() -> None:
    """A ban covers the time from it to its unban, in every interleaving: a comment accepted in
    that time is hidden, one accepted after the unban is shown, whether the worker applied the
    unban before it or after. A reply under a comment the ban hides is not refused for it (the
    ban hides, it does not decide for the thread); it waits, unreachable, like its parent."""
    t = Thread()
    published = t.at(0, ArticlePublished(article_id="a1", title="T"))
    ban = t.at(5, AuthorBanned(author_id="u1", moderator_id="mod"))
    parent = t.at(6, CommentPosted(article_id="a1", comment_id="c1", author_id="u1", body="x"))
    reply = t.at(
        7,
        CommentPosted(article_id="a1", comment_id="c2", author_id="u2", body="y", parent_id="c1"),
    )
    unban = t.at(8, AuthorUnbanned(author_id="u1", moderator_id="mod"))
    late = t.at(10, CommentPosted(article_id="a1", comment_id="c3", author_id="u1", body="z"))
    models = _orders(published, ban, parent, reply, unban, late)
    assert len(models) == 15  # 4 events of the thread, 2 of the author: C(6, 2)
    snapshots = [m.snapshot() for m in models]
    assert all(snap == snapshots[0] for snap in snapshots)
    final = models[0]
    statuses = {c: final.state.comments[("a1", c)].status for c in ("c1", "c2", "c3")}
    assert statuses == {"c1": "rejected", "c2": "visible", "c3": "visible"}
    assert final.state.comments[("a1", "c1")].hold_reasons == ["author_banned"]
    assert final.outcomes[parent.id][2:4] == ("rejected", "author_banned")
    assert final.outcomes[reply.id][2:4] == ("applied", None)
    assert final.outcomes[late.id][2:4] == ("applied", None)
    # A ban applied after the comment it covers, then lifted before the comment's time: shown.
    early_unban = t.at(5.5, AuthorUnbanned(author_id="u1", moderator_id="mod"))
    for model in _orders(published, ban, early_unban, parent):
        assert model.state.comments[("a1", "c1")].status == "visible"
        assert model.outcomes[parent.id][2:4] == ("applied", None)


def test_a_ban_and_a_moderators_approval_commute() -> None:
    """A moderator's approval does not lift a ban, nor does a ban undo the approval: in every
    order the approved comment is hidden while a ban covers it, and its approval stands."""
    t = Thread()
    published = t.at(0, ArticlePublished(article_id="a1", title="T", premoderated=True))
    post = t.at(6, CommentPosted(article_id="a1", comment_id="c1", author_id="u1", body="x"))
    approve = t.at(
        7, CommentModerated(article_id="a1", comment_id="c1", moderator_id="m", action="approve")
    )
    ban = t.at(5, AuthorBanned(author_id="u1", moderator_id="mod"))
    models = _orders(published, post, approve, ban)
    assert len(models) == 4
    for model in models:
        comment = model.state.comments[("a1", "c1")]
        assert (comment.status, comment.own_status, comment.approved) == (
            "rejected",
            "visible",
            True,
        )


def _accepted(minute: float, data: Event, event_id: str, claimed: float) -> Envelope:
    """An event the log accepted at `minute` whose producer claims the time `claimed`."""
    return Envelope(
        id=event_id,
        type=type(data).__name__,
        source="/t",
        time=T0 + timedelta(minutes=claimed),
        data=data,
        recordedtime=T0 + timedelta(minutes=minute),
    )


def test_the_logs_clock_decides_bans_and_the_edit_window_not_the_producers() -> None:
    """A post backdated to before its author's ban is still hidden by it, and an edit that
    claims its post's time is still outside the window; the producer's time stays the one shown."""
    model = ReadModels()
    model.fold(
        [
            _accepted(0, ArticlePublished(article_id="a1", title="T"), "p", 0),
            _accepted(
                0,
                CommentPosted(article_id="a1", comment_id="ok", author_id="u2", body="x"),
                "ok",
                0,
            ),
            _accepted(5, AuthorBanned(author_id="u1", moderator_id="m"), "ban", 5),
            _accepted(
                10,
                CommentPosted(article_id="a1", comment_id="c1", author_id="u1", body="x"),
                "c1",
                1,
            ),
            _accepted(
                30,
                CommentEdited(article_id="a1", comment_id="ok", editor_id="u2", body="y"),
                "edit",
                0,
            ),
        ]
    )
    assert model.outcomes["c1"][2:4] == ("rejected", "author_banned")
    assert model.state.comments[("a1", "c1")].posted_at == T0 + timedelta(minutes=1)
    assert model.outcomes["edit"][2:4] == ("rejected", "edit_window_expired")
