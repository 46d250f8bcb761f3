"""Hypothesis strategies for the hostile shapes a schema-driven fuzzer never makes: JSON nested
around and past the decoder's recursion limit, forged cursors, event times across every year and
zone offset, ids with trailing newlines and bodies of invisible characters."""

import base64
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

RECURSION_LIMIT = 1_000
"""Python's default; msgspec stops there, minus the frames the server already stands on."""

depths = st.sampled_from([1, 2, 3, 10, 100, 500, 800, 900, 950, 990, 1_000, 1_010, 1_500]) | (
    st.integers(1, 20_000)
)
"""Nesting depths, dense around the recursion limit where the stack beneath matters."""


@st.composite
def nested(draw: st.DrawFn, inner: bytes = b"1") -> tuple[int, bytes]:
    """(depth, JSON) of arrays, objects or both nested `depth` deep around `inner`."""
    depth = draw(depths)
    opener = draw(st.sampled_from([b"[", b'{"a": ', b'[{"a": ']))
    closer = {b"[": b"]", b'{"a": ': b"}", b'[{"a": ': b"}]"}[opener]
    return depth, opener * depth + inner + closer * depth


def event_with(field: str, raw: bytes) -> bytes:
    """A CommentPosted envelope whose `field` (envelope attribute, `data`, or `data.<name>`)
    holds the raw JSON `raw`."""
    data = {"article_id": "a1", "comment_id": "c1", "author_id": "u1", "body": "hi"}
    marker = "\u0000MARK\u0000"
    envelope: dict[str, Any] = {"type": "CommentPosted", "data": data}
    if field.startswith("data."):
        data[field.removeprefix("data.")] = marker
    else:
        envelope[field] = marker
    return json.dumps(envelope).encode().replace(json.dumps(marker).encode(), raw)


event_places = st.sampled_from(
    ["body", "batch", "data", "data.body", "data.article_id", "data.extra", "id", "time", "extra"]
)
"""Where in an events request the nesting goes."""


@st.composite
def deep_events(draw: st.DrawFn) -> tuple[int, bytes]:
    """(depth, body) of a POST /v1/events request with nesting somewhere in it."""
    depth, raw = draw(nested())
    place = draw(event_places)
    if place == "body":
        return depth, raw
    if place == "batch":
        return depth + 1, b"[" + event_with("source", b'"/x"') + b", " + raw + b"]"
    return depth + 2, event_with(place, raw)


@st.composite
def deep_mark_read(draw: st.DrawFn) -> tuple[int, bytes]:
    """(depth, body) of a mark-as-read request with nesting somewhere in it."""
    depth, raw = draw(nested(b'"e1"'))
    return draw(
        st.sampled_from(
            [
                (depth, raw),
                (depth + 1, b'{"ids": ' + raw + b"}"),
                (depth + 2, b'{"ids": [' + raw + b"]}"),
                (depth + 1, b'{"other": ' + raw + b"}"),
            ]
        )
    )


offsets = st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
any_time = st.datetimes(datetime(1, 1, 1), datetime(9999, 12, 31, 23, 59, 59), timezones=offsets)
"""Every instant a producer can write: year 1 to 9999, every offset PostgreSQL knows."""

near_now = st.integers(-3_600, 3_600).map(
    lambda s: datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=s)
)
"""Times around the upper bound of the sane range."""

_KEY_JUNK = [
    "",
    "NaN",
    "Infinity",
    "1e3",
    "0x10",
    " 3",
    "3 ",
    "-0",
    "2147483648",
    "-2147483649",
    "9" * 40,
    "c1\n",
    "c\u0000",
    "\u0000",
    "a b",
    "a" * 129,
    "'; select pg_sleep(5); --",
]
_VALID_KEYS = ["0", "1", "-1", "17", "2147483647", "c0", "c1", "r0", "fuzz-article", "fuzz-author"]

