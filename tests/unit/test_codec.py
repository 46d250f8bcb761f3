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
        (1, "data.comment_id", r"Expected `str` matching regex '^[A-Za-z0-9._:-]+$(?!\\n)'"),
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
        (0, "data.body", "Expected text, got only whitespace or invisible characters")
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


@pytest.mark.parametrize("field", ["body", "author_name"])
def test_a_record_carrying_nul_is_undecodable(field: str) -> None:
    """A record written past ingest with NUL in any text field cannot be stored: undecodable,
    whichever field holds it (the worker reads the fields only when the JSON has the escape)."""
    valid = decode_request(json.dumps(comment()).encode(), Limits())[0]
    _, value, headers = encode_record(valid)
    data = json.loads(value)
    data[field] = "a\u0000b"
    with pytest.raises(UndecodableRecord, match=f"data.{field}: NUL"):
        decode_record(headers, json.dumps(data).encode())
    assert decode_record(headers, value) == valid


def test_lone_surrogate_is_malformed_json() -> None:
    """A lone surrogate escape is not Unicode text: the request is malformed (a 400)."""
    with pytest.raises(MalformedRequest):
        decode_request(json.dumps(comment(body="a\ud800b")).encode(), Limits())


def _nested(depth: int, inner: bytes = b"1") -> bytes:
    return b"[" * depth + inner + b"]" * depth


@pytest.mark.parametrize(
    "body",
    [
        _nested(100_000),
        _nested(5_000, b"{}"),
        b"[" + _nested(5_000) + b"]",
        json.dumps(comment()).encode()[:-2] + b', "extra": ' + _nested(5_000) + b"}}",
        b'{"type": "CommentPosted", "data": ' + b'{"a": ' * 5_000 + b"1" + b"}" * 5_001,
        b'{"type": "CommentPosted", "id": ' + _nested(5_000) + b', "data": {}}',
    ],
    ids=["array", "array-of-objects", "in-a-batch", "in-data", "objects-in-data", "in-an-id"],
)
def test_json_nested_deeper_than_the_decoder_can_go_is_malformed(body: bytes) -> None:
    """JSON nested thousands deep, anywhere in the body, is MalformedRequest (a 400) naming the
    nesting, not a RecursionError escaping as a 500."""
    with pytest.raises(MalformedRequest, match="nested too deeply"):
        decode_request(body, Limits(), now=NOW)


@pytest.mark.parametrize(
    "time",
    [
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-14:00",
        "1969-12-31T23:59:59Z",
        "2026-01-02T03:10:06Z",
        "3000-01-01T00:00:00Z",
    ],
)
def test_a_time_outside_the_sane_range_is_refused_naming_the_field(time: str) -> None:
    """Before 1970 or more than five minutes past now, an event's `time` is refused (422 naming
    `time`): PostgreSQL and Python's datetime cannot hold year 0, and a time in the future would
    decide the rules (bans, the edit window) against events not yet written."""
    [(index, field, message)] = problems({**comment(), "time": time})
    assert (index, field) == (0, "time")
    assert "1970-01-01T00:00:00+00:00" in message
    assert "2026-01-02T03:09:05+00:00" in message


def test_the_time_range_is_configurable_for_imported_history() -> None:
    """Imported history may reach back before 1970 when the lower bound is lowered; the upper
    bound's slack is configurable too; the edges themselves are inside."""
    old = {**comment(), "time": "1921-03-04T00:00:00Z"}
    assert problems(old)[0][1] == "time"
    limits = Limits(earliest_time=datetime(1900, 1, 1, tzinfo=UTC), max_future_s=3600)
    assert len(decode(old, limits)) == 1
    assert len(decode({**comment(), "time": "2026-01-02T04:04:05Z"}, limits)) == 1
    assert len(decode({**comment(), "time": "1970-01-01T00:00:00Z"})) == 1
    assert len(decode({**comment(), "time": "2026-01-02T03:09:05Z"})) == 1


def test_a_ban_until_an_unstorable_time_is_refused() -> None:
    """A ban's `until` before the earliest time (or beyond what a datetime holds in UTC) is
    refused like an event's time, naming `data.until`."""
    ban = {"type": "AuthorBanned", "data": {"author_id": "u1", "moderator_id": "m1"}}
    for until in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"):
        bad = {**ban, "data": {**ban["data"], "until": until}}  # type: ignore[dict-item]
        assert [p[:2] for p in problems(bad)] == [(0, "data.until")]
    later = {**ban, "data": {**ban["data"], "until": "2100-01-01T00:00:00Z"}}  # type: ignore[dict-item]
    assert len(decode(later)) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**comment(), "id": "evt\n"}, "id"),
        (comment(author_id="mira\n"), "data.author_id"),
        (comment(article_id="a1\n"), "data.article_id"),
        (comment(comment_id="\nc1"), "data.comment_id"),
        (comment(parent_id="c0\r\n"), "data.parent_id"),
    ],
)
def test_an_id_with_a_trailing_newline_is_refused(body: object, field: str) -> None:
    """`$` in a Python pattern matches before a final newline: ids are anchored at the very end,
    so "mira\\n" is not the id "mira" (nor a second one that looks the same)."""
    assert [p[:2] for p in problems(body)] == [(0, field)]


@pytest.mark.parametrize(
    "body",
    [
        "\u200b",
        "\u200b\u200c\u200d\u2060\ufeff",
        " \u200b \n\u2060\t",
        "\u00ad\u061c\u180e\u2061\u2062\u2063\u2064\u206a",
        "\u3164\u115f\u1160\uffa0\u2800",
        "\ufe0f\u034f",
        "\U000e0001\U000e0020",
        "\x01\x02\x7f",
    ],
    ids=[
        "zwsp",
        "zero-width",
        "mixed-with-whitespace",
        "format",
        "fillers",
        "selectors",
        "tags",
        "controls",
    ],
)
def test_a_body_of_only_invisible_characters_is_refused_like_whitespace(body: str) -> None:
    """Zero-width, format and filler characters render as nothing: a body of only those is as
    empty as one of only whitespace, and refused the same way."""
    assert problems(comment(body=body)) == [
        (0, "data.body", "Expected text, got only whitespace or invisible characters")
    ]
    edit = {
        "type": "CommentEdited",
        "data": {"article_id": "a1", "comment_id": "c1", "editor_id": "u1", "body": body},
    }
    assert [p[:2] for p in problems(edit)] == [(0, "data.body")]
    assert len(decode(comment(body=body + "x"))) == 1


def test_a_record_whose_ban_ends_at_a_time_utc_cannot_hold_is_undecodable() -> None:
    """The record side checks every field that can hold a time, not only `time`: a ban's
    `until` of year 1 at +14:00 (year 0 in UTC) makes its record undecodable."""
    headers = [
        ("ce_specversion", b"1.0"),
        ("ce_id", b"b1"),
        ("ce_type", b"AuthorBanned"),
        ("ce_source", b"/t"),
        ("ce_time", b"2026-01-02T03:04:05+00:00"),
    ]
    value = b'{"author_id": "u1", "moderator_id": "m", "until": "0001-01-01T00:00:00+14:00"}'
    with pytest.raises(UndecodableRecord, match=r"data\.until: 0001-01-01T00:00:00"):
        decode_record(headers, value)
