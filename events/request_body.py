"""A posted body, before its events are read: valid UTF-8, JSON, and of the expected shape.

`events.codec` validates each event; this only splits the body into the events, still raw.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final, Literal, TypeVar

import msgspec

from events.problems import MalformedRequest

_T = TypeVar("_T")

_batch_decoder = msgspec.json.Decoder(list[msgspec.Raw])
single_decoder = msgspec.json.Decoder(msgspec.Raw)
"""Any JSON value, left raw."""

Shape = Literal["one_or_many", "one", "many"]
"""What a posted body holds: one event or an array (plain JSON), one event (CloudEvents
structured mode, `application/cloudevents+json`), or an array (batched mode,
`application/cloudevents-batch+json`)."""


@contextmanager
def not_too_deep() -> Iterator[None]:
    try:
        yield
    except RecursionError as error:
        # msgspec descends nested arrays and objects recursively, up to Python's recursion limit
        # (minus the caller's own stack), and raises RecursionError past it. An event needs
        # three levels; nothing legitimate comes near.
        raise MalformedRequest(
            "Malformed JSON: nested too deeply to decode; an event is an object of objects,"
            " three levels at most"
        ) from error


def read_json(body: bytes, decoder: msgspec.json.Decoder[_T]) -> _T:
    try:
        body.decode()
    except UnicodeDecodeError as error:
        # Checked first: msgspec reports invalid UTF-8 inside strings as UnicodeDecodeError.
        raise MalformedRequest(f"Malformed JSON: invalid UTF-8 at byte {error.start}") from error
    try:
        return decoder.decode(body)
    except msgspec.ValidationError as error:
        raise MalformedRequest(f"Expected a JSON object or array: {error}") from error
    except msgspec.DecodeError as error:
        raise MalformedRequest(f"Malformed JSON: {error}") from error


_SHAPES: Final[dict[Shape, tuple[bytes, ...]]] = {
    "one_or_many": (b"{", b"["),
    "one": (b"{",),
    "many": (b"[",),
}
_SHAPE_NAMES: Final[dict[Shape, str]] = {
    "one_or_many": "a JSON object (one event) or an array of events",
    "one": "a JSON object: application/cloudevents+json carries one event (post several as"
    " application/cloudevents-batch+json)",
    "many": "a JSON array of events (application/cloudevents-batch+json)",
}


def split(body: bytes, shape: Shape) -> list[msgspec.Raw]:
    """The events of a body, each still raw, once the body is JSON of the expected shape."""
    stripped = body.lstrip()
    if not stripped.startswith(_SHAPES[shape]):
        read_json(body, single_decoder)  # malformed JSON is said as such first
        raise MalformedRequest(f"Expected {_SHAPE_NAMES[shape]}")
    if stripped.startswith(b"["):
        return read_json(stripped, _batch_decoder)
    return [read_json(stripped, single_decoder)]
