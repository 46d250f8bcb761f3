"""The import plan: from a reader's items to each article's events, every rule of issue 16."""

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from events import Limits
from events.fields import ID_PATTERN
from importers.bodies import TRUNCATION_MARK
from importers.ids import IdMaker
from importers.plan import PLACEHOLDER, ArticlePlan, PlannedEvent, Planner, plan_items
from importers.source import (
    SourceArticle,
    SourceComment,
    SourceItem,
    SourceProblem,
    SourceVote,
)

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
T0 = datetime(2015, 3, 1, 10, 0, tzinfo=UTC)
SECRET = b"s" * 32


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def comment(cid: str, minutes: int = 0, **fields: Any) -> SourceComment:
    base: dict[str, Any] = {
        "article_key": "t1",
        "id": cid,
        "body": f"text of {cid}",
        "posted_at": at(minutes),
        "author_key": "alice",
        "author_name": "Alice",
    }
    return SourceComment(**{**base, **fields})


def planner(**kwargs: Any) -> Planner:
    limits = kwargs.pop("limits", Limits())
    site = kwargs.pop("site", None)
    return Planner(IdMaker("disqus", SECRET, site), limits, NOW, **kwargs)


def plans(items: Iterable[SourceItem], **kwargs: Any) -> list[ArticlePlan]:
    return list(plan_items(items, planner(**kwargs)))


def one(items: Iterable[SourceItem], **kwargs: Any) -> ArticlePlan:
    [plan] = plans([SourceArticle(key="t1", title="First"), *items], **kwargs)
    return plan


def kinds(plan: ArticlePlan) -> list[tuple[str, str]]:
    """(type, comment id) of each event, in order."""
    return [(e.type, e.data.get("comment_id", "")) for e in plan.events]


def posted(plan: ArticlePlan) -> dict[str, PlannedEvent]:
    return {e.data["comment_id"]: e for e in plan.events if e.type == "CommentPosted"}


def codes(plan: ArticlePlan) -> list[str]:
    return [p.code for p in plan.problems]


def test_article_published_first_then_comments_in_time_order() -> None:
    """ArticlePublished leads; comments follow by their time, each with its source's time."""
    plan = one([comment("2", 5), comment("1", 1)])
    assert kinds(plan) == [("ArticlePublished", ""), ("CommentPosted", "1"), ("CommentPosted", "2")]
    assert plan.events[0].data == {"article_id": "disqus-t1", "title": "First"}
    assert [e.time for e in plan.events[1:]] == [at(1), at(5)]
    assert plan.comments == 2
    assert plan.skipped == {}


def test_replies_come_after_their_parents_whatever_the_file_order() -> None:
    """A reply older than its parent (clock skew) and written before it still follows it."""
    plan = one([comment("r", 1, parent_id="p"), comment("p", 9)])
    assert kinds(plan)[1:] == [("CommentPosted", "p"), ("CommentPosted", "r")]
    assert posted(plan)["r"].data["parent_id"] == "p"


def test_orphans_become_top_level_and_are_reported() -> None:
    """A reply whose parent is not in the file is imported top-level, and said so."""
    plan = one([comment("r", 1, parent_id="gone")])
    assert "parent_id" not in posted(plan)["r"].data
    assert codes(plan) == ["orphan"]


def test_a_loop_of_parents_is_cut_at_its_first_comment() -> None:
    """Comments that reply to each other in a loop are imported, the first as top-level."""
    plan = one([comment("a", 1, parent_id="b"), comment("b", 2, parent_id="a")])
    assert "parent_id" not in posted(plan)["a"].data
    assert posted(plan)["b"].data["parent_id"] == "a"
    assert codes(plan) == ["orphan"]


def test_duplicate_ids_keep_the_first_and_are_reported() -> None:
    """A second comment with an id already seen is skipped and reported."""
    plan = one([comment("1", 1, body="first"), comment("1", 2, body="second")])
    assert posted(plan)["1"].data["body"] == "first"
    assert plan.skipped == {"duplicate_id": 1}
    assert codes(plan) == ["duplicate_id"]


