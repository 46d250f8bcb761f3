"""Reads an Isso database (its SQLite file, `dbpath` in isso.cfg) as articles and comments.

Isso has no export command, so this reads the file itself, read-only and immutable: it never
writes, locks or creates a journal beside it (stop Isso, or copy the file, before importing).
Rows are streamed through cursors in batches, whatever the file's size.

What the file holds (isso-comments/isso: isso/db/threads.py, comments.py, __init__.py):
- `threads(id, uri, title)`: `uri` is the page's path with its query string, not a URL; it is
  the article key, and `--map` maps it to an article id.
- `comments(tid, id, parent, created, modified, mode, remote_addr, text, author, email, website,
  likes, dislikes, voters, notification)`: `created`/`modified` are float Unix seconds; `mode` 1
  is visible, 2 pending, 4 deleted but kept for its replies (Isso empties its text and author);
  `text` is Markdown as typed.
- Since schema version 3, nesting is one level deep: the migration 2 -> 3 re-parented every reply
  to its top-level ancestor, so who answered whom below that is lost; `parent` is read as stored.

Never read: `email`, `website`, `remote_addr`, `voters` (a Bloom filter of voters' IP addresses)
and `notification`. The query does not select them, so they never leave the file.
"""

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

from importers.source import SourceArticle, SourceComment, SourceItem, SourceProblem, Status

MAX_VERSION = 5
"""The newest schema (`PRAGMA user_version`) this reader knows: Isso's `SQLite3.MAX_VERSION`."""

_BATCH = 1000

_RECOVER = (
    "the file is damaged, cut short or was copied while Isso wrote to it;"
    " `sqlite3 FILE .recover | sqlite3 NEW` may save the rest"
)

_MODES: dict[object, Status] = {1: "visible", 2: "pending", 4: "deleted"}

_REQUIRED = {
    "threads": ("id", "uri", "title"),
    "comments": (
        "tid", "id", "parent", "created", "modified", "mode", "text", "author", "likes", "dislikes",
    ),
}  # fmt: skip
"""The columns the reader selects, which every Isso schema version has."""

_THREADS_SQL = "SELECT id, uri, title FROM threads ORDER BY id"

# Row order (the primary key, so no sort): the plan puts parents first. A LEFT JOIN so that a
# comment whose thread is gone is reported rather than silently dropped.
_COMMENTS_SQL = (
    "SELECT c.id, c.tid, c.parent, c.created, c.modified, c.mode, c.text, c.author, c.likes,"
    " c.dislikes, t.uri FROM comments AS c LEFT JOIN threads AS t ON t.id = c.tid ORDER BY c.id"
)


class _Repaired(str):
    """Text that was not valid UTF-8, decoded with U+FFFD: the row it is in gets a problem."""

    __slots__ = ()


def _decode(raw: bytes) -> str:
    # Python's sqlite3 raises on invalid UTF-8 in the middle of a fetch, which would end the whole
    # read at one bad row; this decodes every text value instead and marks the repaired ones.
    try:
        return raw.decode()
    except UnicodeDecodeError:
        return _Repaired(raw.decode(errors="replace"))


class _Unreadable(Exception):
    """SQLite could not read on (a corrupt or truncated file) after `where`."""

    def __init__(self, where: str, error: sqlite3.Error) -> None:
        super().__init__(where, error)
        self.where = where
        self.error = error


def read(path: Path) -> Iterator[SourceItem]:
    """The threads, then the comments of the Isso database at `path`, as the file has them.

    A file that cannot be read as Isso's (missing, not SQLite, not Isso's tables, a newer schema,
    corrupt) ends with one fatal problem; everything yielded before it was read correctly."""
    try:
        # check_same_thread off: the shell may pull batches from a worker thread, one at a time.
        connection = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True, check_same_thread=False
        )
    except sqlite3.Error as error:
        yield _fatal("unreadable_file", f"cannot open {path}: {error}; is the path right?")
        return
    connection.text_factory = _decode
    with closing(connection):
        refused = _refusal(connection, path)
        if refused is not None:
            yield refused
            return
        wal = Path(f"{path}-wal")
        if wal.exists() and (size := wal.stat().st_size) > 0:
            # immutable=1 reads the main file only: commits still in the WAL would be missed.
            yield SourceProblem(
                where="file",
                code="wal_not_read",
                detail=(
                    f"{wal} holds {size} bytes of changes not yet written into the database;"
                    " they are not read. Stop Isso (or run `sqlite3 FILE 'PRAGMA wal_checkpoint'`)"
                    " and import again"
                ),
            )
        try:
            yield from _threads(connection)
            yield from _comments(connection)
        except _Unreadable as unreadable:
            yield SourceProblem(
                where=unreadable.where,
                code="corrupt_database",
                detail=f"SQLite could not read on: {unreadable.error}; {_RECOVER}",
                fatal=True,
            )


def _fatal(code: str, detail: str) -> SourceProblem:
    return SourceProblem(where="file", code=code, detail=detail, fatal=True)


