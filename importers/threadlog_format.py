"""threadlog's own export format, both ways: a log record as a line, and a line as an envelope.

`threadlog export` writes the log as CloudEvents JSON Lines (structured mode): one event per
line, a JSON object holding every context attribute the record carries (each `ce_<name>` header
as `<name>`, `content-type` as `datacontenttype`), its values as the record's headers hold them,
and `data`, the record's value as it is. An attribute added to the log later (an extension such
as `importedfrom`) is exported without a change here, and a record of an older version keeps its
`dataschema` and its data, to be upcast where it is read, as on Kafka:

    {"specversion":"1.0","id":"demo-comment-1","type":"CommentPosted","source":"/demo/widget",
     "time":"2019-06-16T10:49:00+00:00","dataschema":"urn:threadlog:CommentPosted:1",
     "datacontenttype":"application/json","recordedtime":"2026-12-01T21:40:02.118+00:00",
     "producerkey":"cms","data":{"article_id":"...","comment_id":"c1",...}}

(one line in the file). A line is the record's binary mode turned into structured mode, so
reading one back is turning it into a record again and decoding that with
`events.codec.decode_record`: the one decoder every reader of the log uses, with its
validation, its upcasting and its checks of every time.

## The interface `threadlog import threadlog FILE` uses

    read_envelopes(path) -> Iterator[Envelope | SourceProblem]

Unlike the other formats' readers, which yield `importers.source` items for the plan to judge
and derive ids for, this one yields events already: each `Envelope` is the event as the
exporting installation's log held it (same id, time, recordedtime, source, data and extension
attributes). The pipeline appends them **verbatim**, in the file's order, each with
`events.encode_record(envelope)` (the key, value and headers of its record): no plan, no id
derivation, no `importedfrom` mark, no ingest rule. They were judged when their installation
first accepted them, and the worker decides by `recordedtime` (the log's clock), so it decides
each of them as it did there: the imported installation verifies to the same digest. The
file's order keeps every key's order (an export lists each partition in log order), which is
all the log needs; importing into a topic with another partition count is fine. Importing the
same file twice appends the events twice, and the projections apply each id once.

A `SourceProblem` names the line (`where="line 12"`) and says what is wrong (`code`):
`malformed_line` (not a JSON object), `bad_attribute` (an attribute that is not a string, or
whose name is not a CloudEvents name), `missing_data`, `invalid_event` (the record it makes is
not a valid event: the codec's message says which field), `line_too_long`. These are not
fatal: the line is skipped and the reader goes on. `truncated_file` (the last line is cut
short, or a gzipped file ends early) is fatal and comes last, and so is `sealed_line`: a line
whose `data` is still sealed (it carries `sealedwith`) under keys only the exporting
installation holds, which an export by this version never writes (it opens them). A gzipped
file is read as well.

Personal data: `threadlog export` writes personal fields in clear, and the importing
installation seals them again under its own keys (threadlog/import_log.py).
"""

import gzip
import io
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Final

import msgspec

from events import Envelope, UndecodableRecord, decode_record, encode_json
from events.sealing import SEALED_HEADER
from importers.source import SourceProblem, open_maybe_gzipped

MAX_LINE_BYTES: Final = 8 * 1024 * 1024
"""Longer than any event can be (an article's 200,000-character body escaped as `\\uXXXX` is
1.2 MB): a longer line is refused without holding more of it than this."""

_CONTENT_TYPE: Final = "content-type"


class _UsualLine(msgspec.Struct, forbid_unknown_fields=True):
    """A line holding only the attributes our records carry: read in one decode. A line with
    any other attribute is read attribute by attribute (`_attributes`), so none is lost."""

    data: msgspec.Raw
    specversion: str | None = None
    id: str | None = None
    type: str | None = None
    source: str | None = None
    time: str | None = None
    dataschema: str | None = None
    datacontenttype: str | None = None
    recordedtime: str | None = None
    producerkey: str | None = None
    importedfrom: str | None = None


_HEADERS: Final = tuple(
    (name, _CONTENT_TYPE if name == "datacontenttype" else f"ce_{name}")
    for name in _UsualLine.__struct_fields__
    if name != "data"
)
_usual = msgspec.json.Decoder(_UsualLine)
_attributes = msgspec.json.Decoder(dict[str, msgspec.Raw])
_text = msgspec.json.Decoder(str)