def test_deleted_with_live_replies_is_a_tombstone_deleted_after_them() -> None:
    """A deleted comment with replies: placeholder, the replies under it, then its deletion."""
    plan = one(
        [
            comment("p", 1, status="deleted", body=""),
            comment("r", 2, parent_id="p"),
            comment("x", 3),
        ]
    )
    assert kinds(plan)[1:] == [
        ("CommentPosted", "p"),
        ("CommentPosted", "r"),
        ("CommentPosted", "x"),
        ("CommentDeleted", "p"),
    ]
    tombstone = posted(plan)["p"].data
    assert tombstone["body"] == PLACEHOLDER
    assert tombstone["author_id"] == "disqus-deleted"
    assert "author_name" not in tombstone
    assert plan.events[-1].data == {
        "article_id": "disqus-t1",
        "comment_id": "p",
        "deleted_by": "import",
        "moderator": True,
    }
    assert (plan.comments, plan.tombstones) == (2, 1)


def test_deleted_chain_keeps_every_tombstone_above_a_live_reply() -> None:
    """Deleted parent, deleted reply, live grand-reply: both deleted ones stay as tombstones."""
    plan = one(
        [
            comment("a", 1, status="deleted"),
            comment("b", 2, status="deleted", parent_id="a"),
            comment("c", 3, parent_id="b"),
        ]
    )
    assert [k for k in kinds(plan) if k[0] == "CommentDeleted"] == [
        ("CommentDeleted", "a"),
        ("CommentDeleted", "b"),
    ]
    assert plan.tombstones == 2


def test_deleted_without_replies_is_not_imported() -> None:
    """A deleted comment nobody answered (or whose replies are all deleted) is skipped."""
    plan = one(
        [
            comment("a", 1, status="deleted"),
            comment("b", 2, status="deleted", parent_id="a"),
            comment("c", 3),
        ]
    )
    assert kinds(plan)[1:] == [("CommentPosted", "c")]
    assert plan.skipped == {"deleted": 2}


def test_pending_arrives_held() -> None:
    """An unapproved comment is posted held, for a moderator to decide."""
    plan = one([comment("1", 1, status="pending")])
    assert posted(plan)["1"].data["held"] is True


def test_spam_is_not_imported_unless_replies_hang_from_it() -> None:
    """Spam text is never imported; spam with live replies is a tombstone for them."""
    plan = one(
        [
            comment("s", 1, status="spam", body="buy pills"),
            comment("t", 2, status="spam", body="buy more"),
            comment("r", 3, parent_id="t"),
        ]
    )
    assert plan.skipped == {"spam": 1}
    assert posted(plan)["t"].data["body"] == PLACEHOLDER
    assert all("pills" not in str(e.data) and "more" not in str(e.data) for e in plan.events)


def test_votes_per_voter_score_and_pin() -> None:
    """Per-voter votes become CommentVoted (the last vote of a voter wins); a count becomes
    the score; a pin becomes CommentPinned by the import."""
    votes = (SourceVote("bob", True), SourceVote("carol", False), SourceVote("bob", False))
    plan = one([comment("1", 1, votes=votes, score=7, pinned=True)])
    ids = IdMaker("disqus", SECRET)
    voted = [e.data for e in plan.events if e.type == "CommentVoted"]
    assert sorted((v["voter_id"], v["vote"]) for v in voted) == sorted(
        [(ids.author_id("bob"), "down"), (ids.author_id("carol"), "down")]
    )
    assert posted(plan)["1"].data["score"] == 7
    assert kinds(plan)[-1] == ("CommentPinned", "1")
    assert plan.events[-1].data["moderator_id"] == "import"


def test_held_comments_get_no_votes_or_pins() -> None:
    """Votes and pins are for comments readers see: a held comment carries neither."""
    plan = one([comment("1", 1, status="pending", votes=(SourceVote("b", True),), pinned=True)])
    assert kinds(plan)[1:] == [("CommentPosted", "1")]


def test_closed_thread_closes_after_its_comments() -> None:
    """ArticleClosed (by import) comes last, at the time of the last comment."""
    [plan] = plans(
        [
            SourceArticle(key="t1", title="T", closed=True),
            comment("1", 1),
            comment("2", 4, status="deleted"),
            comment("3", 5, parent_id="2"),
        ]
    )
    assert kinds(plan)[-2:] == [("CommentDeleted", "2"), ("ArticleClosed", "")]
    assert plan.events[-1].data == {"article_id": "disqus-t1", "by": "import"}
    assert plan.events[-1].time == at(5)


