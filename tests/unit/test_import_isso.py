"""The Isso reader: an Isso SQLite database, built here with Isso's own DDL, read back as items."""

import hashlib
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from importers import isso
from importers.source import SourceArticle, SourceComment, SourceProblem
from tests.unit.import_items import only_fatal

# Isso's DDL as isso-comments/isso writes it (isso/db/threads.py, comments.py, preferences.py),
# schema version 5: `text` NOT NULL since the migration 4 -> 5.
_THREADS_DDL = (
    "CREATE TABLE IF NOT EXISTS threads ("
    "    id INTEGER PRIMARY KEY, uri VARCHAR(256) UNIQUE, title VARCHAR(256))"
)
_COMMENTS_DDL = """
    CREATE TABLE IF NOT EXISTS comments (
        tid REFERENCES threads(id),
        id INTEGER PRIMARY KEY,
        parent INTEGER,
        created FLOAT NOT NULL,
        modified FLOAT,
        mode INTEGER,
        remote_addr VARCHAR,
        text VARCHAR {text_null},
        author VARCHAR,
        email VARCHAR,
        website VARCHAR,
        likes INTEGER DEFAULT 0,
        dislikes INTEGER DEFAULT 0,
        voters BLOB NOT NULL,
        notification INTEGER DEFAULT 0
    );
"""
_PREFERENCES_DDL = "CREATE TABLE IF NOT EXISTS preferences (key VARCHAR PRIMARY KEY, value VARCHAR)"
_TRIGGER = (
    "CREATE TRIGGER IF NOT EXISTS remove_stale_threads AFTER DELETE ON comments BEGIN"
    "    DELETE FROM threads WHERE id NOT IN (SELECT tid FROM comments); END"
)

_COLUMNS = (
    "tid, id, parent, created, modified, mode, remote_addr, text, author, email, website,"
    " likes, dislikes, voters"
)


def _isso_db(
    path: Path,
    threads: Sequence[tuple[object, ...]],
    comments: Sequence[tuple[object, ...]],
    version: int = 5,
) -> Path:
    """An Isso database at `path`: threads (id, uri, title), comments in the column order above."""
    text_null = "NOT NULL" if version >= 5 else ""
    with sqlite3.connect(path) as connection:
        connection.execute(_THREADS_DDL)
        connection.execute(_COMMENTS_DDL.format(text_null=text_null))
        connection.execute(_PREFERENCES_DDL)
        connection.execute(_TRIGGER)
        connection.execute("INSERT INTO preferences VALUES ('session-key', 'c0ffee')")
        connection.executemany("INSERT INTO threads (id, uri, title) VALUES (?, ?, ?)", threads)
        connection.executemany(
            f"INSERT INTO comments ({_COLUMNS}) VALUES ({', '.join('?' * 14)})", comments
        )
        connection.execute(f"PRAGMA user_version = {version}")
    connection.close()
    return path


_BLOOM = b"\x00" * 256  # Isso's voters column: a Bloom filter of voters' IP addresses


def _row(
    tid: object,
    id: int,
    created: object,
    text: object = "x",
    *,
    parent: int | None = None,
    modified: object = None,
    mode: object = 1,
    author: object = None,
    email: object = None,
    website: object = None,
    remote_addr: object = None,
    likes: object = 0,
    dislikes: object = 0,
) -> tuple[object, ...]:
    """A comments row in the column order of `_COLUMNS`."""
    return (
        tid, id, parent, created, modified, mode, remote_addr, text, author, email, website,
        likes, dislikes, _BLOOM,
    )  # fmt: skip