cursor_keys = st.lists(
    st.sampled_from(_VALID_KEYS + _KEY_JUNK)
    | st.text(max_size=12)
    | st.integers()
    | st.floats()
    | st.none()
    | st.lists(st.text(max_size=3), max_size=2),
    max_size=4,
)
cursor_times = (
    any_time.map(datetime.isoformat)
    | any_time.map(lambda t: t.replace(tzinfo=None).isoformat())
    | st.sampled_from(["2024-01-01T00:00:00Z", "2024-13-01T00:00:00Z", "now", ""])
    | st.integers()
    | st.none()
)


@st.composite
def _junk_cursor(draw: st.DrawFn, kind: str) -> bytes:
    """Cursor-like JSON that the listing never issues: another kind, a time from any year and
    zone (or none), keys of any kind and count, items missing or added, JSON cut short."""
    value: list[Any] = [
        draw(st.just(kind) | st.text(max_size=10)),
        draw(cursor_times),
        draw(cursor_keys),
    ]
    if draw(st.booleans()):
        value = value[: draw(st.integers(0, 2))] + draw(st.lists(st.integers(), max_size=2))
    raw = json.dumps(value).encode()
    return draw(st.sampled_from([raw, raw[:-1], raw + b"]"]))


_KEY_VALUES = {
    "id": st.from_regex(r"\A[A-Za-z0-9._:-]{1,128}\Z"),
    "int": st.integers(-(2**31), 2**31 - 1).map(str),
    "flag": st.sampled_from(["0", "1"]),
}


@st.composite
def _well_formed_cursor(draw: st.DrawFn, kind: str, keys: tuple[str, ...]) -> bytes:
    """A cursor of the listing's own shape with extreme values: any instant from year 1 to
    9999 in any zone, any id, integers to the column's bounds. It passes validation (or is
    refused for an instant UTC cannot hold) and its values reach the query."""
    time = draw(any_time).isoformat()
    return json.dumps([kind, time, [draw(_KEY_VALUES[key]) for key in keys]]).encode()


@st.composite
def _one_bad_value_cursor(draw: st.DrawFn, kind: str, keys: tuple[str, ...]) -> bytes:
    """The listing's own shape with each key from the valid values or the junk (a non-number,
    NUL, a newline, a number no column holds), and a time in or out of range: the forgeries
    that once reached the queries."""
    time = draw(
        st.sampled_from(["2024-01-01T00:00:00Z", "2030-06-01T12:00:00+14:00"]) | cursor_times
    )
    values = [draw(_KEY_VALUES[key] | st.sampled_from(_KEY_JUNK)) for key in keys]
    return json.dumps([kind, time, values]).encode()


def forged_cursors(kind: str, keys: tuple[str, ...]) -> st.SearchStrategy[str]:
    """Tokens as a client can forge them for the listing `kind` whose keys are `keys` (id, int,
    flag): of the listing's own shape with extreme values, or with some values wrong, or junk;
    as base64 whole, unpadded, with junk after it or cut short."""

    @st.composite
    def token(draw: st.DrawFn) -> str:
        raw = draw(
            _well_formed_cursor(kind, keys) | _one_bad_value_cursor(kind, keys) | _junk_cursor(kind)
        )
        whole = base64.urlsafe_b64encode(raw).decode()
        return draw(
            st.sampled_from([whole, whole.rstrip("="), whole.rstrip("="), whole + "!", whole[:9]])
        )

    return token()


INVISIBLE = (
    "\u200b\u200c\u200d\u2060\ufeff\u00ad\u061c\u180e\u2061\u2062\u2063\u2064\u206a"
    "\u3164\u115f\u1160\uffa0\u2800\ufe0f\u034f\U000e0001\U000e0020\x01\x7f \n\t\u00a0"
)
"""Characters that render as nothing: zero-width, format, fillers, selectors, controls, spaces."""

invisible = st.text(st.sampled_from(INVISIBLE), min_size=1, max_size=20)
"""Bodies that render as nothing."""

id_suffixes = st.sampled_from(["", "", "\n", "\r\n", "\r", " ", "\u200b", "\x00", "\t"])
"""What a hostile producer appends to an id; only the empty suffix keeps it an id."""