def _refusal(connection: sqlite3.Connection, path: Path) -> SourceProblem | None:
    """Why the file is not an Isso database this reader can read, or None when it is."""
    try:
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        missing = [
            f"{table}.{column}"
            for table, columns in _REQUIRED.items()
            for present in [{row[1] for row in connection.execute(f"PRAGMA table_info({table})")}]
            for column in columns
            if column not in present
        ]
    except sqlite3.DatabaseError as error:
        if error.sqlite_errorname == "SQLITE_NOTADB":
            return _fatal(
                "not_sqlite",
                f"{path} is not an SQLite database ({error}); Isso's is the file named by"
                " `dbpath` in isso.cfg",
            )
        return _fatal("corrupt_database", f"{path}: {error}; {_RECOVER}")
    if missing:
        return _fatal(
            "not_isso",
            f"{path} is an SQLite database but not Isso's: it lacks {', '.join(sorted(missing))}",
        )
    if version > MAX_VERSION:
        return _fatal(
            "unsupported_version",
            f"{path} has Isso schema version {version}, newer than the {MAX_VERSION} this reader"
            " knows: its columns may mean something else. Please report it with Isso's version",
        )
    return None


def _rows(cursor: sqlite3.Cursor) -> Iterator[tuple[object, ...]]:
    """The cursor's rows, a batch at a time (never the whole table in memory)."""
    while batch := cursor.fetchmany(_BATCH):
        yield from batch


def _threads(connection: sqlite3.Connection) -> Iterator[SourceItem]:
    last = "the first thread"
    try:
        for thread_id, uri, title in _rows(connection.execute(_THREADS_SQL)):
            last = f"after thread {thread_id}"
            yield from _thread(thread_id, uri, title)
    except sqlite3.DatabaseError as error:
        raise _Unreadable(last, error) from error


def _thread(thread_id: object, uri: object, title: object) -> Iterator[SourceItem]:
    where = f"thread {thread_id}"
    if not isinstance(uri, str) or not uri:
        yield SourceProblem(where=where, code="missing_uri", detail="it has no uri: skipped")
        return
    if type(uri) is _Repaired or type(title) is _Repaired:
        yield SourceProblem(
            where=where,
            code="invalid_utf8",
            article_key=uri,
            detail="uri or title is not UTF-8: undecodable bytes replaced with U+FFFD",
        )
    yield SourceArticle(key=uri, title=title if isinstance(title, str) and title else None)


def _comments(connection: sqlite3.Connection) -> Iterator[SourceItem]:
    last = "the first comment"
    try:
        for row in _rows(connection.execute(_COMMENTS_SQL)):
            last = f"after comment {row[0]}"
            yield from _comment(*row)
    except sqlite3.DatabaseError as error:
        raise _Unreadable(last, error) from error


def _comment(
    comment_id: object,
    thread_id: object,
    parent: object,
    created: object,
    modified: object,
    mode: object,
    text: object,
    author: object,
    likes: object,
    dislikes: object,
    uri: object,
) -> Iterator[SourceItem]:
    where = f"comment {comment_id}"
    if not isinstance(uri, str) or not uri:
        yield SourceProblem(
            where=where,
            code="missing_thread",
            detail=(
                f"its thread {thread_id} is not in the threads table or has no uri: comment skipped"
            ),
        )
        return
    status = _MODES.get(mode)
    if status is None:
        status = "pending"  # Isso itself shows a comment only for modes 1 and 4
        yield SourceProblem(
            where=where,
            code="unknown_mode",
            article_key=uri,
            detail=(
                f"mode is {mode!r}, not 1 (visible), 2 (pending) or 4 (deleted): read as pending"
            ),
        )
    if type(text) is _Repaired or type(author) is _Repaired:
        yield SourceProblem(
            where=where,
            code="invalid_utf8",
            article_key=uri,
            detail="text or author is not UTF-8: undecodable bytes replaced with U+FFFD",
        )
    posted_at = _utc(created)
    if posted_at is None:
        yield _bad_date(where, uri, "created", created, "posted_at")
    edited_at = None if modified is None else _utc(modified)
    if edited_at is None and modified is not None:
        yield _bad_date(where, uri, "modified", modified, "edited_at")
    # Isso has no accounts: the name as typed is all that tells authors apart (two guests who
    # typed the same name become one author). The e-mail is not a key: Isso never verifies
    # it, anyone can type anyone's, and a hash of an address is still the address to whoever
    # holds the secret.
    name = author.strip() if isinstance(author, str) else ""
    up = likes if isinstance(likes, int) else 0
    down = dislikes if isinstance(dislikes, int) else 0
    yield SourceComment(
        article_key=uri,
        id=str(comment_id),
        parent_id=None if parent is None else str(parent),
        author_key=name or None,
        author_name=name or None,
        # NULL before schema version 5; Isso's own migration made it "".
        body=text if isinstance(text, str) else "",
        posted_at=posted_at,
        status=status,
        edited_at=edited_at,
        score=None if up == 0 and down == 0 else up - down,
    )


def _utc(seconds: object) -> datetime | None:
    """Unix seconds (Isso's float) as a UTC time, or None for anything else."""
    if not isinstance(seconds, int | float):
        return None
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, ValueError, OSError):
        return None


def _bad_date(where: str, uri: str, column: str, value: object, field: str) -> SourceProblem:
    return SourceProblem(
        where=where,
        code="bad_date",
        article_key=uri,
        detail=f"{column} is {value!r}, not Unix seconds: {field} left empty",
    )
