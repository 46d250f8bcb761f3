"""Reads a Commento or Commento++ export (JSON, gzipped as Commento mails it, or not).

The export is one JSON object (souramoo/commentoplusplus: api/domain_export.go, comment.go,
commenter.go): `{"version": 1, "comments": [...], "commenters": [...]}`. It holds one site, so
the file is decoded whole, leanly: each comment stays raw JSON (a view into the file's bytes)
until its turn, and of a commenter only the hex and the name are decoded; e-mail, link and photo
are skipped by the decoder and never reach a Python object.

What a comment says:
- `commentHex` is its id; `parentHex` is "root" at top level (Remark42's importer once read
  "root" as a parent id).
- `domain` + `url` name the page: `url` is a path only. The article key is domain + url; the
  article url is "https://" + domain + url, and the scheme is a guess (the export has none).
- `commenterHex` is "anonymous" for a guest (no author key); a named commenter's name is in
  `commenters`, which repeats a commenter once per comment (the export's SQL joins the two).
- `markdown` is kept as typed (`html` is empty in exports); `score` is a count without voters.
- `state`: approved -> visible, unapproved -> pending, flagged -> pending (see `_STATES`).
- `deleted` is always false: the export's query does not select it. Commento++ deletes in place
  instead (api/comment_delete.go): markdown "[deleted]", commenter "anonymous"; such a comment
  is read as deleted.
"""

import gzip
import io
import re
import zlib
from collections.abc import Generator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import msgspec

from importers.source import (
    SourceArticle,
    SourceComment,
    SourceItem,
    SourceProblem,
    Status,
    open_maybe_gzipped,
)

_STATES: dict[str, Status] = {
    "approved": "visible",
    "unapproved": "pending",
    # Flagged by Commento's spam (Akismet) or toxicity filter: no person has judged it, and
    # Commento shows it to moderators beside the unapproved ones, to approve or delete. Pending
    # keeps it in that queue here too; "spam" would let a false positive disappear unseen.
    "flagged": "pending",
}

_ANONYMOUS = "anonymous"
_DELETED_MARKDOWN = "[deleted]"

_BYTE = re.compile(r"\(byte (\d+)\)")
_PATH = re.compile(r"at `\$([^`]*)`")


class _Comment(msgspec.Struct, rename="camel"):
    """The fields of a comment the reader uses; `html` and `direction` are skipped."""

    comment_hex: str
    creation_date: str
    """Parsed here, not by the decoder, so that one bad date is one problem, not a fatal one."""
    # Go's `omitempty` drops an empty domain, url or state.
    domain: str = ""
    url: str = ""
    commenter_hex: str = _ANONYMOUS
    markdown: str = ""
    parent_hex: str = "root"
    score: int = 0
    state: str = "approved"
    deleted: bool = False


class _Commenter(msgspec.Struct, rename="camel"):
    commenter_hex: str = ""
    name: str | None = None


class _Export(msgspec.Struct):
    version: int
    # Raw: views into the file's bytes, each decoded when its turn comes. The commenters too:
    # the export repeats each once per comment, and only the distinct names are worth keeping.
    comments: list[msgspec.Raw]
    commenters: list[msgspec.Raw] | None = None


_EXPORT = msgspec.json.Decoder(_Export)
_COMMENT = msgspec.json.Decoder(_Comment)
_COMMENTER = msgspec.json.Decoder(_Commenter)
_CHUNK = 1 << 20

T = TypeVar("T")


def read(path: Path) -> Iterator[SourceItem]:
    """The comments of the Commento export at `path` in file order, each page's article first.

    A file that cannot be read as a Commento export (missing, cut short, malformed, another
    shape or version) gives one fatal problem and nothing else."""
    export = yield from _load(path)
    if export is None:
        return
    names = yield from _names(export.commenters or [])
    seen: set[str] = set()
    for index, raw in enumerate(export.comments):
        comment = yield from _record(_COMMENT, raw, f"comments[{index}]", "comment")
        if comment is None:
            continue
        if not comment.comment_hex:
            yield SourceProblem(
                where=f"comments[{index}]",
                code="bad_record",
                detail="commentHex is empty: comment skipped",
            )
            continue
        key = comment.domain + comment.url
        if not key:
            yield SourceProblem(
                where=f"comment {comment.comment_hex}",
                code="missing_url",
                detail="it names neither domain nor url: comment skipped",
            )
            continue
        if key not in seen:
            seen.add(key)
            url = f"https://{key}" if comment.domain else None
            yield SourceArticle(key=key, url=url)
        yield from _comment(comment, key, names)


def _load(path: Path) -> Generator[SourceProblem, None, _Export | None]:
    """The decoded export (the generator's return value), or one fatal problem and None."""
    try:
        with open_maybe_gzipped(path) as stream:
            data = _read_all(stream)
    except EOFError:
        yield _fatal("file", "truncated_file", f"{path} ends before its gzip stream does")
        return None
    except (gzip.BadGzipFile, zlib.error) as error:
        yield _fatal("file", "bad_gzip", f"{path} is not a readable gzip file: {error}")
        return None
    except OSError as error:
        yield _fatal("file", "unreadable_file", f"cannot read {path}: {error}")
        return None
    decoded = _decoded_export(path, data)
    if isinstance(decoded, SourceProblem):
        yield decoded
        return None
    export = decoded
    if export.version != 1:
        yield _fatal(
            "$.version",
            "unsupported_version",
            f"export version {export.version}; only version 1 (Commento, Commento++) is known",
        )
        return None
    return export


