"""The CloudEvents HTTP protocol binding, as ingest reads a POST: which content mode a request
is in, and the context attributes of binary mode out of its `ce-*` headers.

- `application/cloudevents+json`: structured mode, one event in the body;
- `application/cloudevents-batch+json`: batched mode, an array of structured events;
- any `ce-*` header (with `application/json` data, or no content type): binary mode, one event,
  its attributes in the headers (percent-encoded UTF-8, binding 3.1.3.2) and its data the body;
- `application/json` (or no content type) without them: one structured event or an array, as
  threadlog has always taken.

The events themselves are validated by `events.codec`, the same way in every mode.
"""

import re
from collections.abc import Iterable
from typing import Final
from urllib.parse import unquote_to_bytes

from events import Envelope, InvalidEvents, Limits, decode_binary_request, decode_request
from events.codec import Shape
from events.problems import Problem

_PREFIX: Final = b"ce-"
_STRUCTURED: Final[dict[str, Shape]] = {
    "application/cloudevents+json": "one",
    "application/cloudevents-batch+json": "many",
}
_DATA_TYPES: Final = ("application/json", "")
_BAD_ESCAPE = re.compile(rb"%(?![0-9A-Fa-f]{2})")

RawHeaders = Iterable[tuple[bytes, bytes]]
"""A request's headers as the ASGI scope holds them: lowercase names, values as sent."""


class UnsupportedMediaType(Exception):
    """The body is in a media type ingest does not read."""

    def __init__(self, media_type: str) -> None:
        super().__init__(
            f"Send events as application/json (one event, or an array; with ce-* headers, the"
            f" event's data in CloudEvents binary mode), application/cloudevents+json or"
            f" application/cloudevents-batch+json, not {media_type!r}."
        )


def media_type(headers: RawHeaders) -> str:
    """The request's media type, lowercase and without parameters; "" when it sent none."""
    for name, value in headers:
        if name == b"content-type":
            return value.decode("latin-1").split(";")[0].strip().lower()
    return ""


def decode_events(headers: RawHeaders, body: bytes, limits: Limits) -> list[Envelope]:
    """The events of a POST in whichever content mode it uses; raises what `events.codec`
    raises, and UnsupportedMediaType."""
    headers = list(headers)
    kind = media_type(headers)
    if kind in _STRUCTURED:
        return decode_request(body, limits, shape=_STRUCTURED[kind])
    if kind not in _DATA_TYPES:
        raise UnsupportedMediaType(kind)
    attributes = [(name, value) for name, value in headers if name.startswith(_PREFIX)]
    if not attributes:
        return decode_request(body, limits)
    return [decode_binary_request(binary_attributes(attributes), body, limits)]


def binary_attributes(headers: RawHeaders) -> dict[str, str]:
    """The context attributes of `ce-*` headers, percent-decoded; InvalidEvents naming each
    header that is not percent-encoded UTF-8, or sent twice."""
    attributes: dict[str, str] = {}
    problems: list[Problem] = []
    for name, value in headers:
        header = name.decode("latin-1")
        attribute = header[len(_PREFIX) :]
        if attribute in attributes:
            problems.append(Problem(0, header, "Sent twice; send each attribute once"))
        elif _BAD_ESCAPE.search(value):
            problems.append(
                Problem(0, header, "Invalid percent-encoding: % must be followed by two hex digits")
            )
        else:
            try:
                attributes[attribute] = unquote_to_bytes(value).decode()
            except UnicodeDecodeError:
                problems.append(Problem(0, header, "Not UTF-8 once percent-decoded"))
    if problems:
        raise InvalidEvents(problems)
    return attributes
