"""An XML export read as a stream of its records, in bounded memory, repaired where it can be.

Disqus and WordPress exports are one XML document of up to hundreds of megabytes (AVC.com's
Disqus export: 397 MB), gzipped or not (Disqus sends it gzipped). They are read with a pull
parser fed in chunks; each record (an element at a given depth: a Disqus <thread> or <post>, a
WordPress <item>) is handed over when it ends and then dropped, so memory holds a chunk's
records at a time whatever the file's size.

Exports carry characters XML 1.0 forbids (Disqus's hold 0x1C and 0x1F, literally or as `&#x1C;`)
and expat refuses the whole file over one of them. They are removed from the bytes before the
parser sees them, each reported with its line. The filter works on bytes: in UTF-8 and the
single-byte encodings an export may declare, these bytes are never part of another character.
"""

import gzip
import io
import re
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import cast

from importers.source import SourceProblem, open_maybe_gzipped

CHUNK = 1 << 16
"""Bytes fed to the parser at a time. The parser builds every record a chunk holds before
they are handed over: 1 MiB chunks held some 16 MiB of records in flight, 64 KiB ones well
under 1 MiB, at the same speed."""

_INVALID_BYTE = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_INVALID_REFERENCE = re.compile(
    rb"&#(?:[xX]0*(?:[0-8bBcCeEfF]|1[0-9a-fA-F])|0*(?:[0-8]|1[124-9]|2[0-9]|3[01]));"
)
# A reference to a forbidden character cut by a chunk's end is held back for the next chunk
# when it starts this close to the end ("&#x001F;" is 8; absurdly zero-padded ones are not).
_LONGEST_REFERENCE = 16
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


class _LocalNames(dict[str, str]):
    """ "{http://disqus.com}post" -> "post", each tag worked out once (a file has a few dozen).
    The readers match elements by local name: namespaces vary between versions of a format."""

    def __missing__(self, tag: str) -> str:
        name = self[tag] = tag.rpartition("}")[2]
        return name


LOCAL_NAMES = _LocalNames()


Piece = tuple[bytes, SourceProblem | None]
"""Bytes for the parser, and the problem met right after them (a character removed), if any."""


class _Repair:
    """The stream's bytes, a chunk at a time, without the characters XML forbids: each chunk is
    cut where one was removed, so that its problem is reported in its place in the stream."""

    def __init__(self) -> None:
        self.line = 1
        """The line the next chunk starts on."""

    def chunks(self, stream: io.BufferedIOBase) -> Iterator[list[Piece]]:
        first = stream.read(CHUNK)
        if first.startswith(_UTF16_BOMS):
            # Two-byte units: a zero byte is half of most characters; expat judges it alone.
            chunk = first
            while chunk:
                yield [(chunk, None)]
                chunk = stream.read(CHUNK)
            return
        carried = b""
        chunk = first
        while chunk or carried:
            data = carried + chunk
            carried = b""
            if chunk:
                amp = data.rfind(b"&", len(data) - _LONGEST_REFERENCE)
                if amp != -1 and b";" not in data[amp:]:
                    data, carried = data[:amp], data[amp:]
            if _INVALID_BYTE.search(data) or (b"&#" in data and _INVALID_REFERENCE.search(data)):
                yield _cut(data, self.line)
            else:
                yield [(data, None)]
            self.line += data.count(b"\n")
            chunk = stream.read(CHUNK) if chunk else b""


def _cut(data: bytes, line: int) -> list[Piece]:
    """`data` in pieces between the forbidden characters, each with the problem it ends on."""
    found = [(match.start(), match.end()) for match in _INVALID_BYTE.finditer(data)]
    found += [(match.start(), match.end()) for match in _INVALID_REFERENCE.finditer(data)]
    found.sort()
    pieces: list[Piece] = []
    position = 0
    for start, end in found:
        line += data.count(b"\n", position, start)
        what = data[start:end]
        shown = what.decode("ascii") if what.startswith(b"&") else f"U+{what[0]:04X}"
        problem = SourceProblem(
            where=f"line {line}",
            code="invalid_xml_char",
            detail=f"character {shown} is not allowed in XML 1.0; removed",
        )
        pieces.append((data[position:start], problem))
        position = end
    pieces.append((data[position:], None))
    return pieces


