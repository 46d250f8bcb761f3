"""Cursors are strictly validated: a forged token is a 400 on `cursor`, never a value that makes a
query fail (a 500) or one the database cannot hold."""

import base64
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from services.query.cursors import Cursor, KeyKind, decode_cursor, encode_cursor
from services.query.handlers import as_api_error
from services.query.read_errors import InvalidCursor

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def forge(value: object) -> str:
    """A token as a client could make one: base64 of any JSON."""
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def refused(token: str, kind: str, keys: tuple[KeyKind, ...]) -> str:
    """The detail message of the 400 `invalid_cursor` that `token` gets."""
    with pytest.raises(InvalidCursor) as caught:
        decode_cursor(token, kind, keys)
    error = as_api_error(caught.value)
    assert (error.status, error.code, [d.field for d in error.details]) == (
        400,
        "invalid_cursor",
        ["cursor"],
    )
    return error.details[0].message


TOP: tuple[KeyKind, ...] = ("flag", "int", "id")
TIMELINE: tuple[KeyKind, ...] = ("id", "id")
QUEUE: tuple[KeyKind, ...] = ("int", "id", "id")
TIME = "2024-01-01T00:00:00Z"


@pytest.mark.parametrize(
    ("kind", "keys", "cursor"),
    [
        ("thread:top", TOP, Cursor("thread:top", T0, ["1", "-17", "c1"])),
        ("thread:top", TOP, Cursor("thread:top", T0, ["0", "2147483647", "c:1.x-y_z"])),
        ("timeline", TIMELINE, Cursor("timeline", T0, ["a1", "c1"])),
        ("queue:flagged", QUEUE, Cursor("queue:flagged", T0, ["3", "a1", "c1"])),
    ],
)
def test_issued_cursors_round_trip(kind: str, keys: tuple[KeyKind, ...], cursor: Cursor) -> None:
    """What the service issues, it reads back unchanged."""
    assert decode_cursor(encode_cursor(cursor), kind, keys) == cursor


def test_a_time_in_another_zone_reads_back_as_the_same_instant_in_utc() -> None:
    """The database compares instants; the zone a token names does not matter."""
    cursor = Cursor("timeline", T0.astimezone(timezone(timedelta(hours=5))), ["a1", "c1"])
    decoded = decode_cursor(encode_cursor(cursor), "timeline", TIMELINE)
    assert decoded.time == T0
    assert decoded.time.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("kind", "keys", "forged"),
    [
        # What was seen to give a 500: a score that is not a number, NUL in a key.
        ("thread:top", TOP, ["thread:top", TIME, ["1", "NaN", "c1"]]),
        ("thread:top", TOP, ["thread:top", TIME, ["1", "1e3", "c1"]]),
        ("timeline", TIMELINE, ["timeline", TIME, ["a\u0000", "c1"]]),
        ("timeline", TIMELINE, ["timeline", TIME, ["a1", "c1\u0000"]]),
        # Numbers the integer columns cannot hold, and a featured flag that is not 0 or 1.
        ("thread:top", TOP, ["thread:top", TIME, ["1", "2147483648", "c1"]]),
        ("thread:top", TOP, ["thread:top", TIME, ["1", "-99999999999999999999", "c1"]]),
        ("thread:top", TOP, ["thread:top", TIME, ["yes", "3", "c1"]]),
        ("queue:flagged", QUEUE, ["queue:flagged", TIME, ["x", "a1", "c1"]]),
        ("queue:flagged", QUEUE, ["queue:flagged", TIME, [" 3", "a1", "c1"]]),
        # Keys no id could be: too long, a space, a trailing newline, not a string.
        ("timeline", TIMELINE, ["timeline", TIME, ["a" * 129, "c1"]]),
        ("timeline", TIMELINE, ["timeline", TIME, ["a b", "c1"]]),
        ("timeline", TIMELINE, ["timeline", TIME, ["a1\n", "c1"]]),
        ("timeline", TIMELINE, ["timeline", TIME, ["a1", 7]]),
        ("timeline", TIMELINE, ["timeline", TIME, ["a1", ""]]),
        # Times: one that overflows in UTC, one without a zone, one that is not a time.
        ("timeline", TIMELINE, ["timeline", "0001-01-01T00:00:00+14:00", ["a1", "c1"]]),
        ("timeline", TIMELINE, ["timeline", "9999-12-31T23:59:59-14:00", ["a1", "c1"]]),
        ("timeline", TIMELINE, ["timeline", "2024-01-01T00:00:00", ["a1", "c1"]]),
        ("timeline", TIMELINE, ["timeline", 1704067200, ["a1", "c1"]]),
        # Shapes: too few or many keys, another listing, extra items, not an array at all.
        ("timeline", TIMELINE, ["timeline", TIME, ["a1"]]),
        ("timeline", TIMELINE, ["timeline", TIME, ["a1", "c1", "x"]]),
        ("timeline", TIMELINE, ["thread:top", TIME, ["a1", "c1"]]),
        ("timeline", TIMELINE, ["timeline", TIME, ["a1", "c1"], "more"]),
        ("timeline", TIMELINE, {"kind": "timeline"}),
        ("timeline", TIMELINE, None),
    ],
)
def test_a_forged_cursor_is_a_400_on_cursor(
    kind: str, keys: tuple[KeyKind, ...], forged: object
) -> None:
    """A token that decodes as base64 JSON but holds what the service never issues is refused
    before any query runs."""
    assert refused(forge(forged), kind, keys).startswith("Cursor ")


@pytest.mark.parametrize(
    "token", ["!!", "", "e30", "=" * 8, "\u00e9t\u00e9", "a" * 5, "%00", "\x00", "W10"]
)
def test_a_token_that_is_not_base64_json_is_a_400_on_cursor(token: str) -> None:
    """Junk, non-ASCII and NUL in the token itself are refused the same way."""
    refused(token, "timeline", TIMELINE)


def test_a_long_token_is_a_400_on_cursor() -> None:
    """No cursor the service issues is near 2,048 characters; a longer token is not decoded."""
    assert "longer than 2048" in refused(
        forge(["timeline", TIME, ["a" * 2000, "c"]]), "timeline", TIMELINE
    )


def test_a_deeply_nested_token_is_a_400_on_cursor() -> None:
    """JSON nested hundreds deep is refused like any other shape the service never issues (the
    typed decoder stops at the first value of the wrong type, so it never recurses that far)."""
    for deep in (b"[" * 700 + b"]" * 700, b'["timeline", "' + TIME.encode() + b'", ' + b"[" * 700):
        refused(base64.urlsafe_b64encode(deep).decode(), "timeline", TIMELINE)
