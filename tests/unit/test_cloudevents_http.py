"""The CloudEvents HTTP binding as ingest reads it, without a server: modes, headers, fields."""

import json
from datetime import UTC, datetime

import pytest

from events import InvalidEvents, Limits, MalformedRequest, decode_binary_request
from services.ingest.cloudevents_http import (
    UnsupportedMediaType,
    binary_attributes,
    decode_events,
)

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
DATA = json.dumps({"article_id": "a", "comment_id": "c", "author_id": "u", "body": "hi"}).encode()
ATTRIBUTES = {"specversion": "1.0", "type": "CommentPosted", "id": "e1", "source": "/cms"}


def _fields(attributes: dict[str, str], data: bytes = DATA) -> list[str]:
    with pytest.raises(InvalidEvents) as caught:
        decode_binary_request(attributes, data, Limits(), now=NOW)
    return [p.field for p in caught.value.problems]


def test_binary_attributes_are_percent_decoded_utf_8() -> None:
    """Header values are percent-decoded as UTF-8 (binding 3.1.3.2); `+` stays a plus."""
    headers = [(b"ce-source", b"/caf%25C3%25A9"), (b"ce-time", b"2020-01-01T00:00:00+01:00")]
    assert binary_attributes(headers) == {
        "source": "/caf%C3%A9",
        "time": "2020-01-01T00:00:00+01:00",
    }


@pytest.mark.parametrize(
    "headers",
    [
        [(b"ce-id", b"a%zz")],
        [(b"ce-id", b"a%4")],
        [(b"ce-id", b"%ff")],
        [(b"ce-id", b"a"), (b"ce-id", b"b")],
    ],
)
def test_a_header_that_is_not_percent_encoded_utf_8_or_comes_twice_is_refused(
    headers: list[tuple[bytes, bytes]],
) -> None:
    """A broken percent-escape, bytes that are not UTF-8 once decoded, or an attribute sent
    twice is refused naming the header."""
    with pytest.raises(InvalidEvents) as caught:
        binary_attributes(headers)
    assert [p.field for p in caught.value.problems] == ["ce-id"]


def test_binary_mode_builds_the_envelope_structured_mode_would() -> None:
    """Attributes and data make the same envelope as the structured event holding them."""
    [structured] = decode_events(
        [(b"content-type", b"application/cloudevents+json")],
        json.dumps({**ATTRIBUTES, "data": json.loads(DATA)}).encode(),
        Limits(),
    )
    binary = decode_binary_request(ATTRIBUTES, DATA, Limits())
    assert (binary.id, binary.type, binary.source, binary.data) == (
        structured.id,
        structured.type,
        structured.source,
        structured.data,
    )


def test_binary_mode_problems_name_headers_and_data_paths() -> None:
    """Attributes are named by their headers, data fields by their path in the body."""
    assert _fields({**ATTRIBUTES, "time": "soon"}) == ["ce-time"]
    assert _fields({**ATTRIBUTES, "source": "a b"}) == ["ce-source"]
    assert _fields({**ATTRIBUTES, "shade": "x"}) == ["ce-shade"]
    assert _fields({k: v for k, v in ATTRIBUTES.items() if k != "type"}) == ["ce-type"]
    assert _fields({k: v for k, v in ATTRIBUTES.items() if k != "specversion"}) == [
        "ce-specversion"
    ]
    assert _fields({**ATTRIBUTES, "data": "{}"}) == ["ce-data"]
    assert _fields(ATTRIBUTES, b'{"article_id": "a", "comment_id": "c", "body": "hi"}') == [
        "data.author_id"
    ]
    with pytest.raises(MalformedRequest):
        decode_binary_request(ATTRIBUTES, b"{nope", Limits())


@pytest.mark.parametrize(
    ("content_type", "body", "count"),
    [
        (b"application/json", b'{"type": "CommentPosted", "data": %s}' % DATA, 1),
        (b"application/json; charset=utf-8", b'[{"type": "CommentPosted", "data": %s}]' % DATA, 1),
        (
            b"application/cloudevents-batch+json",
            b'[{"type": "CommentPosted", "data": %s}]' % DATA,
            1,
        ),
    ],
)
def test_plain_json_and_batches_are_read_as_before(
    content_type: bytes, body: bytes, count: int
) -> None:
    """Without `ce-*` headers a JSON body is one envelope or an array, as it always was."""
    assert len(decode_events([(b"content-type", content_type)], body, Limits())) == count


def test_a_media_type_no_mode_reads_is_unsupported() -> None:
    """text/plain (what a cross-site form or a bare fetch sends) is no event at all."""
    with pytest.raises(UnsupportedMediaType):
        decode_events([(b"content-type", b"text/plain"), (b"ce-id", b"x")], DATA, Limits())


def test_an_event_read_from_the_log_can_be_posted_again_as_it_is() -> None:
    """The attributes the SDK reads off a record (recordedtime, producerkey, partitionkey,
    dataschema) are accepted; ingest stamps its own recordedtime, and a partitionkey must be
    the event's key."""
    attributes = {
        **ATTRIBUTES,
        "recordedtime": "2001-01-01T00:00:00Z",
        "producerkey": "someone-else",
        "partitionkey": "a",
        "dataschema": "urn:threadlog:CommentPosted:1",
    }
    envelope = decode_binary_request(attributes, DATA, Limits(), now=NOW)
    assert envelope.recordedtime == NOW
    assert _fields({**attributes, "partitionkey": "b"}) == ["ce-partitionkey"]
    assert _fields({**attributes, "dataschema": "urn:threadlog:CommentPosted:9"}) == [
        "ce-dataschema"
    ]
