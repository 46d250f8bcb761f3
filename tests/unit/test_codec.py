"""The event codec: what ingest accepts, the errors it gives, and the Kafka record format."""

import json
from datetime import UTC, datetime

import pytest

from events import (
    CommentPosted,
    InvalidEvents,
    Limits,
    MalformedRequest,
    UndecodableRecord,
    decode_record,
    decode_request,
    encode_record,
)

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def comment(**data: object) -> dict[str, object]:
    base = {"comment_id": "c1", "article_id": "a1", "author_id": "u1", "body": "Hello"}
    return {"type": "CommentPosted", "data": {**base, **data}}


def decode(body: object, limits: Limits | None = None) -> list[object]:
    return list(decode_request(json.dumps(body).encode(), limits or Limits(), now=NOW))


def problems(body: object, limits: Limits | None = None) -> list[tuple[int, str, str]]:
    with pytest.raises(InvalidEvents) as caught:
        decode(body, limits)
    return [(p.index, p.field, p.message) for p in caught.value.problems]


def test_single_envelope_gets_an_id_a_time_and_a_source() -> None:
    """An envelope without id, time or source is accepted with a fresh id, now, and /unknown."""
    [envelope] = decode_request(json.dumps(comment()).encode(), Limits(), now=NOW)
    assert envelope.time == NOW
    assert envelope.source == "/unknown"
    assert len(envelope.id) == 36
    assert envelope.data == CommentPosted(
        article_id="a1", comment_id="c1", author_id="u1", body="Hello"
    )


def test_given_attributes_are_kept() -> None:
    """id, source and time given by the producer are kept as given."""
    body = {**comment(), "id": "evt-1", "source": "/cms", "time": "2020-05-06T07:08:09+02:00"}
    [envelope] = decode_request(json.dumps(body).encode(), Limits(), now=NOW)
    assert (envelope.id, envelope.source, envelope.time.isoformat()) == (
        "evt-1",
        "/cms",
        "2020-05-06T07:08:09+02:00",
    )


def test_every_invalid_event_of_a_batch_is_reported_with_its_field() -> None:
    """One request with several bad events names each event's index and the field at fault."""
    body = [
        comment(),
        comment(comment_id="has space"),
        {"type": "CommentPosted", "data": {"article_id": "a1", "author_id": "u", "body": "x"}},
        {"type": "Nope", "data": {}},
        {**comment(), "colour": "red"},
        {**comment(), "time": "2020-01-01T00:00:00"},
        comment(parent_id="c1"),
    ]
    assert problems(body) == [
        (1, "data.comment_id", "Expected `str` matching regex '^[A-Za-z0-9._:-]+$'"),
        (2, "data.comment_id", "Object missing required field `comment_id`"),
        (3, "type", "Invalid enum value 'Nope'"),
        (4, "colour", "Object contains unknown field `colour`"),
        (5, "time", "Expected `datetime` with a timezone component"),
        (6, "data.parent_id", "A comment cannot reply to itself"),
    ]


def test_body_limit_is_configurable() -> None:
    """A body over the configured limit is refused; the same body passes a larger limit."""
    body = comment(body="x" * 11)
    assert problems(body, Limits(max_comment_chars=10)) == [
        (0, "data.body", "Expected `str` of length <= 10")
    ]
    assert len(decode(body, Limits(max_comment_chars=11))) == 1


def test_blank_body_and_empty_batch_are_refused() -> None:
    """A body of only whitespace is refused, and so is an empty array."""
    assert problems(comment(body="  \n")) == [
        (0, "data.body", "Expected text, got only whitespace")
    ]
    assert problems([]) == [(0, "$", "Expected at least one event, got an empty array")]


def test_batch_size_limit() -> None:
    """More events than the batch limit are refused as a whole."""
    assert problems([comment()] * 3, Limits(max_batch_events=2)) == [
        (2, "$", "Expected at most 2 events per request, got 3")
    ]


@pytest.mark.parametrize("body", [b"", b"{", b"nope", b"42", b'"text"', b"[1,"])
def test_malformed_json_is_its_own_error(body: bytes) -> None:
    """Bodies that are not a JSON object or array raise MalformedRequest (a 400, not a 422)."""
    with pytest.raises(MalformedRequest):
        decode_request(body, Limits())


def test_record_round_trip_uses_cloudevents_binary_mode() -> None:
    """A record's key is the article id, attributes are ce_* headers, the value is the data."""
    [envelope] = decode_request(json.dumps({**comment(), "id": "e1"}).encode(), Limits(), now=NOW)
    key, value, headers = encode_record(envelope)
    assert key == b"a1"
    assert dict(headers) == {
        "ce_specversion": b"1.0",
        "ce_id": b"e1",
        "ce_type": b"CommentPosted",
        "ce_source": b"/unknown",
        "ce_time": b"2026-01-02T03:04:05+00:00",
        "ce_dataschema": b"urn:threadlog:CommentPosted:1",
        "content-type": b"application/json",
        "ce_recordedtime": b"2026-01-02T03:04:05+00:00",
    }
    assert json.loads(value) == {
        "article_id": "a1",
        "comment_id": "c1",
        "author_id": "u1",
        "body": "Hello",
    }
    assert decode_record(headers, value) == envelope


def test_worker_accepts_old_events_beyond_a_lowered_limit() -> None:
    """Lowering the ingest limit later never turns events already in the log into poison."""
    [envelope] = decode([comment(body="x" * 20_000)], Limits(max_comment_chars=50_000))
    _, value, headers = encode_record(envelope)  # type: ignore[arg-type]
    assert decode_record(headers, value) == envelope


@pytest.mark.parametrize(
    ("headers", "value", "why"),
    [
        ([], b"{}", "Object missing required field `type`"),
        (
            [
                ("ce_type", b"CommentPosted"),
                ("ce_id", b"e"),
                ("ce_source", b"/"),
                ("ce_time", b"2020-01-01T00:00:00Z"),
                ("ce_specversion", b"1.0"),
            ],
            b"{",
            "data: Malformed JSON",
        ),
        (
            [
                ("ce_type", b"CommentPosted"),
                ("ce_id", b"e"),
                ("ce_source", b"/"),
                ("ce_time", b"2020-01-01T00:00:00Z"),
                ("ce_specversion", b"1.0"),
            ],
            None,
            "Record has no value",
        ),
        ([("ce_type", b"\xff")], b"{}", "Header ce_type is not UTF-8"),
    ],
)
def test_undecodable_records_say_why(
    headers: list[tuple[str, bytes]], value: bytes | None, why: str
) -> None:
    """Records that are not threadlog events raise UndecodableRecord with the reason."""
    with pytest.raises(UndecodableRecord, match=why):
        decode_record(headers, value)


def test_nul_is_refused_because_postgres_cannot_store_it() -> None:
    """NUL passes JSON but not PostgreSQL text: ingest refuses it, naming the field."""
    with pytest.raises(InvalidEvents) as caught:
        decode_request(json.dumps(comment(body="a\u0000b")).encode(), Limits())
    assert [(p.field, p.message) for p in caught.value.problems] == [
        ("data.body", "NUL characters are not allowed")
    ]


def test_lone_surrogate_is_malformed_json() -> None:
    """A lone surrogate escape is not Unicode text: the request is malformed (a 400)."""
    with pytest.raises(MalformedRequest):
        decode_request(json.dumps(comment(body="a\ud800b")).encode(), Limits())
