"""The event decoder on hostile input: whatever bytes arrive, it accepts them or raises one of
its two documented errors, never anything else (which the service would turn into a 500)."""

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events import (
    EVENT_TYPES,
    InvalidEvents,
    Limits,
    MalformedRequest,
    UndecodableRecord,
    decode_record,
    decode_request,
)

LIMITS = Limits(max_comment_chars=200, max_batch_events=5)

_json: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(st.characters(codec="utf-8")),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
"""Any JSON value."""

_id = st.text("abc09._:-", min_size=1, max_size=6) | st.text(max_size=6)
_data = st.fixed_dictionaries(
    {},
    optional={
        "article_id": _id,
        "comment_id": _id,
        "author_id": _id,
        "parent_id": _id | st.none(),
        "flagger_id": _id,
        "title": st.text(max_size=8),
        "body": st.text(max_size=300),
        "reason": st.sampled_from(["spam", "hate", "nope"]),
        "extra": _json,
    },
)
_envelope = st.fixed_dictionaries(
    {"type": st.sampled_from([*EVENT_TYPES, "Unknown"]) | st.text(max_size=5)},
    optional={
        "data": _data | _json,
        "id": _id | _json,
        "time": st.sampled_from(["2024-01-01T00:00:00Z", "2024-01-01", "yesterday"]) | _json,
        "source": st.text(max_size=5) | _json,
        "specversion": st.sampled_from(["1.0", "0.3"]),
        "surprise": _json,
    },
)
"""Envelopes close enough to valid that the decoder goes deep before it refuses them."""


def decodes_or_refuses(body: bytes) -> None:
    """Decoding `body` either succeeds or raises MalformedRequest / InvalidEvents."""
    try:
        envelopes = decode_request(body, LIMITS)
    except (MalformedRequest, InvalidEvents):
        return
    assert 1 <= len(envelopes) <= LIMITS.max_batch_events


_settings = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_settings
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_only_raise_the_decoders_errors(body: bytes) -> None:
    """Random bytes (invalid UTF-8, NUL, half a JSON document) never escape as another error."""
    decodes_or_refuses(body)


@_settings
@given(_json)
def test_any_json_value_only_raises_the_decoders_errors(value: Any) -> None:
    """Any JSON value (scalars, nested arrays and objects) is accepted or refused cleanly."""
    decodes_or_refuses(json.dumps(value).encode())


@_settings
@given(st.lists(_envelope, min_size=0, max_size=7) | _envelope)
def test_near_valid_envelopes_only_raise_the_decoders_errors(value: Any) -> None:
    """Envelopes with wrong types, unknown fields, bad ids, bodies over the limit and batches
    over the batch limit are accepted or refused cleanly, never with another exception."""
    decodes_or_refuses(json.dumps(value).encode())


@_settings
@given(st.binary(max_size=200), st.integers(0, 2000))
def test_bytes_spliced_into_a_valid_request_only_raise_the_decoders_errors(
    junk: bytes, at: int
) -> None:
    """A valid request with random bytes spliced in anywhere: accepted or refused cleanly."""
    valid = json.dumps(
        {
            "type": "CommentPosted",
            "data": {"article_id": "a", "comment_id": "c", "author_id": "u", "body": "hi"},
        }
    ).encode()
    at %= len(valid) + 1
    decodes_or_refuses(valid[:at] + junk + valid[at:])


def test_invalid_utf8_inside_a_string_is_malformed_json() -> None:
    """A body whose JSON strings hold invalid UTF-8 is MalformedRequest, like any bad JSON."""
    body = b'{"type": "CommentPosted", "data": {"article_id": "\x80"}}'
    with pytest.raises(MalformedRequest):
        decode_request(body, LIMITS)


def test_a_record_with_invalid_utf8_is_undecodable_not_a_crash() -> None:
    """A record any Kafka client could write, with invalid UTF-8 in a string of its value, is
    UndecodableRecord (dead-lettered), not an exception that stops the worker."""
    headers = [
        ("ce_specversion", b"1.0"),
        ("ce_id", b"e1"),
        ("ce_type", b"ArticlePublished"),
        ("ce_source", b"/x"),
        ("ce_time", b"2024-01-01T00:00:00+00:00"),
    ]
    with pytest.raises(UndecodableRecord):
        decode_record(headers, b'{"article_id": "a", "title": "\x80"}')
