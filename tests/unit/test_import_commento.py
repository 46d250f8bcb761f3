"""The Commento reader: a Commento / Commento++ JSON export, gzipped or not, read back as items."""

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from importers import commento
from importers.source import SourceArticle, SourceComment, SourceItem, SourceProblem
from tests.unit.import_items import only_fatal

_ANNA = "a1ac58ed1146bd7fe3feff6a7276f73955c3bfd23cacee00e2e0a7a89b1a8c10"
_BORIS = "bd1290ab5c858cf2a05903c2a9a61fd63399c6635db38cc6597002195e22e061"
_GONE = "0f" * 32


def _comment(hex_: str, markdown: str, **fields: Any) -> dict[str, Any]:
    """One comment as Commento's export writes it (api/comment.go), html empty as in exports."""
    return {
        "commentHex": hex_,
        "domain": "example.com",
        "url": "/blog/post/1",
        "commenterHex": "anonymous",
        "markdown": markdown,
        "html": "",
        "parentHex": "root",
        "score": 0,
        "state": "approved",
        "creationDate": "2021-03-12T11:21:56Z",
        "direction": 0,
        "deleted": False,
    } | fields


def _commenter(hex_: str, name: str) -> dict[str, Any]:
    """One commenter as the export writes it, e-mail, link and photo included."""
    return {
        "commenterHex": hex_,
        "email": f"{name.lower()}@example.org",
        "name": name,
        "link": f"https://example.org/{name}",
        "photo": "https://secure.gravatar.com/avatar/0",
        "provider": "commento",
        "joinDate": "2021-03-19T19:27:25.954285Z",
        "isModerator": False,
    }


def _export() -> dict[str, Any]:
    comments = [
        # A reply before its parent in file order: file order is kept (the plan orders).
        _comment(
            "c2", "Great **reply**", parentHex="c1", commenterHex=_BORIS, score=-3,
            creationDate="2021-05-11T15:43:01.852651Z",
        ),
        # Markdown with HTML-looking text and unicode: kept verbatim.
        _comment(
            "c1", "<script>alert('x')</script> &amp; Ünïcödé 🚀\n\n> quote", commenterHex=_ANNA,
            score=2, creationDate="2021-03-17T14:09:47.722181+02:00",
        ),
        # An anonymous guest, waiting for a moderator, nanoseconds in its date.
        _comment(
            "c3", "guest", state="unapproved", creationDate="2021-03-18T00:00:00.123456789Z"
        ),
        # Flagged by the spam or toxicity filter: still waiting for a human, so pending.
        _comment("c4", "buy now", state="flagged", commenterHex=_ANNA),
        # Commento++ deletes in place: markdown "[deleted]", commenter anonymous, deleted false.
        _comment("c5", "[deleted]"),
        # A deleted flag set (the export never sets it; a hand-made file might).
        _comment("c6", "gone", deleted=True, commenterHex=_ANNA),
        # Another page; a commenter missing from "commenters"; a date that is no date.
        _comment(
            "c7", "elsewhere", url="/other?x=1", commenterHex=_GONE, creationDate="yesterday"
        ),
        # An unknown state and Go's zero time.
        _comment("c8", "odd", state="hidden", creationDate="0001-01-01T00:00:00Z"),
        # A record that does not fit: skipped with a problem, the rest still read.
        _comment("c9", "bad", score="many"),
    ]  # fmt: skip
    # The export joins commenters to comments: each commenter once per comment of theirs.
    commenters = [_commenter(_ANNA, "Anna"), _commenter(_BORIS, "Boris"), _commenter(_ANNA, "Anna")]
    return {"version": 1, "comments": comments, "commenters": commenters}


_POST = "example.com/blog/post/1"