def record_line(headers: Sequence[tuple[str, bytes]], value: bytes) -> bytes:
    """The export line of a decodable record (its headers and value), newline included."""
    line: dict[str, object] = {}
    for name, raw in headers:
        if name[:3] == "ce_":
            line[name[3:]] = raw.decode()  # decode_record has refused a header not UTF-8
        elif name == _CONTENT_TYPE:
            line["datacontenttype"] = raw.decode(errors="replace")
    if b"\n" in value or b"\r" in value:
        # A producer's pretty-printed JSON is valid data, but one event must stay one line.
        value = msgspec.json.format(value, indent=0)
    line["data"] = msgspec.Raw(value)
    return encode_json(line) + b"\n"


def _lines(stream: io.BufferedIOBase) -> Iterator[tuple[int, bytes | None, bool]]:
    """(number, line without its end or None when too long, whether it ended in a newline)."""
    number = 0
    while True:
        line = stream.readline(MAX_LINE_BYTES)
        if not line:
            return
        number += 1
        complete = line.endswith(b"\n")
        if not complete and len(line) == MAX_LINE_BYTES:
            while (rest := stream.readline(MAX_LINE_BYTES)) and not rest.endswith(b"\n"):
                pass
            yield number, None, True
            continue
        yield number, line.rstrip(b"\r\n"), complete


def _problem(number: int, code: str, detail: str, *, fatal: bool = False) -> SourceProblem:
    return SourceProblem(where=f"line {number}", code=code, detail=detail, fatal=fatal)


def _envelope(number: int, line: bytes) -> Envelope | SourceProblem:
    """The event of one complete, non-blank line, or what is wrong with it."""
    try:
        usual = _usual.decode(line)
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError):
        return _any_envelope(number, line)
    headers = [
        (header, value.encode())
        for name, header in _HEADERS
        if (value := getattr(usual, name)) is not None
    ]
    return _decoded(number, headers, bytes(usual.data))


def _decoded(
    number: int, headers: list[tuple[str, bytes]], data: bytes
) -> Envelope | SourceProblem:
    if any(name == SEALED_HEADER for name, _ in headers):
        detail = (
            "the event's data is sealed under the exporting installation's keys, which this"
            " one does not hold; export again with `threadlog export` of this version, which"
            " writes it in clear"
        )
        return _problem(number, "sealed_line", detail, fatal=True)
    try:
        return decode_record(headers, data)
    except UndecodableRecord as error:
        return _problem(number, "invalid_event", f"{error}; line skipped")


def _any_envelope(number: int, line: bytes) -> Envelope | SourceProblem:
    """`_envelope` for a line with attributes beyond the usual ones, or a line that is wrong:
    each attribute read and checked on its own, so that a problem names the one at fault."""
    try:
        fields = _attributes.decode(line)
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError) as error:
        return _problem(number, "malformed_line", f"not a JSON object: {error}; line skipped")
    if "data" not in fields:
        return _problem(number, "missing_data", "the event has no `data`; line skipped")
    headers: list[tuple[str, bytes]] = []
    for name, raw in fields.items():
        if name == "data":
            continue
        if not (name.isascii() and name.isalnum() and (name.islower() or name.isdigit())):
            detail = f"{name!r} is not a CloudEvents attribute name (a-z, 0-9); line skipped"
            return _problem(number, "bad_attribute", detail)
        try:
            text = _text.decode(raw)
        except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError):
            detail = f"`{name}` must be a string, got {bytes(raw)[:80]!r}; line skipped"
            return _problem(number, "bad_attribute", detail)
        if name == "datacontenttype":
            headers.append((_CONTENT_TYPE, text.encode()))
        else:
            headers.append((f"ce_{name}", text.encode()))
    return _decoded(number, headers, bytes(fields["data"]))


def read_envelopes(path: Path) -> Iterator[Envelope | SourceProblem]:
    """The events of an export file, verbatim, and a problem for each line that is not one
    (see the module doc for what the pipeline does with them)."""
    number = 0
    with open_maybe_gzipped(path) as stream:
        try:
            for number, line, complete in _lines(stream):
                if line is None:
                    detail = f"longer than {MAX_LINE_BYTES:,} bytes, more than any event; skipped"
                    yield _problem(number, "line_too_long", detail)
                    continue
                if not line.strip():
                    continue
                found = _envelope(number, line)
                if isinstance(found, SourceProblem) and found.fatal:
                    yield found
                    return
                if not complete and isinstance(found, SourceProblem):
                    yield _problem(
                        number,
                        "truncated_file",
                        "the last line is cut short (the export did not finish, or the copy"
                        f" is incomplete): {found.detail.removesuffix('; line skipped')};"
                        " export again or restore the whole file",
                        fatal=True,
                    )
                    return
                yield found
        except (EOFError, gzip.BadGzipFile) as error:
            yield _problem(
                number + 1,
                "truncated_file",
                f"the gzipped file ends early ({error}); every line before was read",
                fatal=True,
            )
