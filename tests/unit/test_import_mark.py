"""The import mark: the `importedfrom` extension attribute, the `import` scope, and the fields
only imported history may carry (`held`, `score`). Pure: the codec, the scopes, the checks."""

import json
from datetime import UTC, datetime

import msgspec
import pytest

from events import (
    CommentPosted,
    Envelope,
    InvalidEvents,
    Limits,
    UndecodableRecord,
    decode_binary_request,
    decode_record,
    decode_request,
    encode_record,
)
from events.imported import IMPORT_SOURCES, import_only_problems
from services.auth.scopes import SCOPES, missing_event_scopes

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
OLD = "2012-03-04T05:06:07+00:00"


def posted(**data: object) -> dict[str, object]:
    base = {"comment_id": "c1", "article_id": "a1", "author_id": "u1", "body": "Hello"}
    return {"type": "CommentPosted", "id": "e1", "time": OLD, "data": {**base, **data}}


def decode_one(body: object) -> Envelope:
    [envelope] = decode_request(json.dumps(body).encode(), Limits(), now=NOW)
    return envelope


def test_the_sources_are_the_formats_an_import_reads() -> None:
    """The mark names one of the formats `threadlog import` reads."""
    assert set(IMPORT_SOURCES) == {
        "disqus",
        "wordpress",
        "isso",
        "remark42",
        "commento",
        "threadlog",
    }


def test_a_posted_mark_is_kept_with_its_old_time() -> None:
    """`importedfrom` is an envelope attribute kept as posted; `time` stays the source's."""
    envelope = decode_one({**posted(), "importedfrom": "disqus"})
    assert envelope.importedfrom == "disqus"
    assert envelope.time.isoformat() == OLD


def test_an_unmarked_event_has_no_mark() -> None:
    """Without the attribute an event is live, as every event before imports was."""
    assert decode_one(posted()).importedfrom is None


def test_an_unknown_source_is_refused_naming_the_attribute() -> None:
    """A mark must name a format we import; anything else is a 422 on `importedfrom`."""
    with pytest.raises(InvalidEvents) as caught:
        decode_one({**posted(), "importedfrom": "myspace"})
    assert [p.field for p in caught.value.problems] == ["importedfrom"]


def test_the_mark_travels_on_the_record_and_back() -> None:
    """On Kafka the mark is the `ce_importedfrom` header, read back as it was written."""
    envelope = decode_one({**posted(held=True, score=7), "importedfrom": "isso"})
    _, value, headers = encode_record(envelope)
    assert ("ce_importedfrom", b"isso") in headers
    back = decode_record(headers, value)
    assert back.importedfrom == "isso"
    assert back.data == CommentPosted(
        article_id="a1", comment_id="c1", author_id="u1", body="Hello", held=True, score=7
    )


def test_an_unmarked_record_has_no_mark_header() -> None:
    """Live events keep the record they always had: no `ce_importedfrom` header."""
    _, _, headers = encode_record(decode_one(posted()))
    assert all(name != "ce_importedfrom" for name, _ in headers)


def test_binary_mode_takes_the_mark_from_its_header() -> None:
    """CloudEvents HTTP binary mode carries the mark as `ce-importedfrom`."""
    attributes = {
        "specversion": "1.0",
        "type": "CommentPosted",
        "id": "e1",
        "time": OLD,
        "importedfrom": "wordpress",
    }
    data = json.dumps(posted()["data"]).encode()
    envelope = decode_binary_request(attributes, data, Limits(), now=NOW)
    assert envelope.importedfrom == "wordpress"


def test_binary_mode_names_the_header_of_a_bad_mark() -> None:
    """A bad mark in binary mode is named by its header."""
    attributes = {"specversion": "1.0", "type": "CommentPosted", "importedfrom": "x"}
    data = json.dumps(posted()["data"]).encode()
    with pytest.raises(InvalidEvents) as caught:
        decode_binary_request(attributes, data, Limits(), now=NOW)
    assert [p.field for p in caught.value.problems] == ["ce-importedfrom"]


def test_held_and_score_are_import_only() -> None:
    """`held` and `score` on an unmarked post are problems naming each field; marked, none."""
    live = decode_one(posted(held=True, score=-3))
    assert [(p.index, p.field) for p in import_only_problems(4, live)] == [
        (4, "data.held"),
        (4, "data.score"),
    ]
    marked = decode_one({**posted(held=True, score=-3), "importedfrom": "commento"})
    assert import_only_problems(0, marked) == []
    assert import_only_problems(0, decode_one(posted())) == []


def test_a_record_with_import_only_fields_unmarked_is_undecodable() -> None:
    """Such a record cannot have come through ingest: every reader dead-letters it alike."""
    _, value, headers = encode_record(decode_one(posted(held=True)))
    with pytest.raises(UndecodableRecord, match=r"data\.held"):
        decode_record(headers, value)


def test_a_record_with_an_unknown_mark_is_undecodable() -> None:
    """A mark no import writes is not one of our records."""
    _, value, headers = encode_record(decode_one(posted()))
    with pytest.raises(UndecodableRecord, match="importedfrom"):
        decode_record([*headers, ("ce_importedfrom", b"myspace")], value)


def test_import_is_a_scope_of_its_own() -> None:
    """`import` is a scope a key can hold; it is not `produce` or `moderate`."""
    assert "import" in SCOPES


def test_a_marked_event_needs_import_whatever_its_type() -> None:
    """A marked event needs `import` (or admin), a moderation event included; `import` alone
    grants no unmarked event."""
    types = ["CommentPosted", "ArticleClosed", "CommentPosted"]
    marked = [True, True, False]
    assert missing_event_scopes({"import"}, types, marked) == [(2, "produce")]
    assert missing_event_scopes({"produce", "moderate"}, types, marked) == [
        (0, "import"),
        (1, "import"),
    ]
    assert missing_event_scopes({"admin"}, types, marked) == []
    assert missing_event_scopes({"produce"}, ["CommentPosted"]) == []


def test_a_record_with_an_unknown_mark_is_never_written() -> None:
    """`encode_record` refuses a mark no reader would accept, rather than write poison."""
    envelope = msgspec.structs.replace(decode_one(posted()), importedfrom="myspace")
    with pytest.raises(ValueError, match="importedfrom must be one of disqus"):
        encode_record(envelope)
