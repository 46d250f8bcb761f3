"""The Remark42 backup (JSON lines, gzipped or not) as importers/remark42.py reads it."""

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from importers import remark42
from importers.source import (
    SourceArticle,
    SourceComment,
    SourceItem,
    SourceProblem,
    SourceVote,
)

PAGE = "https://blog.example.com/post/1/"
CLOSED = "https://blog.example.com/closed/"
EMPTY = "https://blog.example.com/empty/"

META = {
    "version": 1,
    "users": [
        {
            "id": "github_ab12",
            "blocked": {"status": False, "until": "0001-01-01T00:00:00Z"},
            "verified": True,
            "details": {"user_id": "github_ab12", "email": "ab@example.com", "telegram": "ab"},
        }
    ],
    "posts": [{"url": CLOSED, "read_only": True}, {"url": EMPTY, "read_only": False}],
}


def _comment(comment_id: str, text: str, url: str = PAGE, **fields: Any) -> dict[str, Any]:
    comment: dict[str, Any] = {
        "id": comment_id,
        "pid": "",
        "text": text,
        "orig": "(the markdown)",
        "user": {
            "name": "Ann Example",
            "id": "github_ab12",
            "picture": "https://remark.example.com/api/v1/avatar/x.image",
            "ip": "5c1f0e0d7a",
            "admin": False,
            "site_id": "blog",
        },
        "locator": {"site": "blog", "url": url},
        "score": 0,
        "vote": 0,
        "time": "2020-03-04T05:06:07.123456789+02:00",
        "title": "Post one",
    }
    comment.update(fields)
    return comment


LINES = [
    json.dumps(META),
    # A reply before its parent, with votes (its score is derived from them and ignored).
    json.dumps(
        _comment(
            "c1",
            "<p>Me too</p>\n",
            pid="c2",
            votes={"google_1": True, "github_2": False},
            voted_ips={"1.2.3.4": {}},
            score=0,
        )
    ),
    json.dumps(
        _comment(
            "c2",
            '<p>First &amp; <em>best</em></p>\n<p>See <a href="https://x.org">x</a>'
            "</p><script>evil()</script>\n",
            edit={"time": "2020-03-05T00:00:00Z", "summary": ""},
            pin=True,
        )
    ),
    # A deleted parent with a live reply.
    json.dumps(_comment("c3", "", orig="", delete=True)),
    json.dumps(_comment("c4", "<p>orphan-to-be</p>", pid="c3")),
    '{"id": "broken", "text": ',
    # user.id as an array (umputun/remark42#1779): not a Remark42 comment.
    json.dumps(_comment("c5", "<p>x</p>", user={"id": ["a", "b"], "name": "A"})),
    "",
    # The same id twice; a text-less comment with only its Markdown; a score, no voters.
    json.dumps(_comment("c6", "<p>one</p>")),
    json.dumps(_comment("c6", "<p>two</p>")),
    # Remark42 stores names HTML-escaped, and orig through its HTML sanitiser too.
    json.dumps(
        _comment(
            "c7",
            "",
            orig="**typed** _markdown_ &amp; &lt;b&gt;",
            score=3,
            user={"id": "github_ab12", "name": "O&#39;Brien &amp; Co"},
        )
    ),
    # A page the meta closed; Go's zero time; no user at all.
    json.dumps(_comment("c8", "<p>late</p>", url=CLOSED, time="0001-01-01T00:00:00Z", user={})),
]
T = datetime(2020, 3, 4, 3, 6, 7, 123456, tzinfo=UTC)


def _by_ann(**fields: Any) -> SourceComment:
    """A comment by the fixture's author on PAGE at T, unless said otherwise."""
    defaults: dict[str, Any] = {"article_key": PAGE, "posted_at": T}
    return SourceComment(author_key="github_ab12", author_name="Ann Example", **(defaults | fields))