def _at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def test_reads_every_nasty_case_exactly(tmp_path: Path) -> None:
    """Each thread and comment comes out converted, in row order (a reply before its parent
    stays before it: the plan orders), with no e-mail, website or IP address anywhere; missing
    e-mail and author, NULL counts and an unknown mode do not crash the reader."""
    threads = [
        (1, "/blog/hello?lang=en", "Hello, <world>"),
        (2, "/blog/ünïcode/", None),
    ]
    comments = [
        # A reply stored before its parent (id 3): row order is kept.
        _row(1, 1, 1700000000.25, "Reply **first**", parent=3, author="Bob",
             website="https://bob.example", remote_addr="10.0.0.0", likes=2),
        # A pending comment whose text looks like HTML: Markdown as typed, kept verbatim.
        _row(1, 2, 1700000001.5, "<script>alert(1)</script> & <b>not html</b>", mode=2,
             author="  Zoë 🚀 ", likes=1, dislikes=3),
        # Deleted with a live reply (mode 4): Isso empties text and author but keeps the e-mail.
        _row(1, 3, 1699999999.5, "", modified=1700000100.75, mode=4, email="anna@example.org",
             remote_addr="10.0.0.0"),
        # Anonymous: no author, e-mail or website; NULL counts, NULL mode.
        _row(2, 4, 1700000200.0, "Anon\n\n> quoted", mode=None, likes=None, dislikes=None),
        # Likes and dislikes that cancel out: a score of 0, not None.
        _row(2, 5, 1700000300.123456, "Ünïcödé ✓", parent=4, author="Anna",
             email="anna@example.org", likes=1, dislikes=1),
        # A thread that is not there.
        _row(99, 6, 1700000400.0, "lost", author="Carl"),
        # Dates that are not Unix seconds.
        _row(2, 7, "yesterday", "when?", modified="later", author="Dora"),
    ]  # fmt: skip
    path = _isso_db(tmp_path / "comments.db", threads, comments)

    items = list(isso.read(path))

    assert items == [
        SourceArticle(key="/blog/hello?lang=en", title="Hello, <world>"),
        SourceArticle(key="/blog/ünïcode/"),
        SourceComment(
            article_key="/blog/hello?lang=en",
            id="1",
            parent_id="3",
            author_key="Bob",
            author_name="Bob",
            body="Reply **first**",
            posted_at=_at(1700000000.25),
            score=2,
        ),
        SourceComment(
            article_key="/blog/hello?lang=en",
            id="2",
            author_key="Zoë 🚀",
            author_name="Zoë 🚀",
            body="<script>alert(1)</script> & <b>not html</b>",
            posted_at=_at(1700000001.5),
            status="pending",
            score=-2,
        ),
        SourceComment(
            article_key="/blog/hello?lang=en",
            id="3",
            body="",
            posted_at=_at(1699999999.5),
            status="deleted",
            edited_at=_at(1700000100.75),
        ),
        SourceProblem(
            where="comment 4",
            code="unknown_mode",
            article_key="/blog/ünïcode/",
            detail="mode is None, not 1 (visible), 2 (pending) or 4 (deleted): read as pending",
        ),
        SourceComment(
            article_key="/blog/ünïcode/",
            id="4",
            body="Anon\n\n> quoted",
            posted_at=_at(1700000200.0),
            status="pending",
        ),
        SourceComment(
            article_key="/blog/ünïcode/",
            id="5",
            parent_id="4",
            author_key="Anna",
            author_name="Anna",
            body="Ünïcödé ✓",
            posted_at=_at(1700000300.123456),
            score=0,
        ),
        SourceProblem(
            where="comment 6",
            code="missing_thread",
            detail="its thread 99 is not in the threads table or has no uri: comment skipped",
        ),
        SourceProblem(
            where="comment 7",
            code="bad_date",
            article_key="/blog/ünïcode/",
            detail="created is 'yesterday', not Unix seconds: posted_at left empty",
        ),
        SourceProblem(
            where="comment 7",
            code="bad_date",
            article_key="/blog/ünïcode/",
            detail="modified is 'later', not Unix seconds: edited_at left empty",
        ),
        SourceComment(
            article_key="/blog/ünïcode/",
            id="7",
            author_key="Dora",
            author_name="Dora",
            body="when?",
            posted_at=None,
        ),
    ]
    assert "anna@example.org" not in repr(items)
    assert "bob.example" not in repr(items)
    assert "10.0.0.0" not in repr(items)


def test_float_seconds_keep_their_fraction_in_utc(tmp_path: Path) -> None:
    """Isso's float seconds become UTC times to the microsecond."""
    path = _isso_db(
        tmp_path / "c.db",
        [(1, "/a", "A")],
        [_row(1, 1, 1700000000.123456, modified=1700000060.5)],
    )

    comment = list(isso.read(path))[1]

    assert isinstance(comment, SourceComment)
    assert comment.posted_at == datetime(2023, 11, 14, 22, 13, 20, 123456, tzinfo=UTC)
    assert comment.edited_at == datetime(2023, 11, 14, 22, 14, 20, 500000, tzinfo=UTC)


def test_an_older_schema_with_null_text_reads_as_empty(tmp_path: Path) -> None:
    """Before schema version 5 `text` could be NULL; it reads as "" (as Isso's migration does)."""
    path = _isso_db(
        tmp_path / "v4.db",
        [(1, "/a", None)],
        [_row(1, 1, 1.0, None, author="Eve")],
        version=4,
    )

    assert list(isso.read(path)) == [
        SourceArticle(key="/a"),
        SourceComment(
            article_key="/a",
            id="1",
            author_key="Eve",
            author_name="Eve",
            body="",
            posted_at=_at(1.0),
        ),
    ]