def _read_all(stream: io.BufferedIOBase) -> bytearray:
    """The whole stream in one buffer grown in place (a large block is remapped, not copied):
    `read()` of a gzip stream joins its chunks at the end, the export twice in memory."""
    data = bytearray()
    while chunk := stream.read(_CHUNK):
        data += chunk
    return data


def _decoded_export(path: Path, data: bytearray) -> _Export | SourceProblem:
    """The export (its records still raw), or the fatal problem that stops it."""
    try:
        return _EXPORT.decode(data)
    except msgspec.ValidationError as error:
        path_in_json = _PATH.search(str(error))
        return _fatal(
            f"${path_in_json.group(1)}" if path_in_json else "$",
            "not_commento",
            f"not a Commento export: {error}",
        )
    except msgspec.DecodeError as error:
        message = str(error)
        if message == "Input data was truncated":
            return _fatal("end of file", "truncated_file", f"{path} ends inside its JSON: {error}")
        byte = _BYTE.search(message)
        return _fatal(_position(data, int(byte.group(1))) if byte else "file", "bad_json", message)


def _names(commenters: list[msgspec.Raw]) -> Generator[SourceProblem, None, dict[str, str | None]]:
    """Each distinct commenter's name (the generator's return value), by commenter hex."""
    names: dict[str, str | None] = {}
    seen: set[bytes] = set()
    for index, raw in enumerate(commenters):
        record = bytes(raw)
        if record in seen:  # the same commenter again: comparing bytes is cheaper than decoding
            continue
        seen.add(record)
        commenter = yield from _record(_COMMENTER, raw, f"commenters[{index}]", "commenter")
        if commenter is not None:
            names.setdefault(commenter.commenter_hex, commenter.name or None)
    return names


def _record(
    decoder: msgspec.json.Decoder[T], raw: msgspec.Raw, where: str, kind: str
) -> Generator[SourceProblem, None, T | None]:
    """One record (the generator's return value), or None after a problem saying why not."""
    try:
        try:
            return decoder.decode(raw)
        except UnicodeDecodeError:
            # Records were kept raw, so their strings are first decoded (strictly) here.
            yield SourceProblem(
                where=where,
                code="invalid_utf8",
                detail=f"the {kind} is not all UTF-8: undecodable bytes replaced with U+FFFD",
            )
            return decoder.decode(bytes(raw).decode(errors="replace").encode())
    except msgspec.ValidationError as error:
        # msgspec's path is within the record ("$.score"): make it the file's.
        in_file = str(error).replace("`$", f"`$.{where}", 1)
        yield SourceProblem(where=where, code="bad_record", detail=f"{in_file}: {kind} skipped")
        return None


def _comment(comment: _Comment, key: str, names: dict[str, str | None]) -> Iterator[SourceItem]:
    where = f"comment {comment.comment_hex}"
    author_key: str | None = None
    author_name: str | None = None
    if comment.commenter_hex and comment.commenter_hex != _ANONYMOUS:
        author_key = comment.commenter_hex
        if author_key in names:
            author_name = names[author_key]
        else:
            yield SourceProblem(
                where=where,
                code="unknown_commenter",
                article_key=key,
                detail=f"commenter {author_key} is not in the export's commenters: no name",
            )
    if comment.deleted or (author_key is None and comment.markdown == _DELETED_MARKDOWN):
        status: Status = "deleted"
    elif (known := _STATES.get(comment.state)) is not None:
        status = known
    else:
        status = "pending"
        yield SourceProblem(
            where=where,
            code="unknown_state",
            article_key=key,
            detail=(
                f"state {comment.state!r} is not approved, unapproved or flagged: read as pending"
            ),
        )
    posted_at = _utc(comment.creation_date)
    if posted_at is None:
        yield SourceProblem(
            where=where,
            code="bad_date",
            article_key=key,
            detail=(
                f"creationDate {comment.creation_date!r} is not an RFC 3339 time:"
                " posted_at left empty"
            ),
        )
    yield SourceComment(
        article_key=key,
        id=comment.comment_hex,
        parent_id=None if comment.parent_hex in ("root", "") else comment.parent_hex,
        author_key=author_key,
        author_name=author_name,
        body=comment.markdown,
        posted_at=posted_at,
        status=status,
        score=comment.score or None,
    )


def _utc(text: str) -> datetime | None:
    """An RFC 3339 time as UTC (zone-less read as UTC), or None; Go's zero time is no time."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.year == 1:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _position(data: bytearray, offset: int) -> str:
    """msgspec's byte offset (from 0) as a line and column (from 1) too."""
    line = data.count(b"\n", 0, offset) + 1
    column = offset - (data.rfind(b"\n", 0, offset) + 1) + 1
    return f"line {line}, column {column} (byte {offset})"


def _fatal(where: str, code: str, detail: str) -> SourceProblem:
    return SourceProblem(where=where, code=code, detail=detail, fatal=True)
