"""The Remark42 backup (`remark42 backup`, or the admin's export): JSON lines, gzipped or not.

Line 1 is the meta object `{"version":1,"users":[...],"posts":[{"url","read_only"}]}`, each
later line one comment (umputun/remark42 backend/app/store/comment.go). Backups may be
concatenated to merge sites, so any line that starts as a meta object (`{"version"`, as Go
writes it) is read as one; it closes the read-only pages whose comments come after it.

What is read, and what is not:
- a page, by its URL (`locator.url`: the article key) and the `title` its comments carry;
  `read_only` in the meta closes it. A SourceArticle is yielded before the first comment of
  each page, and at the end for pages the meta names that have no comments;
- a comment's `id`, `pid` ("" at top level), `text`, `user.id` (the author key) and `user.name`,
  `time`, `edit.time`, `delete`, `pin`, and `votes` (one SourceVote per voter; `score` only
  when there are no per-voter votes, as in older backups);
- the body is `text`, the HTML Remark42 rendered and sanitised and every reader saw, turned
  into plain text like the other HTML sources. `orig`, the Markdown, went through the same HTML
  sanitiser (so it is not quite as typed: `&` is `&amp;`) and is empty in what Remark42's own
  importers wrote (its Disqus importer sets only `text`); it is used, unescaped, only when
  `text` is empty on a live comment;
- user names are stored HTML-escaped (`O&#39;Brien`): they are unescaped;
- never kept: the meta's users (their e-mail addresses, Telegram ids, block status), a user's
  picture, IP hash and flags, `voted_ips`.
"""

import gzip
import zlib
from collections.abc import Iterator
from datetime import datetime
from html import unescape
from pathlib import Path

import msgspec

from importers._times import utc
from importers.html_text import to_text
from importers.source import (
    SourceArticle,
    SourceComment,
    SourceItem,
    SourceProblem,
    SourceVote,
    lines_of,
    open_maybe_gzipped,
)


class _Post(msgspec.Struct):
    url: str = ""
    read_only: bool = False


class _Meta(msgspec.Struct):
    version: int = 1
    posts: list[_Post] = msgspec.field(default_factory=list)


class _User(msgspec.Struct):
    id: str = ""
    name: str = ""


class _Locator(msgspec.Struct):
    url: str = ""


class _Edit(msgspec.Struct):
    time: str = ""


class _Comment(msgspec.Struct):
    id: str = ""
    pid: str = ""
    text: str = ""
    orig: str = ""
    user: _User = msgspec.field(default_factory=_User)
    locator: _Locator = msgspec.field(default_factory=_Locator)
    title: str = ""
    time: str = ""
    edit: _Edit | None = None
    delete: bool = False
    pin: bool = False
    score: int = 0
    votes: dict[str, bool] | None = None


_META = msgspec.json.Decoder(_Meta)
_COMMENT = msgspec.json.Decoder(_Comment)
_META_START = b'{"version"'
# Go's zero time, written where a time was never set.
_ZERO_YEAR = 1


def _time(text: str) -> datetime | None:
    moment = utc(text)
    return None if moment is None or moment.year == _ZERO_YEAR else moment


class _Reader:
    """The pages met so far, which are few: one per page with comments or in a meta line."""

    def __init__(self) -> None:
        self.closed: dict[str, bool] = {}
        """Each page the meta lines name -> whether it is read-only."""
        self.yielded: set[str] = set()

    def meta(self, number: int, line: bytes) -> Iterator[SourceItem]:
        try:
            meta = _META.decode(line)
        except msgspec.DecodeError as error:
            yield SourceProblem(
                where=f"line {number}",
                code="bad_json",
                detail=f"the meta line is not what a Remark42 backup holds ({error}); its"
                " read-only pages are not known",
            )
            return
        for post in meta.posts:
            if post.url:
                self.closed[post.url] = self.closed.get(post.url, False) or post.read_only

    def comment(self, number: int, line: bytes) -> Iterator[SourceItem]:
        try:
            comment = _COMMENT.decode(line)
        except msgspec.DecodeError as error:
            yield SourceProblem(
                where=f"line {number}",
                code="bad_json",
                detail=f"not a Remark42 comment ({error}); the line is skipped",
            )
            return
        url = comment.locator.url
        if not comment.id or not url:
            what = "an id" if not comment.id else "a locator.url (its page)"
            yield SourceProblem(
                where=f"line {number}",
                code="missing_id",
                detail=f"the comment has no {what}; skipped",
                article_key=url or None,
            )
            return
        if url not in self.yielded:
            self.yielded.add(url)
            yield SourceArticle(
                key=url,
                url=url,
                title=" ".join(comment.title.split()) or None,
                closed=self.closed.get(url, False),
            )
        posted_at = _time(comment.time)
        if posted_at is None:
            yield SourceProblem(
                where=f"comment {comment.id}",
                code="bad_date",
                detail=f"time {comment.time!r} is not a date; the comment has no time",
                article_key=url,
            )
        # orig stands in for a missing text (see the module's docstring), unescaped: it went
        # through the same HTML sanitiser as text.
        live_orig = not comment.text and not comment.delete
        body = unescape(comment.orig) if live_orig else to_text(comment.text)
        votes = tuple(SourceVote(voter, up) for voter, up in (comment.votes or {}).items())
        yield SourceComment(
            article_key=url,
            id=comment.id,
            parent_id=comment.pid or None,
            author_key=comment.user.id or None,
            # Remark42 stores names HTML-escaped (store.Comment.Sanitize).
            author_name=" ".join(unescape(comment.user.name).split()) or None,
            body=body,
            posted_at=posted_at,
            status="deleted" if comment.delete else "visible",
            edited_at=_time(comment.edit.time) if comment.edit is not None else None,
            score=comment.score if not votes and comment.score else None,
            votes=votes,
            pinned=comment.pin,
        )

    def pages_without_comments(self) -> Iterator[SourceArticle]:
        for url, closed in self.closed.items():
            if url not in self.yielded:
                yield SourceArticle(key=url, url=url, closed=closed)


def read(path: Path) -> Iterator[SourceItem]:
    """The backup's pages and comments, in file order, with the problems met reading them."""
    reader = _Reader()
    number = 0
    try:
        with open_maybe_gzipped(path) as stream:
            for number, line in lines_of(stream):
                if line.startswith(_META_START):
                    yield from reader.meta(number, line)
                else:
                    yield from reader.comment(number, line)
    except (EOFError, gzip.BadGzipFile, zlib.error) as error:
        # A gzip stream that stops before its end marker (EOFError) or whose bytes are damaged.
        yield SourceProblem(
            where=f"line {number + 1}",
            code="truncated_file",
            detail=f"the file ends or breaks after line {number} ({error}): it was cut short"
            " or is damaged. What came before was read; take the backup again",
            fatal=True,
        )
        return
    yield from reader.pages_without_comments()
