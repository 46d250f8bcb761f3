"""The Disqus XML export (http://disqus.com/api/schemas/1.0/disqus.xsd), read as a stream.

`<disqus>` holds categories, then threads, then posts. Each is handed over as it ends and then
dropped (importers/_xml_stream.py): a thread becomes a SourceArticle at once, a post a
SourceComment; nothing is kept from one to the next, so a 400 MB export reads in the memory of
one record. Elements are matched by local name, so a file whose namespaces differ (older exports,
hand-made fixtures) reads the same.

What is read, and what is not:
- a thread's `dsq:id` (the article key), `link`, `title`, `createdAt`, `isClosed`, `isDeleted`;
- a post's `dsq:id`, `<thread dsq:id>`, `<parent dsq:id>`, `message` (HTML, turned into text),
  `createdAt` (with `Z`, or without a zone: UTC), `isDeleted`, `isSpam`, and its author's
  `username` and `name`. The author key is the username; a guest (no username) is keyed by
  name, as "guest:<name>" so that a guest never merges with the account of that username.
- never kept: `email`, `ipAddress`, the thread's author, categories. Disqus exports no votes.
"""

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from html import unescape
from pathlib import Path

from importers import _xml_stream
from importers._times import utc
from importers.html_text import to_text
from importers.source import SourceArticle, SourceComment, SourceItem, SourceProblem, Status

_DSQ_ID = "{http://disqus.com/disqus-internals}id"


_local = _xml_stream.LOCAL_NAMES


def _dsq_id(element: ET.Element | None) -> str | None:
    """The element's `dsq:id` attribute (in any namespace: older exports vary), stripped."""
    if element is None:
        return None
    value = element.get(_DSQ_ID)
    if value is None:
        value = next((v for name, v in element.attrib.items() if _local[name] == "id"), "")
    return value.strip() or None


def _fields(element: ET.Element) -> dict[str, ET.Element]:
    local = _local
    return {local[child.tag]: child for child in element}


def _text(fields: dict[str, ET.Element], name: str) -> str | None:
    """The text of the child `name`, stripped; None when it is absent or empty."""
    element = fields.get(name)
    if element is None or element.text is None:
        return None
    return element.text.strip() or None


def _article(thread: ET.Element) -> SourceArticle | SourceProblem:
    key = _dsq_id(thread)
    fields = _fields(thread)
    if key is None:
        link = _text(fields, "link")
        return SourceProblem(
            where=f"the thread with <link> {link}" if link else "a thread",
            code="missing_id",
            detail="a <thread> has no dsq:id; skipped (its posts cannot name it)",
        )
    title = _text(fields, "title")
    return SourceArticle(
        key=key,
        url=_text(fields, "link"),
        # Disqus took the title from the page's <title>, entities and all ("It&#8217;s").
        title=" ".join(unescape(title).split()) if title else None,
        published_at=utc(_text(fields, "createdAt")),
        closed=_text(fields, "isClosed") == "true",
        deleted=_text(fields, "isDeleted") == "true",
    )


def _author(author: ET.Element | None) -> tuple[str | None, str | None]:
    """(author_key, author_name); the e-mail address is never read."""
    if author is None:
        return None, None
    username = name = None
    for child in author:
        local = _local[child.tag]
        if local == "username":
            username = (child.text or "").strip() or None
        elif local == "name":
            name = " ".join((child.text or "").split()) or None
    if username is not None:
        return username, name or username
    return (f"guest:{name}" if name else None), name


def _unnamed_post(fields: dict[str, ET.Element]) -> str:
    """Where a post without a dsq:id is: its legacy <id>, or its date, whatever it has."""
    for name in ("id", "createdAt"):
        text = _text(fields, name)
        if text:
            return f"the post with <{name}> {text}"
    return "a post"


def _comments(post: ET.Element) -> Iterator[SourceComment | SourceProblem]:
    post_id = _dsq_id(post)
    fields = _fields(post)
    article_key = _dsq_id(fields.get("thread"))
    if post_id is None or article_key is None:
        what = "dsq:id" if post_id is None else "<thread dsq:id>"
        yield SourceProblem(
            where=f"comment {post_id}" if post_id else _unnamed_post(fields),
            code="missing_id",
            detail=f"a <post> has no {what}; skipped",
            article_key=article_key,
        )
        return
    created = _text(fields, "createdAt")
    posted_at = utc(created)
    if posted_at is None:
        yield SourceProblem(
            where=f"comment {post_id}",
            code="bad_date",
            detail=(f"createdAt {created!r} is not a date" if created else "it has no createdAt")
            + "; the comment has no time",
            article_key=article_key,
        )
    status: Status = "visible"
    if _text(fields, "isSpam") == "true":
        status = "spam"
    elif _text(fields, "isDeleted") == "true":
        status = "deleted"
    message = fields.get("message")
    author_key, author_name = _author(fields.get("author"))
    yield SourceComment(
        article_key=article_key,
        id=post_id,
        parent_id=_dsq_id(fields.get("parent")),
        author_key=author_key,
        author_name=author_name,
        body=to_text(message.text or "") if message is not None else "",
        posted_at=posted_at,
        status=status,
    )


def read(path: Path) -> Iterator[SourceItem]:
    """The export's threads and posts, in file order, with the problems met reading them."""
    for record in _xml_stream.records(path, depth=1):
        if isinstance(record, SourceProblem):
            yield record
            continue
        name = _local[record.tag]
        if name == "post":
            yield from _comments(record)
        elif name == "thread":
            yield _article(record)