EXPECTED: list[SourceItem] = [
    SourceArticle(key=PAGE, url=PAGE, title="Post one"),
    _by_ann(
        id="c1",
        parent_id="c2",
        body="Me too",
        votes=(SourceVote("google_1", True), SourceVote("github_2", False)),
    ),
    _by_ann(
        id="c2",
        body="First & best\n\nSee x (https://x.org)",
        edited_at=datetime(2020, 3, 5, tzinfo=UTC),
        pinned=True,
    ),
    _by_ann(
        id="c3",
        body="",
        status="deleted",
    ),
    _by_ann(
        id="c4",
        parent_id="c3",
        body="orphan-to-be",
    ),
    SourceProblem(
        where="line 6",
        code="bad_json",
        detail="not a Remark42 comment (Input data was truncated); the line is skipped",
    ),
    SourceProblem(
        where="line 7",
        code="bad_json",
        detail="not a Remark42 comment (Expected `str`, got `array` - at `$.user.id`); the line"
        " is skipped",
    ),
    _by_ann(
        id="c6",
        body="one",
    ),
    _by_ann(
        id="c6",
        body="two",
    ),
    SourceComment(
        article_key=PAGE,
        id="c7",
        author_key="github_ab12",
        author_name="O'Brien & Co",
        body="**typed** _markdown_ & <b>",
        posted_at=T,
        score=3,
    ),
    SourceArticle(key=CLOSED, url=CLOSED, title="Post one", closed=True),
    SourceProblem(
        where="comment c8",
        code="bad_date",
        detail="time '0001-01-01T00:00:00Z' is not a date; the comment has no time",
        article_key=CLOSED,
    ),
    SourceComment(article_key=CLOSED, id="c8", body="late", posted_at=None),
    SourceArticle(key=EMPTY, url=EMPTY),
]


def _write(path: Path, lines: list[str], gzipped: bool) -> Path:
    data = ("\n".join(lines) + "\n").encode()
    path.write_bytes(gzip.compress(data) if gzipped else data)
    return path


@pytest.mark.parametrize("gzipped", [False, True])
def test_every_page_and_comment_is_read_as_the_backup_says(tmp_path: Path, gzipped: bool) -> None:
    """Pages are yielded before their first comment (closed when the meta says read_only, and
    those without comments at the end); comments in file order with HTML turned into text,
    times in UTC, edits, pins, deletions and per-voter votes as written; a bad line is
    reported by number and skipped; nothing of the meta's users is kept. Gzipped or not."""
    items = list(remark42.read(_write(tmp_path / "backup", LINES, gzipped)))
    assert items == EXPECTED
    for personal in ("ab@example.com", "5c1f0e0d7a", "avatar", "1.2.3.4"):
        assert personal not in repr(items)


def test_a_truncated_gzip_is_fatal_after_what_it_held(tmp_path: Path) -> None:
    """A gzip cut short (a copy that stopped) yields the lines before the cut, then a fatal
    problem naming the line after the last one read."""
    data = gzip.compress(("\n".join(LINES) + "\n").encode() * 40)
    path = tmp_path / "backup.gz"
    path.write_bytes(data[: len(data) // 2])
    items = list(remark42.read(path))
    last = items[-1]
    assert isinstance(last, SourceProblem)
    assert (last.code, last.fatal) == ("truncated_file", True)
    read = [item for item in items if isinstance(item, SourceComment)]
    assert len(read) > 8
    assert last.where.startswith("line ")
    assert int(last.where.split()[1]) > len(LINES)


def test_concatenated_backups_read_as_one(tmp_path: Path) -> None:
    """Backups concatenated to merge sites (Remark42's own advice) read each meta line as a
    meta line: the second file's read-only page is closed too."""
    other = "https://other.example/"
    second = [
        json.dumps({"version": 1, "users": [], "posts": [{"url": other, "read_only": True}]}),
        json.dumps(_comment("d1", "<p>from the other site</p>", url="https://other.example/")),
    ]
    items = list(remark42.read(_write(tmp_path / "merged", LINES + second, gzipped=False)))
    assert [(item.key, item.closed) for item in items if isinstance(item, SourceArticle)] == [
        (PAGE, False),
        (CLOSED, True),
        (other, True),
        (EMPTY, False),
    ]
    assert items[-2] == _by_ann(
        article_key="https://other.example/",
        id="d1",
        body="from the other site",
    )


def test_a_bad_meta_line_is_reported_and_the_comments_still_read(tmp_path: Path) -> None:
    """A meta line that is not Remark42's (posts not a list) is reported by its line: the
    read-only pages it meant to name are unknown, so they stay open; comments read on."""
    lines = ['{"version": 1, "posts": "oops"}', json.dumps(_comment("c1", "<p>hi</p>"))]
    items = list(remark42.read(_write(tmp_path / "backup", lines, gzipped=False)))
    assert items == [
        SourceProblem(
            where="line 1",
            code="bad_json",
            detail="the meta line is not what a Remark42 backup holds (Expected `array`, got"
            " `str` - at `$.posts`); its read-only pages are not known",
        ),
        SourceArticle(key=PAGE, url=PAGE, title="Post one"),
        _by_ann(id="c1", body="hi"),
    ]
