"""The WordPress export (WXR 1.x) as importers/wordpress.py reads it."""

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from importers import wordpress
from importers.source import SourceArticle, SourceComment, SourceItem, SourceProblem


def _head(version: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8" ?>\n'
        '<rss version="2.0"'
        f' xmlns:excerpt="http://wordpress.org/export/{version}/excerpt/"'
        ' xmlns:content="http://purl.org/rss/1.0/modules/content/"'
        ' xmlns:wfw="http://wellformedweb.org/CommentAPI/"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/"'
        f' xmlns:wp="http://wordpress.org/export/{version}/">\n'
        "<channel>\n<title>A blog</title>\n<link>https://blog.example.com</link>\n"
        f"<wp:wxr_version>{version}</wp:wxr_version>\n"
        "<wp:author><wp:author_id>1</wp:author_id><wp:author_login><![CDATA[admin]]>"
        "</wp:author_login><wp:author_email><![CDATA[admin@example.com]]></wp:author_email>"
        "</wp:author>\n"
    )


def _item(post_id: str, title: str, comments: str, status: str = "open") -> str:
    return (
        f"<item>\n<title>{title}</title>\n<link>https://blog.example.com/?p={post_id}</link>\n"
        "<dc:creator><![CDATA[admin]]></dc:creator>\n"
        "<content:encoded><![CDATA[<p>The post itself.</p>]]></content:encoded>\n"
        f"<wp:post_id>{post_id}</wp:post_id>\n"
        "<wp:post_date><![CDATA[2015-06-01 12:00:00]]></wp:post_date>\n"
        "<wp:post_date_gmt><![CDATA[2015-06-01 10:00:00]]></wp:post_date_gmt>\n"
        f"<wp:comment_status><![CDATA[{status}]]></wp:comment_status>\n"
        "<wp:status><![CDATA[publish]]></wp:status>\n"
        "<wp:post_type><![CDATA[post]]></wp:post_type>\n"
        f"{comments}</item>\n"
    )


def _comment(
    comment_id: str,
    content: str,
    parent: str = "0",
    approved: str = "1",
    date_gmt: str = "2015-06-02 08:00:00",
    date: str = "2015-06-02 10:00:00",
    author: str = "<wp:comment_author><![CDATA[Jo Reader]]></wp:comment_author>"
    "<wp:comment_author_email><![CDATA[jo@example.com]]></wp:comment_author_email>",
    user_id: str = "0",
    kind: str = "comment",
) -> str:
    return (
        f"<wp:comment><wp:comment_id>{comment_id}</wp:comment_id>{author}"
        "<wp:comment_author_url>https://jo.example.net</wp:comment_author_url>"
        "<wp:comment_author_IP><![CDATA[192.0.2.7]]></wp:comment_author_IP>"
        f"<wp:comment_date><![CDATA[{date}]]></wp:comment_date>"
        f"<wp:comment_date_gmt><![CDATA[{date_gmt}]]></wp:comment_date_gmt>"
        f"<wp:comment_content><![CDATA[{content}]]></wp:comment_content>"
        f"<wp:comment_approved><![CDATA[{approved}]]></wp:comment_approved>"
        f"<wp:comment_type><![CDATA[{kind}]]></wp:comment_type>"
        f"<wp:comment_parent>{parent}</wp:comment_parent>"
        f"<wp:comment_user_id>{user_id}</wp:comment_user_id>"
        "<wp:commentmeta><wp:meta_key><![CDATA[akismet_result]]></wp:meta_key>"
        "<wp:meta_value><![CDATA[false]]></wp:meta_value></wp:commentmeta>"
        "</wp:comment>\n"
    )