def test_invalid_utf8_is_replaced_and_reported(tmp_path: Path) -> None:
    """Text that is not UTF-8 does not stop the reader: it is repaired with U+FFFD and reported."""
    path = _isso_db(
        tmp_path / "c.db",
        [(1, "/a", None)],
        [_row(1, 1, 1.0, "ok", author="Eve")],
    )
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE comments SET text = CAST(X'6361666580' AS TEXT) WHERE id = 1")
    connection.close()

    assert list(isso.read(path)) == [
        SourceArticle(key="/a"),
        SourceProblem(
            where="comment 1",
            code="invalid_utf8",
            article_key="/a",
            detail="text or author is not UTF-8: undecodable bytes replaced with U+FFFD",
        ),
        SourceComment(
            article_key="/a",
            id="1",
            author_key="Eve",
            author_name="Eve",
            body="cafe\ufffd",
            posted_at=_at(1.0),
        ),
    ]


def test_a_thread_without_uri_is_reported_and_its_comments_skipped(tmp_path: Path) -> None:
    """A thread with no uri has no key to import under: it and its comments are reported."""
    path = _isso_db(
        tmp_path / "c.db",
        [(1, None, "Nameless")],
        [_row(1, 1, 1.0)],
    )

    assert list(isso.read(path)) == [
        SourceProblem(where="thread 1", code="missing_uri", detail="it has no uri: skipped"),
        SourceProblem(
            where="comment 1",
            code="missing_thread",
            detail="its thread 1 is not in the threads table or has no uri: comment skipped",
        ),
    ]


def test_a_file_that_is_not_sqlite_is_fatal(tmp_path: Path) -> None:
    """A file that is not an SQLite database gives one fatal problem, not an exception."""
    path = tmp_path / "comments.db"
    path.write_bytes(b"this is not a database\n" * 100)

    problem = only_fatal(isso.read(path))

    assert (problem.where, problem.code) == ("file", "not_sqlite")
    assert str(path) in problem.detail


def test_a_missing_file_is_fatal(tmp_path: Path) -> None:
    """A path with no file behind it gives one fatal problem, and creates no file."""
    path = tmp_path / "nowhere.db"

    problem = only_fatal(isso.read(path))

    assert problem.code == "unreadable_file"
    assert not path.exists()


def test_an_sqlite_file_that_is_not_isso_is_fatal(tmp_path: Path) -> None:
    """An SQLite database without Isso's tables and columns is refused by name."""
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE threads (id INTEGER PRIMARY KEY, uri TEXT)")
        connection.execute("CREATE TABLE posts (id INTEGER PRIMARY KEY)")
    connection.close()

    problem = only_fatal(isso.read(path))

    assert problem.code == "not_isso"
    assert problem.detail == (
        f"{path} is an SQLite database but not Isso's: it lacks comments.author,"
        " comments.created, comments.dislikes, comments.id, comments.likes, comments.mode,"
        " comments.modified, comments.parent, comments.text, comments.tid, threads.title"
    )


def test_a_newer_schema_version_is_fatal(tmp_path: Path) -> None:
    """A database written by a newer Isso (user_version above 5) is refused, not guessed at."""
    path = _isso_db(tmp_path / "c.db", [(1, "/a", None)], [], version=6)

    problem = only_fatal(isso.read(path))

    assert problem.code == "unsupported_version"
    assert "6" in problem.detail
    assert str(isso.MAX_VERSION) in problem.detail


def test_reading_leaves_the_file_untouched(tmp_path: Path) -> None:
    """The database is opened read-only: same bytes after, no journal or WAL file created."""
    path = _isso_db(
        tmp_path / "c.db",
        [(1, "/a", None)],
        [_row(1, 1, 1.0)],
    )
    before = hashlib.sha256(path.read_bytes()).hexdigest()

    assert len(list(isso.read(path))) == 2

    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.db"]


