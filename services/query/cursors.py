"""Opaque keyset cursors: the sort key of the last item served, so clients need not parse it."""

import base64
import binascii
from datetime import datetime

import msgspec

from services.errors import ApiError, ErrorDetail


class Cursor(msgspec.Struct, frozen=True, array_like=True):
    """Where the next page starts: after (time, keys...) in the order named by `kind`."""

    kind: str
    time: datetime
    keys: list[str]


_decoder = msgspec.json.Decoder(Cursor)
_encoder = msgspec.json.Encoder()


def encode_cursor(cursor: Cursor) -> str:
    """An URL-safe token for `cursor`."""
    return base64.urlsafe_b64encode(_encoder.encode(cursor)).decode().rstrip("=")


def decode_cursor(token: str, kind: str, keys: int) -> Cursor:
    """Read a token back; 400 `invalid_cursor` unless it came from the same listing and order."""
    try:
        cursor = _decoder.decode(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError, msgspec.DecodeError) as error:
        raise _invalid("is not a cursor this service issued") from error
    if cursor.kind != kind or len(cursor.keys) != keys:
        raise _invalid(f"was issued for another listing or order than {kind!r}")
    return cursor


def _invalid(why: str) -> ApiError:
    return ApiError(
        400,
        "invalid_cursor",
        f"The cursor {why}; pass the next_cursor of the previous page unchanged, or omit it.",
        [ErrorDetail(field="cursor", message=f"Cursor {why}")],
    )
