"""What ingest decides before it produces: a record's size against the log's limit, and each
process's transactional ids."""

from datetime import UTC, datetime
from pathlib import Path

from events import ArticlePublished, CommentPosted, Envelope, encode_record
from services.ingest.producer_identity import claim
from services.ingest.record_size import oversized, record_bytes


def envelope(data: ArticlePublished | CommentPosted) -> Envelope:
    """`data` in an envelope with fixed attributes."""
    return Envelope(
        id="e1",
        type=type(data).__name__,
        source="/t",
        time=datetime(2024, 1, 1, tzinfo=UTC),
        data=data,
    )


def test_an_event_over_the_limit_is_named_by_index_and_its_largest_field() -> None:
    """Only the event whose record exceeds the limit is reported, with its index and the field
    that makes it large; U+0001 counts six bytes as JSON escapes it."""
    small = envelope(ArticlePublished(article_id="a", title="t", body="short"))
    big = envelope(ArticlePublished(article_id="a", title="t", body="\u0001" * 2_000))
    records = [encode_record(e) for e in (small, big)]
    assert 12_000 < record_bytes(records[1]) < 12_500
    [problem] = oversized([small, big], records, limit=10_000)
    assert (problem.index, problem.field) == (1, "data.body")
    assert "over the log's record size limit of 10,000 bytes" in problem.message
    assert oversized([small, big], records, limit=12_500) == []


def test_live_processes_get_distinct_ids_and_a_successor_takes_a_freed_one(tmp_path: Path) -> None:
    """Two processes of one instance hold different slots; when one ends, the next process
    takes its slot, hence its transactional ids (and fences whatever it left open)."""
    first = claim("threadlog.events", "pod-a", tmp_path)
    second = claim("threadlog.events", "pod-a", tmp_path)
    assert first.transactional_ids(2) == (
        "threadlog-ingest.threadlog.events.pod-a.0.0",
        "threadlog-ingest.threadlog.events.pod-a.0.1",
    )
    assert second.transactional_ids(1) == ("threadlog-ingest.threadlog.events.pod-a.1.0",)
    first.release()
    successor = claim("threadlog.events", "pod-a", tmp_path)
    assert successor.base == first.base
    other = claim("threadlog.events", "pod b/é", tmp_path)
    assert other.base == "threadlog-ingest.threadlog.events.pod_b__.0"
    for identity in (second, successor, other):
        identity.release()
