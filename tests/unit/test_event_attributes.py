"""`source` is an RFC 3986 URI-reference, and a leap second is a valid RFC 3339 time."""

import json
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rfc3986_validator import validate_rfc3986

from events import AuthorBanned, InvalidEvents, Limits, decode_request
from events.fields import URI_REFERENCE_PATTERN

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def _with(**attributes: object) -> bytes:
    data = {"comment_id": "c1", "article_id": "a1", "author_id": "u1", "body": "Hello"}
    return json.dumps({"type": "CommentPosted", "data": data, **attributes}).encode()


def _problems(body: bytes) -> list[tuple[str, str]]:
    with pytest.raises(InvalidEvents) as caught:
        decode_request(body, Limits(), now=NOW)
    return [(p.field, p.message) for p in caught.value.problems]


@pytest.mark.parametrize(
    "source",
    [
        "/cms",
        "cms",
        "../up/one",
        "https://example.com/news/2019?lang=en#comments",
        "urn:threadlog:cms",
        "mailto:desk@example.com",
        "//host.example:8080/path",
        "http://[2001:db8::7]/c",
        "/caf%C3%A9",
        "?only=query",
        "#only-fragment",
        "/a:b@c!$&'()*+,;=-._~",
    ],
)
def test_a_uri_reference_is_accepted_as_source(source: str) -> None:
    """Absolute URIs, URNs and relative references alike are valid sources, kept as given."""
    [envelope] = decode_request(_with(source=source), Limits(), now=NOW)
    assert envelope.source == source


@pytest.mark.parametrize(
    "source",
    [
        "not a uri",
        "/tab\there",
        "/nul\x00",
        "/line\n",
        "/bad%zzescape",
        "/short%4",
        "http://ex ample.com/",
        "/café",
        "1http://scheme-starts-with-a-digit:x/",
        "http://host:port/",
        '/"quoted"',
        "/<angle>",
        "/back\\slash",
    ],
)
def test_a_source_that_is_not_a_uri_reference_is_refused(source: str) -> None:
    """Spaces, control characters, invalid percent-escapes and characters RFC 3986 leaves out
    (non-ASCII must be percent-encoded) are refused, naming `source`."""
    [(field, message)] = _problems(_with(source=source))
    assert field == "source"
    assert "URI-reference" in message or "regex" in message


_URI_CHARACTERS = "abcAZ019:/?#[]@!$&'()*+,;=-._~% \"<>\\^`{|}\x7f\u00e9\n"


@given(st.text(alphabet=_URI_CHARACTERS, min_size=1, max_size=24))
def test_the_source_pattern_agrees_with_an_rfc_3986_validator(text: str) -> None:
    """Over strings of URI characters and the characters around them, our published pattern
    accepts exactly what an independent RFC 3986 validator accepts as a URI-reference (IP
    literals aside: the pattern takes any hex digits, colons and dots between brackets)."""
    ours = re.search(URI_REFERENCE_PATTERN, text) is not None
    # The validator's `$` also matches before a final newline (the trap fields.py closes).
    theirs = validate_rfc3986(text, rule="URI_reference") is not None and text[-1:] != "\n"
    if "[" in text and ours:
        return  # an IP literal the pattern reads more loosely than the validator
    assert ours == theirs, text


@pytest.mark.parametrize(
    ("posted", "stored"),
    [
        ("2016-12-31T23:59:60Z", datetime(2016, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)),
        ("2015-06-30T23:59:60.5Z", datetime(2015, 6, 30, 23, 59, 59, 999999, tzinfo=UTC)),
        (
            "2017-01-01T01:29:60+01:30",
            datetime(2017, 1, 1, 1, 29, 59, 999999, tzinfo=timezone(timedelta(minutes=90))),
        ),
    ],
)
def test_a_leap_second_is_stored_as_the_last_microsecond_before_it(
    posted: str, stored: datetime
) -> None:
    """RFC 3339 allows :60 at the end of a UTC month (shifted by the zone offset); Python's
    datetime cannot hold it, so it is kept as :59.999999 of the same minute and offset."""
    [envelope] = decode_request(_with(time=posted), Limits(), now=NOW)
    assert envelope.time == stored
    assert envelope.time.utcoffset() == stored.utcoffset()


def test_a_leap_second_in_data_is_accepted_too() -> None:
    """A ban's `until` may be a leap second as well."""
    ban = {"author_id": "u1", "moderator_id": "m", "until": "2016-12-31T23:59:60Z"}
    body = json.dumps({"type": "AuthorBanned", "data": ban}).encode()
    [envelope] = decode_request(body, Limits(), now=NOW)
    assert isinstance(envelope.data, AuthorBanned)
    assert envelope.data.until == datetime(2016, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)


@pytest.mark.parametrize(
    "posted",
    [
        "2016-12-15T23:59:60Z",
        "2016-12-31T12:00:60Z",
        "2016-12-31T23:59:60+01:00",
        "2016-12-31T23:59:61Z",
    ],
)
def test_a_second_60_that_is_no_leap_second_is_refused(posted: str) -> None:
    """:60 anywhere but the last second of a UTC month is refused, naming `time`."""
    [(field, message)] = _problems(_with(time=posted))
    assert field == "time"
    assert "RFC3339" in message or "RFC 3339" in message