def _fatal(error: ET.ParseError, at_end: bool) -> SourceProblem:
    line, column = error.position
    message = str(error).rsplit(": line ", 1)[0]
    if at_end:
        return SourceProblem(
            where=f"line {line}",
            code="truncated_file",
            detail=(
                f"the file ends inside an element ({message}, line {line} column {column}):"
                " it was cut short. What came before was read; export the file again"
            ),
            fatal=True,
        )
    return SourceProblem(
        where=f"line {line}",
        code="malformed_xml",
        detail=(
            f"the XML is broken at line {line} column {column}: {message}. What came before"
            " was read; repair the file (xmllint --recover shows where) or export it again"
        ),
        fatal=True,
    )


class _Walk:
    """Where the parser is in the tree, and the records that ended in the last chunk."""

    def __init__(self, depth: int) -> None:
        self.depth = depth
        self.level = 0
        """How many elements are open."""
        self.holder: ET.Element | None = None
        """The element that holds the records (the root, or <channel>)."""

    def ended(
        self, parser: "ET.XMLPullParser[ET.Element]"
    ) -> tuple[list[ET.Element], ET.ParseError | None]:
        """The records the parser finished since the last call, detached from their holder so
        that nothing keeps them once they are handled, and the error it stopped on, if any
        (XMLPullParser raises it from read_events, after the events before it)."""
        done: list[ET.Element] = []
        append = done.append
        depth = self.depth
        above = depth - 1
        # Locals, not attributes, in the loop: it runs for every element of the file.
        level = self.level
        holder = self.holder
        try:
            # Only "start" and "end" were asked for: each event is (name, element).
            for event, element in cast("Iterator[tuple[str, ET.Element]]", parser.read_events()):
                if event == "start":
                    if level == above:
                        holder = element
                    level += 1
                else:
                    level -= 1
                    if level == depth:
                        append(element)
        except ET.ParseError as error:
            return done, error
        self.level = level
        self.holder = holder
        if done and holder is not None:
            # Records begun in this chunk but not ended stay referenced by the parser.
            holder.clear()
        return done, None


def records(path: Path, depth: int) -> Iterator[ET.Element | SourceProblem]:
    """Each element `depth` levels below the root (1: the root's children) once it has ended,
    in file order, with the problems met on the way; a fatal problem ends the stream."""
    parser: ET.XMLPullParser[ET.Element] = ET.XMLPullParser(events=("start", "end"))
    walk = _Walk(depth)
    repair = _Repair()
    try:
        with open_maybe_gzipped(path) as stream:
            for pieces in repair.chunks(stream):
                for data, problem in pieces:
                    parser.feed(data)
                    done, error = walk.ended(parser)
                    yield from done
                    if error is not None:
                        yield _fatal(error, at_end=False)
                        return
                    if problem is not None:
                        yield problem
    except (EOFError, gzip.BadGzipFile, zlib.error) as error:
        # A gzip stream that stops before its end marker (EOFError) or whose bytes are damaged.
        yield from walk.ended(parser)[0]
        yield SourceProblem(
            where=f"line {repair.line}",
            code="truncated_file",
            detail=f"the gzip stream ends or breaks near line {repair.line} ({error}): it was cut"
            " short or is damaged. What came before was read; download the export again",
            fatal=True,
        )
        return
    try:
        parser.close()
    except ET.ParseError as error:
        yield from walk.ended(parser)[0]
        yield _fatal(error, at_end=True)
        return
    yield from walk.ended(parser)[0]
