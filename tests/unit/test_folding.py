"""The pure core of the projections: planning a batch, and folding in any batch split."""

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from events import ArticlePublished, CommentFlagged, CommentPosted, Envelope, Event
from projections.memory import ReadModels
from projections.threads import plan_threads
from projections.timelines import plan_timelines
from tests.strategies import event_logs

T0 = datetime(2024, 5, 1, tzinfo=UTC)


def envelope(n: int, data: Event) -> Envelope:
    return Envelope(
        id=f"e{n}", type=type(data).__name__, source="/t", time=T0 + timedelta(minutes=n), data=data
    )


def post(n: int, comment_id: str, parent_id: str | None = None, article_id: str = "a1") -> Envelope:
    return envelope(
        n,
        CommentPosted(
            article_id=article_id,
            comment_id=comment_id,
            author_id="u1",
            body=f"body {n}",
            parent_id=parent_id,
        ),
    )


def publish(n: int, title: str, article_id: str = "a1") -> Envelope:
    return envelope(n, ArticlePublished(article_id=article_id, title=title))


def flag(n: int, comment_id: str, flagger_id: str) -> Envelope:
    return envelope(
        n,
        CommentFlagged(
            article_id="a1", comment_id=comment_id, flagger_id=flagger_id, reason="spam"
        ),
    )


def fold(*events: Envelope) -> ReadModels:
    model = ReadModels()
    model.fold(events)
    return model


def test_counts_follow_replies_flags_and_comments() -> None:
    """reply_count counts direct replies, flag_count distinct flaggers, comment_count comments."""
    snap = fold(
        publish(0, "T"),
        post(1, "c1"),
        post(2, "c2", parent_id="c1"),
        post(3, "c3", parent_id="c2"),
        flag(4, "c1", "x"),
        flag(5, "c1", "x"),
        flag(6, "c1", "y"),
    ).snapshot()
    counts = {row[1]: (row[8], row[9]) for row in snap["comments"]}
    assert counts == {"c1": (1, 2), "c2": (1, 0), "c3": (0, 0)}
    assert snap["articles"][0][5] == 3


def test_early_arrivals_are_kept_and_counted_once_their_targets_arrive() -> None:
    """A reply before its parent, a comment before its article and a flag before its comment are
    all kept; the counts include them as soon as the parent, article or comment is stored."""
    model = fold(post(1, "c2", parent_id="c1"), flag(2, "c1", "x"))
    assert model.snapshot()["articles"] == []
    model.fold([publish(3, "T"), post(4, "c1")])
    snap = model.snapshot()
    assert {row[1]: (row[8], row[9]) for row in snap["comments"]} == {"c1": (1, 1), "c2": (0, 0)}
    assert snap["articles"][0][5] == 2


def test_first_post_of_a_comment_id_wins_and_retries_apply_once() -> None:
    """A second post with the same comment id is ignored; a retried event id is applied once."""
    first = post(1, "c1")
    snap = fold(first, post(2, "c1"), first).snapshot()
    assert [row[7] for row in snap["comments"]] == ["e1"]
    assert len(snap["timeline_items"]) == 1


def test_republishing_updates_title_and_keeps_publication_time() -> None:
    """Publishing an article again changes its title everywhere and keeps its first time."""
    snap = fold(publish(1, "Old"), publish(2, "New")).snapshot()
    assert snap["articles"][0][1:2] == ("New",)
    assert snap["articles"][0][4] == T0 + timedelta(minutes=1)
    assert snap["timeline_articles"] == [("a1", "New")]


def test_plan_collapses_a_batch_to_one_row_per_key() -> None:
    """Within one batch the planner keeps the first comment, the last title, one flag per reader."""
    changes = plan_threads(
        [
            publish(1, "A"),
            publish(2, "B"),
            post(3, "c1"),
            post(4, "c1"),
            flag(5, "c1", "x"),
            flag(6, "c1", "x"),
        ]
    )
    assert [a.title for a in changes.articles] == ["B"]
    assert [c.event_id for c in changes.comments] == ["e3"]
    assert len(changes.flags) == 1
    assert changes.recount_comments == [("a1", "c1")]
    assert plan_timelines([post(1, "c1"), post(2, "c1")]).items[0].body == "body 1"


@given(event_logs(), st.data())
def test_any_batch_split_folds_to_the_same_read_models(
    log: list[Envelope], data: st.DataObject
) -> None:
    """Applying a log in batches of any sizes gives the read models of applying it at once, which
    is what lets the worker take whatever a poll returns."""
    whole = fold(*log).snapshot()
    split = ReadModels()
    rest = list(log)
    while rest:
        size = data.draw(st.integers(1, len(rest)))
        split.fold(rest[:size])
        rest = rest[size:]
    assert split.snapshot() == whole


@given(event_logs())
def test_articles_are_independent(log: list[Envelope]) -> None:
    """Folding each article's events apart gives the same rows as folding the interleaved log, so
    the order Kafka interleaves partitions in cannot change the read models."""
    together = fold(*log).snapshot()
    apart = ReadModels()
    for article in sorted({e.article_id for e in log}):
        apart.fold([e for e in log if e.article_id == article])
    assert apart.snapshot() == together