def fixture(version: str = "1.2") -> str:
    """Every nasty case, one item each where it can."""
    return (
        _head(version)
        + _item(
            "10",
            "Fish &amp; chips",
            # A reply before its parent in file order; a trashed parent with a live reply.
            _comment("3", "Me too &mdash; really.", parent="2")
            + _comment("2", "Line one\nline two\n\nNew <b>para</b><script>x()</script>")
            + _comment("4", "rude", approved="trash")
            + _comment("5", "I reply to the rude one", parent="4")
            # Pending, spam, a registered user, and a guest with no e-mail.
            + _comment("6", "wait for it", approved="0", user_id="7")
            + _comment("7", "buy pills", approved="spam")
            + _comment(
                "8",
                "no mail",
                # WordPress stores names HTML-escaped (_wp_specialchars on pre_comment_author_name).
                author="<wp:comment_author><![CDATA[ Anon &amp;  Y. ]]></wp:comment_author>",
            )
            + _comment("9", "nobody", author=""),
        )
        + _item(
            "20",
            "Closed",
            # Dates WordPress could not fill; a pingback; the same id twice; a bad status.
            _comment("11", "local date", date_gmt="0000-00-00 00:00:00")
            + _comment("12", "no date", date_gmt="0000-00-00 00:00:00", date="0000-00-00 00:00:00")
            + _comment("13", "[&#8230;] linked here [&#8230;]", kind="pingback")
            + _comment("14", "first")
            + _comment("14", "second")
            + _comment("15", "odd", approved="maybe"),
            status="closed",
        )
        # No comments: no article.
        + _item("30", "Quiet", "")
        + _item("40", "Bad chars", _comment("16", "a\x1fb &amp; c"))
        + "</channel>\n</rss>\n"
    )


POSTED = datetime(2015, 6, 2, 8, 0, tzinfo=UTC)
POST_DATE = datetime(2015, 6, 1, 10, 0, tzinfo=UTC)


def _by_jo(**fields: Any) -> SourceComment:
    """A comment by the fixture's default author, a guest."""
    return SourceComment(author_key="guest:Jo Reader", author_name="Jo Reader", **fields)


def _read(tmp_path: Path, text: str) -> list[SourceItem]:
    path = tmp_path / "export.xml"
    path.write_text(text, encoding="utf-8")
    return list(wordpress.read(path))