def test_deleted_thread_is_skipped_whole() -> None:
    """A thread the source deleted imports nothing; its comments are counted as skipped."""
    [plan] = plans([SourceArticle(key="t1", deleted=True), comment("1"), comment("2")])
    assert plan.events == []
    assert plan.skipped == {"article_deleted": 2}


def test_title_falls_back_to_url_then_key() -> None:
    """ArticlePublished's title: the title, else the url, else the key; published_at is kept."""
    [with_url, bare] = plans(
        [
            SourceArticle(key="t1", url="https://ex.com/a", published_at=at(-60)),
            comment("1"),
            SourceArticle(key="t2", title="  "),
            comment("2", article_key="t2"),
        ]
    )
    assert with_url.events[0].data["title"] == "https://ex.com/a"
    assert with_url.events[0].data["url"] == "https://ex.com/a"
    assert with_url.events[0].time == at(-60)
    assert bare.events[0].data["title"] == "t2"


def test_an_article_named_only_by_comments_is_imported_and_reported() -> None:
    """Comments of an article the file never described still arrive, under its key."""
    [plan] = plans([comment("1")])
    assert plan.events[0].data["title"] == "t1"
    assert codes(plan) == ["unknown_article"]


def test_an_article_without_comments_to_import_writes_nothing() -> None:
    """A thread with no comments (or only skipped ones) is left to the site to publish."""
    [empty, deleted_only] = plans(
        [
            SourceArticle(key="t1"),
            SourceArticle(key="t2"),
            comment("1", article_key="t2", status="deleted"),
        ]
    )
    assert empty.events == []
    assert deleted_only.events == []


def test_bodies_repaired_or_skipped_and_reported() -> None:
    """Blank bodies skipped, invalid characters removed, long bodies cut with the mark."""
    limits = Limits(max_comment_chars=50)
    plan = one(
        [
            comment("blank", 1, body=" \u200b\n"),
            comment("nul", 2, body="a\x00b\x1fc"),
            comment("long", 3, body="x" * 80),
        ],
        limits=limits,
    )
    assert plan.skipped == {"empty_body": 1}
    assert posted(plan)["nul"].data["body"] == "abc"
    long = posted(plan)["long"].data["body"]
    assert len(long) == 50
    assert long.endswith(TRUNCATION_MARK)
    assert sorted(codes(plan)) == ["empty_body", "invalid_characters", "truncated"]


def test_unusable_times_skip_the_comment() -> None:
    """No date, or one outside what ingest accepts (before the earliest time, in the future):
    the comment is skipped and counted; its replies keep a tombstone at their time."""
    plan = one(
        [
            comment("none", 1, posted_at=None),
            comment("old", 1, posted_at=datetime(1960, 1, 1, tzinfo=UTC)),
            comment("future", 1, posted_at=NOW + timedelta(days=1)),
            comment("r", 7, parent_id="none"),
        ]
    )
    assert plan.skipped == {"time_out_of_range": 2}
    assert posted(plan)["none"].data["body"] == PLACEHOLDER
    assert posted(plan)["none"].time == at(7)


def test_names_and_reader_problems_carried() -> None:
    """A blank name is left out; a reader's problem about the article is reported with it."""
    problem = SourceProblem(where="line 9", code="bad_date", detail="?", article_key="t1")
    plan = one([comment("1", author_name=" ", author_key=None), problem])
    assert "author_name" not in posted(plan)["1"].data
    assert posted(plan)["1"].data["author_id"] == "disqus-anonymous"
    assert codes(plan) == ["bad_date"]