_EXPECTED: list[SourceItem] = [
    SourceArticle(key=_POST, url="https://example.com/blog/post/1"),
    SourceComment(
        article_key=_POST, id="c2", parent_id="c1", author_key=_BORIS, author_name="Boris",
        body="Great **reply**", posted_at=datetime(2021, 5, 11, 15, 43, 1, 852651, tzinfo=UTC),
        score=-3,
    ),
    SourceComment(
        article_key=_POST, id="c1", author_key=_ANNA, author_name="Anna",
        body="<script>alert('x')</script> &amp; Ünïcödé 🚀\n\n> quote",
        posted_at=datetime(2021, 3, 17, 12, 9, 47, 722181, tzinfo=UTC), score=2,
    ),
    SourceComment(
        article_key=_POST, id="c3", body="guest", status="pending",
        posted_at=datetime(2021, 3, 18, 0, 0, 0, 123456, tzinfo=UTC),
    ),
    SourceComment(
        article_key=_POST, id="c4", author_key=_ANNA, author_name="Anna", body="buy now",
        status="pending", posted_at=datetime(2021, 3, 12, 11, 21, 56, tzinfo=UTC),
    ),
    SourceComment(
        article_key=_POST, id="c5", body="[deleted]", status="deleted",
        posted_at=datetime(2021, 3, 12, 11, 21, 56, tzinfo=UTC),
    ),
    SourceComment(
        article_key=_POST, id="c6", author_key=_ANNA, author_name="Anna", body="gone",
        status="deleted", posted_at=datetime(2021, 3, 12, 11, 21, 56, tzinfo=UTC),
    ),
    SourceArticle(key="example.com/other?x=1", url="https://example.com/other?x=1"),
    SourceProblem(
        where="comment c7", code="unknown_commenter", article_key="example.com/other?x=1",
        detail=f"commenter {_GONE} is not in the export's commenters: no name",
    ),
    SourceProblem(
        where="comment c7", code="bad_date", article_key="example.com/other?x=1",
        detail="creationDate 'yesterday' is not an RFC 3339 time: posted_at left empty",
    ),
    SourceComment(
        article_key="example.com/other?x=1", id="c7", author_key=_GONE, body="elsewhere",
        posted_at=None,
    ),
    SourceProblem(
        where="comment c8", code="unknown_state", article_key=_POST,
        detail="state 'hidden' is not approved, unapproved or flagged: read as pending",
    ),
    SourceProblem(
        where="comment c8", code="bad_date", article_key=_POST,
        detail="creationDate '0001-01-01T00:00:00Z' is not an RFC 3339 time: posted_at left empty",
    ),
    SourceComment(article_key=_POST, id="c8", body="odd", status="pending", posted_at=None),
    SourceProblem(
        where="comments[8]", code="bad_record",
        detail="Expected `int`, got `str` - at `$.comments[8].score`: comment skipped",
    ),
]  # fmt: skip


@pytest.mark.parametrize("gzipped", [False, True], ids=["plain", "gzipped"])
def test_reads_every_nasty_case_exactly(tmp_path: Path, gzipped: bool) -> None:
    """Each comment comes out converted, in file order, its article yielded before it, commenters
    deduplicated, "root" read as top level, no e-mail, link or photo anywhere; gzipped or not."""
    data = json.dumps(_export()).encode()
    path = tmp_path / "commento.json"
    path.write_bytes(gzip.compress(data) if gzipped else data)

    items = list(commento.read(path))

    assert items == _EXPECTED
    assert "example.org" not in repr(items)
    assert "gravatar" not in repr(items)


def test_malformed_json_is_fatal_at_its_byte(tmp_path: Path) -> None:
    """JSON that does not parse gives one fatal problem naming where msgspec stopped: its line,
    column and byte."""
    path = tmp_path / "commento.json"
    path.write_bytes(b'{"version": 1,\n "comments": [{"commentHex": "c1",, }]}')

    problem = only_fatal(commento.read(path))

    assert (problem.where, problem.code) == ("line 2, column 35 (byte 49)", "bad_json")
    assert problem.detail == "JSON is malformed: expected '\"' (byte 49)"


