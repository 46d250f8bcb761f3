"""What an importer reads from another system's export, before it becomes events.

Each format's reader (importers/<format>.py, a function `read(path) -> Iterator[SourceItem]`)
yields these in the file's own order, converted but not yet judged: bodies already turned into
the plain text we store (HTML) or kept as typed (Markdown), times in UTC, no e-mail address, IP
address or website anywhere. importers/plan.py groups them per article, puts parents before
replies, decides what each status becomes and derives every id.
"""

import gzip
import io
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Literal

import msgspec

Format = Literal["disqus", "wordpress", "isso", "remark42", "commento", "threadlog"]

Status = Literal["visible", "pending", "spam", "deleted"]
"""What the source says of a comment: shown; waiting for a moderator (unapproved); spam or
trash; deleted (by its author or a moderator). The plan decides what each becomes."""


class SourceArticle(msgspec.Struct, frozen=True, kw_only=True):
    """A thread as the source keeps it. Readers yield an article before its comments where the
    file allows; the plan copes with comments that name an article yielded later."""

    key: str
    """The source's stable thread key (Disqus `dsq:id`, WordPress `post_id`, Isso `uri`,
    Remark42 and Commento page URL); `--map` maps it (or the url) to an article id."""
    url: str | None = None
    title: str | None = None
    published_at: datetime | None = None
    """UTC; None when the source does not say."""
    closed: bool = False
    """The source took no more comments on it (Disqus `isClosed`, WordPress `comment_status`
    closed, Remark42 `read_only`)."""
    deleted: bool = False
    """The source deleted the thread itself (Disqus `isDeleted`): its comments are skipped."""


class SourceVote(msgspec.Struct, frozen=True):
    """One voter's vote, where the source keeps votes per voter (Remark42)."""

    voter_key: str
    up: bool


class SourceComment(msgspec.Struct, frozen=True, kw_only=True):
    """A comment as the source keeps it."""

    article_key: str
    id: str
    """The source's own id for the comment, unique within the export."""
    parent_id: str | None = None
    """The source id of the comment it replies to; None at top level."""
    author_key: str | None = None
    """The source's stable key for the author (username, commenter hex, user id), or for a
    guest their name; hashed with the installation's secret into the author id, never kept.
    None when the source has nothing to tell authors apart (an anonymous guest)."""
    author_name: str | None = None
    body: str
    """Plain text (converted from HTML by importers/html_text.py) or Markdown as typed; may be
    empty (deleted and spam comments often are): the plan decides what an empty body means."""
    posted_at: datetime | None
    """UTC; None when the source's date was unusable (a problem says why)."""
    status: Status = "visible"
    edited_at: datetime | None = None
    """When the text was last edited, where the source says (the body is the edited text)."""
    score: int | None = None
    """A count of votes without voters (Isso likes minus dislikes, Commento score)."""
    votes: tuple[SourceVote, ...] = ()
    pinned: bool = False
    """Pinned or featured at the source (Remark42 `pin`)."""


class SourceProblem(msgspec.Struct, frozen=True, kw_only=True):
    """Something in the file a reader had to repair, or could not read."""

    where: str
    """Where in the file: "line 1042", "record 17", "comment 98765"."""
    code: str
    """Machine-readable: "invalid_xml_char", "bad_date", "truncated_file", ..."""
    detail: str
    """For a person: what is wrong and what the reader did about it."""
    fatal: bool = False
    """The reader could not go on (a truncated or unparseable file): it stops after this."""
    article_key: str | None = None
    """The article it concerns, when known: the dry run reports it with that article."""


SourceItem = SourceArticle | SourceComment | SourceProblem


def open_maybe_gzipped(path: Path) -> io.BufferedIOBase:
    """The file's bytes, gunzipped when it starts with gzip's magic number (Remark42 backups and
    Commento exports come either way)."""
    with path.open("rb") as probe:
        gzipped = probe.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if gzipped else path.open("rb")


def lines_of(stream: io.BufferedIOBase) -> Iterator[tuple[int, bytes]]:
    """The stream's lines, numbered from 1, without their line ends; blank lines skipped."""
    for number, line in enumerate(stream, start=1):
        stripped = line.rstrip(b"\r\n")
        if stripped.strip():
            yield number, stripped