def test_a_pending_wal_file_is_reported(tmp_path: Path) -> None:
    """Changes still in a -wal file are not read (the file is opened immutable): it says so."""
    path = _isso_db(tmp_path / "c.db", [(1, "/a", None)], [])
    (tmp_path / "c.db-wal").write_bytes(b"\x00" * 4096)

    items = list(isso.read(path))

    assert items[0] == SourceProblem(
        where="file",
        code="wal_not_read",
        detail=(
            f"{path}-wal holds 4096 bytes of changes not yet written into the database;"
            " they are not read. Stop Isso (or run `sqlite3 FILE 'PRAGMA wal_checkpoint'`)"
            " and import again"
        ),
    )
    assert items[1:] == [SourceArticle(key="/a")]


def _many(path: Path) -> Path:
    rows = [_row(1, n, float(n), "x" * 500, author="A") for n in range(1, 3001)]
    return _isso_db(path, [(1, "/a", None)], rows)


def test_a_truncated_database_is_fatal(tmp_path: Path) -> None:
    """A database cut short (a copy that did not finish) gives one fatal problem, no exception."""
    path = _many(tmp_path / "c.db")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])

    problem = only_fatal(isso.read(path))

    assert problem.code == "corrupt_database"
    assert problem.detail.startswith(f"{path}: database disk image is malformed;")


def test_a_damaged_page_ends_the_read_with_a_fatal_problem(tmp_path: Path) -> None:
    """A page damaged halfway through: what could be read is yielded, then one fatal problem
    naming the last comment read; never an exception."""
    path = _many(tmp_path / "c.db")
    data = bytearray(path.read_bytes())
    middle = len(data) // 2 // 4096 * 4096
    data[middle : middle + 4096] = b"\xff" * 4096
    path.write_bytes(bytes(data))

    items = list(isso.read(path))

    *read, last = items
    assert isinstance(last, SourceProblem)
    assert (last.code, last.fatal) == ("corrupt_database", True)
    comments = [item for item in read if isinstance(item, SourceComment)]
    assert 0 < len(comments) < 3000
    assert len(comments) == len(read) - 1
    assert last.where == f"after comment {comments[-1].id}"


@pytest.mark.parametrize("version", [3, 4, 5])
def test_schema_versions_up_to_five_read(tmp_path: Path, version: int) -> None:
    """Versions 3 to 5 (nesting flattened, notification column, text NOT NULL) all read."""
    path = _isso_db(
        tmp_path / "c.db",
        [(1, "/a", "A")],
        [_row(1, 1, 1.0, author="Eve")],
        version=version,
    )

    assert [type(item).__name__ for item in isso.read(path)] == ["SourceArticle", "SourceComment"]


_WRITTEN_BY_ISSO = Path(__file__).parents[1] / "fixtures/import/isso/isso-0.14.0.db"


def test_reads_a_database_isso_itself_wrote() -> None:
    """A database Isso 0.14.0 wrote through its own code (tests/fixtures/import/isso) reads as
    Isso left it: the reply to a reply already re-parented to the top-level comment, the comment
    deleted with a reply as a tombstone without its author, its e-mail still in the row but not
    in what the reader yields, Isso's votes as a score."""
    post, other = "/blog/first-post/?lang=en", "/über/"

    items = list(isso.read(_WRITTEN_BY_ISSO))

    assert items == [
        SourceArticle(key=post, title="First post"),
        SourceArticle(key=other),
        SourceComment(
            article_key=post, id="1", body="", posted_at=_at(1700000000.123456),
            status="deleted", score=1,
        ),
        SourceComment(
            article_key=post, id="2", parent_id="1", body="anonymous reply, edited",
            posted_at=_at(1700000060.5), edited_at=_at(1700000400.5),
        ),
        SourceComment(
            article_key=post, id="3", parent_id="1", author_key="Boris", author_name="Boris",
            body="reply to the reply", posted_at=_at(1700000120.25), score=-1,
        ),
        SourceComment(
            article_key=post, id="4", author_key="Zoë 🚀", author_name="Zoë 🚀",
            body="<script>alert(1)</script>\n\n> waiting for a moderator",
            posted_at=_at(1700000180.0), status="pending",
        ),
        SourceComment(
            article_key=other, id="6", author_key="Émile", author_name="Émile", body="Ünïcödé ✓",
            posted_at=_at(1700000300.75),
        ),
    ]  # fmt: skip
    assert "example.org" not in repr(items)
    assert "198.51.100" not in repr(items)


def test_a_path_with_uri_characters_opens(tmp_path: Path) -> None:
    """The file is opened through a `file:` URI; a name with ?, #, % or spaces still opens (and
    not some other file the unescaped name would point at)."""
    path = _isso_db(tmp_path / "my comments?#%20.db", [(1, "/a", None)], [])

    assert list(isso.read(path)) == [SourceArticle(key="/a")]