def test_a_truncated_gzip_is_fatal(tmp_path: Path) -> None:
    """A gzipped export cut short (a download that did not finish) gives one fatal problem."""
    data = gzip.compress(json.dumps(_export()).encode())
    path = tmp_path / "commento.json.gz"
    path.write_bytes(data[: len(data) // 2])

    problem = only_fatal(commento.read(path))

    assert (problem.where, problem.code) == ("file", "truncated_file")
    assert str(path) in problem.detail


def test_truncated_json_is_fatal(tmp_path: Path) -> None:
    """Plain JSON cut short: one fatal problem, not a partial import."""
    data = json.dumps(_export()).encode()
    path = tmp_path / "commento.json"
    path.write_bytes(data[: len(data) // 2])

    problem = only_fatal(commento.read(path))

    assert (problem.where, problem.code) == ("end of file", "truncated_file")


def test_another_version_is_fatal(tmp_path: Path) -> None:
    """Only version 1 is known: another one is refused rather than guessed at."""
    path = tmp_path / "commento.json"
    path.write_bytes(json.dumps({"version": 2, "comments": [], "commenters": []}).encode())

    problem = only_fatal(commento.read(path))

    assert problem.code == "unsupported_version"
    assert "version 2" in problem.detail


def test_json_that_is_not_a_commento_export_is_fatal(tmp_path: Path) -> None:
    """A JSON document of another shape (a Remark42 backup's first line) is refused by its path."""
    path = tmp_path / "backup.json"
    path.write_bytes(b'{"version": 1, "users": [], "posts": []}')

    problem = only_fatal(commento.read(path))

    assert problem.code == "not_commento"
    assert problem.where == "$"
    assert "`comments`" in problem.detail


def test_a_missing_file_is_fatal(tmp_path: Path) -> None:
    """A path with no file behind it gives one fatal problem."""
    problem = only_fatal(commento.read(tmp_path / "nowhere.json"))

    assert problem.code == "unreadable_file"


def test_an_empty_export_yields_nothing(tmp_path: Path) -> None:
    """A site with no comments: nothing to import, and nothing wrong."""
    path = tmp_path / "commento.json"
    path.write_bytes(b'{"version": 1, "comments": [], "commenters": []}')

    assert list(commento.read(path)) == []


def test_fields_the_export_may_omit_have_defaults(tmp_path: Path) -> None:
    """Go's omitempty drops an empty domain, url or state; null commenters: still read."""
    path = tmp_path / "commento.json"
    comment = {
        "commentHex": "c1",
        "url": "/p",
        "commenterHex": "anonymous",
        "markdown": "hi",
        "parentHex": "",
        "creationDate": "2021-03-12T11:21:56Z",
    }
    path.write_bytes(json.dumps({"version": 1, "comments": [comment], "commenters": None}).encode())

    assert list(commento.read(path)) == [
        SourceArticle(key="/p"),
        SourceComment(
            article_key="/p",
            id="c1",
            body="hi",
            posted_at=datetime(2021, 3, 12, 11, 21, 56, tzinfo=UTC),
        ),
    ]


def _with_bad_byte(export: dict[str, Any]) -> bytes:
    """The export as JSON, its marker "BAD" made one byte that is not UTF-8 (Latin-1 é)."""
    return json.dumps(export, ensure_ascii=False).encode().replace(b"BAD", b"\xe9")


def test_invalid_utf8_in_a_comment_is_repaired_and_reported(tmp_path: Path) -> None:
    """A comment whose text is not UTF-8 does not stop the reader: that comment is repaired with
    U+FFFD and reported, the others read as they are."""
    comments = [_comment("c1", "cafBAD"), _comment("c2", "fine")]
    path = tmp_path / "commento.json"
    path.write_bytes(_with_bad_byte({"version": 1, "comments": comments, "commenters": []}))

    items = list(commento.read(path))

    at = datetime(2021, 3, 12, 11, 21, 56, tzinfo=UTC)
    assert items == [
        SourceProblem(
            where="comments[0]",
            code="invalid_utf8",
            detail="the comment is not all UTF-8: undecodable bytes replaced with U+FFFD",
        ),
        SourceArticle(key=_POST, url="https://example.com/blog/post/1"),
        SourceComment(article_key=_POST, id="c1", body="caf\ufffd", posted_at=at),
        SourceComment(article_key=_POST, id="c2", body="fine", posted_at=at),
    ]


def test_a_bad_commenter_is_repaired_or_skipped_and_reported(tmp_path: Path) -> None:
    """A commenter's name that is not UTF-8 is repaired with U+FFFD and reported; a commenter
    record that does not fit is skipped and reported; their comments are still read."""
    export = {
        "version": 1,
        "comments": [
            _comment("c1", "hi", commenterHex=_ANNA),
            _comment("c2", "ho", commenterHex=_BORIS),
        ],
        "commenters": [_commenter(_ANNA, "AnnaBAD"), _commenter(_BORIS, "Boris") | {"name": 7}],
    }
    path = tmp_path / "commento.json"
    path.write_bytes(_with_bad_byte(export))

    items = list(commento.read(path))

    at = datetime(2021, 3, 12, 11, 21, 56, tzinfo=UTC)
    assert items == [
        SourceProblem(
            where="commenters[0]",
            code="invalid_utf8",
            detail="the commenter is not all UTF-8: undecodable bytes replaced with U+FFFD",
        ),
        SourceProblem(
            where="commenters[1]",
            code="bad_record",
            detail=(
                "Expected `str | null`, got `int` - at `$.commenters[1].name`: commenter skipped"
            ),
        ),
        SourceArticle(key=_POST, url="https://example.com/blog/post/1"),
        SourceComment(
            article_key=_POST, id="c1", author_key=_ANNA, author_name="Anna\ufffd", body="hi",
            posted_at=at,
        ),
        SourceProblem(
            where="comment c2", code="unknown_commenter", article_key=_POST,
            detail=f"commenter {_BORIS} is not in the export's commenters: no name",
        ),
        SourceComment(article_key=_POST, id="c2", author_key=_BORIS, body="ho", posted_at=at),
    ]  # fmt: skip


def test_a_comment_without_id_is_reported_and_skipped(tmp_path: Path) -> None:
    """An empty commentHex gives nothing to derive an id from: the comment is reported."""
    path = tmp_path / "commento.json"
    export = {"version": 1, "comments": [_comment("", "who am I")], "commenters": []}
    path.write_bytes(json.dumps(export).encode())

    assert list(commento.read(path)) == [
        SourceProblem(
            where="comments[0]", code="bad_record", detail="commentHex is empty: comment skipped"
        )
    ]


def test_a_damaged_gzip_is_fatal(tmp_path: Path) -> None:
    """A gzip whose compressed bytes were altered (a bad copy) gives one fatal problem."""
    data = bytearray(gzip.compress(json.dumps(_export()).encode()))
    middle = len(data) // 2
    data[middle : middle + 16] = bytes(16)
    path = tmp_path / "commento.json.gz"
    path.write_bytes(bytes(data))

    problem = only_fatal(commento.read(path))

    assert (problem.where, problem.code) == ("file", "bad_gzip")
    assert problem.detail.startswith(f"{path} is not a readable gzip file: ")


_VALID = json.dumps(_export(), ensure_ascii=False).encode()


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    edits=st.lists(st.tuples(st.integers(0, len(_VALID) - 1), st.binary(max_size=3)), max_size=4),
    cut=st.integers(0, len(_VALID)),
    gzipped=st.booleans(),
)
def test_a_damaged_export_never_raises(
    tmp_path: Path, edits: list[tuple[int, bytes]], cut: int, gzipped: bool
) -> None:
    """Whatever bytes are changed or cut off, the reader yields items and problems, never an
    exception, and a fatal problem is always the last thing it yields."""
    data = bytearray(_VALID)
    for at, replacement in edits:
        data[at : at + len(replacement)] = replacement
    data = data[:cut] if cut else data
    path = tmp_path / "commento.json"
    path.write_bytes(gzip.compress(bytes(data)) if gzipped else bytes(data))

    items = list(commento.read(path))

    fatal = [n for n, item in enumerate(items) if isinstance(item, SourceProblem) and item.fatal]
    assert fatal in ([], [len(items) - 1])