@pytest.mark.parametrize("version", ["1.0", "1.1", "1.2"])
def test_every_post_with_comments_and_its_comments_are_read(tmp_path: Path, version: str) -> None:
    """Items with comments become articles (closed when comment_status is closed), followed by
    their comments in file order: text from HTML with autop's newlines, statuses from
    comment_approved, the user id or a guest's name as author key, never the e-mail, URL or
    IP; 0000-00-00 GMT dates fall back to the local date, then the post's, each reported;
    pingbacks are skipped and reported; any WXR 1.x namespace reads the same."""
    text = fixture(version)
    items = _read(tmp_path, text)
    bad_line = text[: text.index("\x1f")].count("\n") + 1
    assert items == [
        SourceArticle(
            key="10",
            url="https://blog.example.com/?p=10",
            title="Fish & chips",
            published_at=POST_DATE,
        ),
        _by_jo(
            article_key="10", id="3", parent_id="2", body="Me too \u2014 really.", posted_at=POSTED
        ),
        _by_jo(article_key="10", id="2", body="Line one\nline two\n\nNew para", posted_at=POSTED),
        _by_jo(article_key="10", id="4", body="rude", posted_at=POSTED, status="spam"),
        _by_jo(
            article_key="10",
            id="5",
            parent_id="4",
            body="I reply to the rude one",
            posted_at=POSTED,
        ),
        SourceComment(
            article_key="10",
            id="6",
            author_key="7",
            author_name="Jo Reader",
            body="wait for it",
            posted_at=POSTED,
            status="pending",
        ),
        _by_jo(article_key="10", id="7", body="buy pills", posted_at=POSTED, status="spam"),
        SourceComment(
            article_key="10",
            id="8",
            author_key="guest:Anon & Y.",
            author_name="Anon & Y.",
            body="no mail",
            posted_at=POSTED,
        ),
        SourceComment(article_key="10", id="9", body="nobody", posted_at=POSTED),
        SourceArticle(
            key="20",
            url="https://blog.example.com/?p=20",
            title="Closed",
            published_at=POST_DATE,
            closed=True,
        ),
        SourceProblem(
            where="comment 11",
            code="bad_date",
            detail="comment_date_gmt is '0000-00-00 00:00:00'; comment_date (the site's local"
            " time, zone unknown) read as UTC",
            article_key="20",
        ),
        _by_jo(
            article_key="20",
            id="11",
            body="local date",
            posted_at=datetime(2015, 6, 2, 10, 0, tzinfo=UTC),
        ),
        SourceProblem(
            where="comment 12",
            code="bad_date",
            detail="comment_date_gmt is '0000-00-00 00:00:00' and comment_date too; the post's"
            " date used",
            article_key="20",
        ),
        _by_jo(article_key="20", id="12", body="no date", posted_at=POST_DATE),
        SourceProblem(
            where="comment 13",
            code="pingback",
            detail="a pingback (another site's notice, not a reader's comment); skipped",
            article_key="20",
        ),
        _by_jo(article_key="20", id="14", body="first", posted_at=POSTED),
        _by_jo(article_key="20", id="14", body="second", posted_at=POSTED),
        SourceProblem(
            where="comment 15",
            code="unknown_status",
            detail="comment_approved 'maybe' is not one WordPress writes; held as pending",
            article_key="20",
        ),
        _by_jo(article_key="20", id="15", body="odd", posted_at=POSTED, status="pending"),
        SourceProblem(
            where=f"line {bad_line}",
            code="invalid_xml_char",
            detail="character U+001F is not allowed in XML 1.0; removed",
        ),
        SourceArticle(
            key="40",
            url="https://blog.example.com/?p=40",
            title="Bad chars",
            published_at=POST_DATE,
        ),
        _by_jo(article_key="40", id="16", body="ab & c", posted_at=POSTED),
    ]
    assert "example.com" not in repr([i for i in items if isinstance(i, SourceComment)])


def test_a_truncated_export_ends_with_a_fatal_problem(tmp_path: Path) -> None:
    """A file cut inside the second item yields the first item whole, then a fatal problem
    naming the line; the cut item's comments are not half-reported."""
    text = fixture()
    items = _read(tmp_path, text[: text.index("<wp:comment_id>14")])
    assert [type(item).__name__ for item in items[:-1]] == ["SourceArticle"] + ["SourceComment"] * 8
    last = items[-1]
    assert isinstance(last, SourceProblem)
    assert (last.code, last.fatal) == ("truncated_file", True)
    assert last.where == f"line {text[: text.index('<wp:comment_id>14')].count(chr(10)) + 1}"


def test_an_item_without_a_post_id_is_keyed_by_its_link(tmp_path: Path) -> None:
    """Hand-trimmed exports (Isso's test data has one) leave out wp:post_id: the item is keyed
    by its permalink instead, and reported; with neither, its comments are skipped, reported."""
    no_id = _item("", "No id", _comment("1", "kept")).replace("<wp:post_id></wp:post_id>\n", "")
    nothing = no_id.replace("<link>https://blog.example.com/?p=</link>\n", "")
    items = _read(tmp_path, _head("1.0") + no_id + nothing + "</channel>\n</rss>\n")
    link = "https://blog.example.com/?p="
    assert items == [
        SourceProblem(
            where="item 'No id'",
            code="missing_id",
            detail="an <item> has no wp:post_id; keyed by its link",
            article_key=link,
        ),
        SourceArticle(key=link, url=link, title="No id", published_at=POST_DATE),
        _by_jo(article_key=link, id="1", body="kept", posted_at=POSTED),
        SourceProblem(
            where="item 'No id'",
            code="missing_id",
            detail="an <item> with 1 comments has no wp:post_id and no link; skipped",
        ),
    ]
