"""Opaque keyset cursors: the sort key of the last item served, so clients need not parse it.

A cursor is not signed but strictly validated. Everything in it is a bound in the WHERE clause of
a query the client may run anyway (a public listing, or one its key already allows), so a forged
cursor can only start a page somewhere the client could have paged to; what it must never do is
carry a value the query cannot take (a non-number, NUL, a time PostgreSQL cannot hold) and turn
into a 500. Validation needs no secret, so every query process, whatever its age, reads every
other's cursors, and no key has to be shared, rotated or kept out of logs.
"""

import base64
import binascii
import re
from collections.abc import Sequence
from datetime import UTC
from typing import Literal

import msgspec

from events.fields import ID_PATTERN, Timestamp
from services.query.read_errors import InvalidCursor


class Cursor(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    """Where the next page starts: after (time, keys...) in the order named by `kind`."""

    kind: str
    time: Timestamp
    keys: list[str]


KeyKind = Literal["id", "int", "flag"]
"""What one key of a cursor holds: an id, an integer column's value, or a boolean as 0 or 1."""

_decoder = msgspec.json.Decoder(Cursor)
_encoder = msgspec.json.Encoder()
_ID = re.compile(ID_PATTERN)
_INT = re.compile(r"-?[0-9]{1,10}")
_INT32 = range(-(2**31), 2**31)
_MAX_TOKEN = 2048


def encode_cursor(cursor: Cursor) -> str:
    """An URL-safe token for `cursor`."""
    return base64.urlsafe_b64encode(_encoder.encode(cursor)).decode().rstrip("=")


def decode_cursor(token: str, kind: str, keys: Sequence[KeyKind]) -> Cursor:
    """Read a token back; InvalidCursor unless it came from the same listing and order and every
    key is what that listing issues (`keys`, in order)."""
    if len(token) > _MAX_TOKEN:
        raise InvalidCursor(f"is longer than {_MAX_TOKEN} characters")
    try:
        cursor = _decoder.decode(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        # Comparisons are on instants; UTC also proves the instant exists (year 1 at +14:00
        # does not, and asyncpg would fail converting it).
        cursor = msgspec.structs.replace(cursor, time=cursor.time.astimezone(UTC))
    except (binascii.Error, ValueError, OverflowError, msgspec.DecodeError) as error:
        raise InvalidCursor("is not a cursor this service issued") from error
    if cursor.kind != kind or len(cursor.keys) != len(keys):
        raise InvalidCursor(f"was issued for another listing or order than {kind!r}")
    for position, (key, expected) in enumerate(zip(cursor.keys, keys, strict=True)):
        if not _valid(key, expected):
            raise InvalidCursor(f"key {position} is not the {expected} this listing issues")
    return cursor


def _valid(key: str, kind: KeyKind) -> bool:
    match kind:
        case "id":
            return len(key) <= 128 and _ID.search(key) is not None
        case "int":
            return _INT.fullmatch(key) is not None and int(key) in _INT32
        case "flag":
            return key in ("0", "1")
