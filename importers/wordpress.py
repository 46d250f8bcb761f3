"""The WordPress export (WXR 1.0 to 1.2: RSS with `wp:` elements), read as a stream.

Each `<item>` (a post or a page) is handed over as it ends and then dropped
(importers/_xml_stream.py); an item with comments becomes a SourceArticle followed by its
`<wp:comment>`s. Elements are matched by local name, so the namespaces of any WXR 1.x version
(`http://wordpress.org/export/1.0/` to `1.2/`) read the same.

What is read, and what is not:
- an item's `wp:post_id` (the article key; its `link` when it has none, reported), `link`,
  `title`, `wp:post_date_gmt`, `wp:comment_status` (closed: the article is closed); items
  without comments are skipped;
- a comment's `wp:comment_id`, `wp:comment_parent` (0: top level), `wp:comment_content` (HTML
  with autop's newlines: single newlines stay line breaks), `wp:comment_approved` (1 visible,
  0 pending, spam and trash spam), `wp:comment_author` (stored HTML-escaped: unescaped), and
  `wp:comment_user_id` as the author key (a guest, user id 0, is keyed "guest:<name>");
- dates: `wp:comment_date_gmt` is UTC. WordPress writes `0000-00-00 00:00:00` there for some
  comments; then `wp:comment_date` (the site's local time: the WXR does not say its zone, so it
  is read as UTC and reported) or else the post's `wp:post_date_gmt` (reported).
- pingbacks and trackbacks are skipped and reported: another site's notice, not a reader's
  comment. Never kept: the author's e-mail address, URL and IP address, `wp:commentmeta`.
"""

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import datetime
from html import unescape
from pathlib import Path

from importers import _xml_stream
from importers._times import utc
from importers.html_text import to_text
from importers.source import SourceArticle, SourceComment, SourceItem, SourceProblem, Status

_STATUSES: dict[str, Status] = {
    "1": "visible",
    "approve": "visible",
    "0": "pending",
    "hold": "pending",
    "spam": "spam",
    "trash": "spam",
    "post-trashed": "spam",
}
_NOT_COMMENTS = frozenset(("pingback", "trackback"))

_local = _xml_stream.LOCAL_NAMES


def _fields(element: ET.Element) -> dict[str, str]:
    """Each child's local name -> its text, stripped ("{http://.../export/1.2/}post_id")."""
    local = _local
    return {local[child.tag]: (child.text or "").strip() for child in element}


def _comments_of(item: ET.Element) -> list[ET.Element]:
    return [child for child in item if _local[child.tag] == "comment"]


def _posted_at(
    fields: dict[str, str], post_date: datetime | None, where: str, article_key: str
) -> tuple[datetime | None, SourceProblem | None]:
    """The comment's time in UTC, and a problem when it had to be guessed."""
    posted_at = utc(fields.get("comment_date_gmt"))
    if posted_at is not None:
        return posted_at, None
    gmt = fields.get("comment_date_gmt", "")
    local = utc(fields.get("comment_date"))
    if local is not None:
        detail = (
            f"comment_date_gmt is {gmt!r}; comment_date (the site's local time, zone unknown)"
            " read as UTC"
        )
    elif post_date is not None:
        detail = f"comment_date_gmt is {gmt!r} and comment_date too; the post's date used"
    else:
        detail = f"comment_date_gmt is {gmt!r}, and no other date; the comment has no time"
    problem = SourceProblem(where=where, code="bad_date", detail=detail, article_key=article_key)
    return local or post_date, problem


def _comment(
    comment: ET.Element, article_key: str, post_date: datetime | None
) -> Iterator[SourceComment | SourceProblem]:
    fields = _fields(comment)
    comment_id = fields.get("comment_id", "")
    where = f"comment {comment_id}"
    if not comment_id:
        yield SourceProblem(
            where=f"post {article_key}",
            code="missing_id",
            detail="a <wp:comment> has no comment_id; skipped",
            article_key=article_key,
        )
        return
    kind = fields.get("comment_type", "")
    if kind in _NOT_COMMENTS:
        yield SourceProblem(
            where=where,
            code=kind,
            detail=f"a {kind} (another site's notice, not a reader's comment); skipped",
            article_key=article_key,
        )
        return
    posted_at, problem = _posted_at(fields, post_date, where, article_key)
    if problem is not None:
        yield problem
    approved = fields.get("comment_approved", "1")
    status = _STATUSES.get(approved)
    if status is None:
        status = "pending"
        yield SourceProblem(
            where=where,
            code="unknown_status",
            detail=f"comment_approved {approved!r} is not one WordPress writes; held as pending",
            article_key=article_key,
        )
    parent = fields.get("comment_parent", "0")
    user_id = fields.get("comment_user_id", "0")
    # WordPress stores names HTML-escaped (_wp_specialchars on pre_comment_author_name).
    name = " ".join(unescape(fields.get("comment_author", "")).split()) or None
    if user_id not in ("", "0"):
        author_key: str | None = user_id
    else:
        author_key = f"guest:{name}" if name else None
    yield SourceComment(
        article_key=article_key,
        id=comment_id,
        parent_id=parent if parent not in ("", "0") else None,
        author_key=author_key,
        author_name=name,
        body=to_text(fields.get("comment_content", ""), keep_newlines=True),
        posted_at=posted_at,
        status=status,
    )


def _item(item: ET.Element) -> Iterator[SourceItem]:
    comments = _comments_of(item)
    if not comments:
        return
    fields = _fields(item)
    key = fields.get("post_id", "")
    link = fields.get("link", "")
    if not key:
        where = f"item {fields.get('title', '')!r}"
        if not link:
            yield SourceProblem(
                where=where,
                code="missing_id",
                detail=f"an <item> with {len(comments)} comments has no wp:post_id and no link;"
                " skipped",
            )
            return
        key = link
        yield SourceProblem(
            where=where,
            code="missing_id",
            detail="an <item> has no wp:post_id; keyed by its link",
            article_key=key,
        )
    published_at = utc(fields.get("post_date_gmt"))
    yield SourceArticle(
        key=key,
        url=link or None,
        title=" ".join(fields.get("title", "").split()) or None,
        published_at=published_at,
        closed=fields.get("comment_status") == "closed",
    )
    for comment in comments:
        yield from _comment(comment, key, published_at)


def read(path: Path) -> Iterator[SourceItem]:
    """The export's posts that have comments, and their comments, in file order, with the
    problems met reading them."""
    for record in _xml_stream.records(path, depth=2):
        if isinstance(record, SourceProblem):
            yield record
        elif _local[record.tag] == "item":
            yield from _item(record)
