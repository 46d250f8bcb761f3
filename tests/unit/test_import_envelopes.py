"""Planned events through ingest's own decoder: marked imported, refused as ingest refuses."""

import asyncio
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

from events import IMPORT_SOURCES, CommentPosted, InvalidEvents, Limits, encode_record
from importers.envelopes import records, validated
from importers.formats import READERS
from importers.ids import IdMaker
from importers.plan import PlannedEvent, Planner, plan_items
from importers.source import SourceArticle, SourceComment, SourceItem, SourceVote
from tests import import_items
from threadlog.import_run import ImportOptions, run_import
from threadlog.settings import Settings

NOW = datetime(2026, 12, 1, tzinfo=UTC)
T = datetime(2013, 2, 3, 4, 5, 6, tzinfo=UTC)
ITEMS: list[SourceItem] = [
    SourceArticle(key="a", title="A"),
    SourceComment(article_key="a", id="1", body="hi", posted_at=T, status="pending", score=-2),
]


def test_every_format_the_log_knows_has_a_reader_registered() -> None:
    """The import mark's formats (`importedfrom` values) and the reader table agree."""
    assert set(READERS) == set(IMPORT_SOURCES)


def test_events_are_marked_imported_and_keep_the_source_time() -> None:
    """Validated envelopes carry importedfrom, the source's time, ingest's recordedtime, and
    the record carries the mark in its headers."""
    [plan] = plan_items(ITEMS, Planner(IdMaker("isso", b"k" * 32), Limits(), NOW))
    envelopes = validated(plan.events, "isso", Limits(), NOW)
    assert [e.type for e in envelopes] == ["ArticlePublished", "CommentPosted"]
    posted = envelopes[1]
    assert posted.importedfrom == "isso"
    assert (posted.time, posted.recordedtime, posted.source) == (T, NOW, "/import/isso")
    assert isinstance(posted.data, CommentPosted)
    assert (posted.data.held, posted.data.score) == (True, -2)
    _, _, headers = encode_record(posted)
    assert ("ce_importedfrom", b"isso") in headers


def test_an_event_ingest_refuses_is_refused_here_with_its_index() -> None:
    """The same decoder as ingest: a score past its bound is refused, naming the event."""
    event = PlannedEvent(
        "imp:isso:a:1:posted",
        "CommentPosted",
        T,
        {"article_id": "a", "comment_id": "1", "author_id": "u", "body": "b", "score": 2 * 10**9},
    )
    fine = PlannedEvent(
        "imp:isso:a::published", "ArticlePublished", T, {"article_id": "a", "title": "t"}
    )
    with pytest.raises(InvalidEvents) as caught:
        validated([fine, fine, event], "isso", Limits(max_batch_events=2), NOW)
    assert [(p.index, p.field) for p in caught.value.problems] == [(2, "data.score")]


def test_an_article_with_an_invalid_event_is_not_imported(tmp_path: Path) -> None:
    """The dry run reports the event ingest would refuse, and imports nothing of its article."""
    items = [
        *ITEMS[:1],
        SourceComment(article_key="a", id="1", body="hi", posted_at=T, score=10**12),
    ]
    path = tmp_path / "export.jsonl"
    import_items.write(path, items)
    options = ImportOptions(format="disqus", path=path, dry_run=True)
    settings = Settings(database_url="postgresql://nobody@127.0.0.1:1/none")
    report = asyncio.run(
        run_import(
            settings, options, readers={"disqus": "tests.import_items:read"}, progress=io.StringIO()
        )
    )
    [article] = report.articles
    assert (article.comments, article.skipped) == (0, {"invalid_events": 1})
    [problem] = report.problems
    assert problem.code == "invalid_event"
    assert problem.detail.startswith("data.score: ")


def test_the_records_are_those_encode_record_makes_for_every_kind_of_event() -> None:
    """`records` shares the headers events of one kind have in common: every record is still
    byte for byte encode_record's (each kind of event an import writes, two of each)."""
    later = datetime(2013, 2, 4, tzinfo=UTC)
    items: list[SourceItem] = [
        SourceArticle(key="a", title="A", url="https://old.example/a", closed=True),
        SourceComment(article_key="a", id="1", body="gone", posted_at=T, status="deleted"),
        SourceComment(
            article_key="a",
            id="2",
            parent_id="1",
            author_key="u",
            author_name="U",
            body="<p>x</p>",
            posted_at=T,
            votes=(SourceVote("v", True), SourceVote("w", False)),
            pinned=True,
        ),
        SourceComment(article_key="a", id="3", body="y", posted_at=later, status="pending"),
        SourceComment(article_key="a", id="4", parent_id="2", body="z", posted_at=later, score=3),
        SourceArticle(key="b", title="B", closed=True),
        SourceComment(article_key="b", id="5", parent_id="9", body="w", posted_at=later),
    ]
    planner = Planner(IdMaker("remark42", b"k" * 32), Limits(), NOW)
    envelopes = [
        envelope
        for plan in plan_items(items, planner)
        for envelope in validated(plan.events, "remark42", Limits(), NOW)
    ]
    kinds = [e.type for e in envelopes]
    assert {kind: kinds.count(kind) >= 2 for kind in set(kinds)} == {
        kind: True
        for kind in (
            "ArticlePublished",
            "CommentPosted",
            "CommentVoted",
            "ArticleClosed",
        )
    } | {"CommentPinned": False, "CommentDeleted": False}
    assert records(envelopes) == [encode_record(envelope) for envelope in envelopes]