def test_ids_are_safe_deterministic_and_hold_no_email() -> None:
    """Article, comment, author and event ids match the id pattern; unsafe keys are hashed;
    author ids are an HMAC of the key, so the e-mail or name never shows."""
    key = "https://example.com/blog/post?id=1"
    [plan] = plans(
        [
            SourceArticle(key=key, title="T"),
            comment("c 1/x", article_key=key, author_key="alice@example.com"),
        ]
    )
    pattern = re.compile(ID_PATTERN)
    assert re.fullmatch(r"disqus-_[0-9a-f]{40}", plan.article_id)
    for event in plan.events:
        for value in [event.id, *(v for k, v in event.data.items() if k.endswith("_id"))]:
            assert pattern.match(value), value
            assert len(value) <= 128, value
        assert "alice" not in event.id
        assert "alice" not in str(event.data.get("author_id"))
    author = posted(plan)
    [(cid, event)] = author.items()
    assert re.fullmatch(r"_[0-9a-f]{40}", cid)
    assert re.fullmatch(r"disqus-[0-9a-f]{32}", event.data["author_id"])
    assert event.id == f"imp:disqus:{plan.article_id}:{cid}:posted"
    again = list(plan_items([SourceArticle(key=key), comment("c 1/x", article_key=key)], planner()))
    assert again[0].events[1].id == event.id


def test_another_secret_or_site_gives_other_author_ids() -> None:
    """The HMAC is keyed by the installation's secret (and the site): no table to guess from."""
    assert IdMaker("disqus", SECRET).author_id("a") != IdMaker("disqus", b"x").author_id("a")
    site = IdMaker("wordpress", SECRET, "blog2")
    assert site.author_id("1") != IdMaker("wordpress", SECRET).author_id("1")
    assert site.article_id("17") == "wordpress-blog2:17"


def test_long_ids_are_hashed_within_128_characters() -> None:
    """An event id past 128 characters is replaced by a hash of it, still under the pattern."""
    ids = IdMaker("remark42", SECRET)
    article = ids.article_id("a" * 150)
    long = ids.event_id(article, "c" * 100, "posted")
    assert len(long) <= 128
    assert long.startswith("imp:remark42:_")
    assert long != ids.event_id(article, "c" * 100, "deleted")


def test_map_by_key_or_url() -> None:
    """--map turns a source key, or else an old URL, into the article id given."""
    mapped = plans(
        [
            SourceArticle(key="t1", url="https://old/a"),
            comment("1"),
            SourceArticle(key="t2", url="https://old/b"),
            comment("2", article_key="t2"),
        ],
        article_map={"t1": "news-1", "https://old/b": "news-2"},
    )
    assert [p.article_id for p in mapped] == ["news-1", "news-2"]
    assert mapped[1].events[1].id == "imp:disqus:news-2:2:posted"


def test_articles_interleaved_in_the_file_are_planned_whole() -> None:
    """Comments of two articles, interleaved in the file, each land in their own plan."""
    items: list[SourceItem] = [
        SourceArticle(key="t1"),
        SourceArticle(key="t2"),
        *(comment(str(n), n, article_key=f"t{1 + n % 2}") for n in range(10)),
    ]
    first, second = plans(items)
    assert sorted(posted(first)) == ["0", "2", "4", "6", "8"]
    assert sorted(posted(second)) == ["1", "3", "5", "7", "9"]


def _tree(shape: Sequence[tuple[int, str]]) -> list[SourceComment]:
    """Comment n replies to comment shape[n][0] when that is smaller than n, else top-level;
    its status is shape[n][1]."""
    return [
        comment(str(n), n % 7, parent_id=str(p) if p < n else None, status=status)
        for n, (p, status) in enumerate(shape)
    ]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 30), st.sampled_from(["visible", "deleted", "pending"])),
        min_size=1,
        max_size=30,
    ).flatmap(lambda tree: st.tuples(st.just(tree), st.permutations(range(len(tree)))))
)
def test_any_file_order_gives_parents_first(case: tuple[list[Any], list[int]]) -> None:
    """Whatever the file's order, every reply comes after its parent, every comment is posted
    once, and every event id is unique; the same tree in any order plans the same events."""
    tree, order = case
    comments = _tree(tree)
    shuffled = [comments[i] for i in order]
    plan = one(shuffled)
    seen: set[str] = set()
    for event in plan.events:
        if event.type == "CommentPosted":
            parent = event.data.get("parent_id")
            assert parent is None or parent in seen
            assert event.data["comment_id"] not in seen
            seen.add(event.data["comment_id"])
    assert len({e.id for e in plan.events}) == len(plan.events)
    assert plan.events == one(comments).events
