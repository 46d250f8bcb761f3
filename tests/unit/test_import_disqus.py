"""The Disqus XML export as importers/disqus.py reads it: what each thread and post yields."""

import gzip
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.disqus_export import write_export
from importers import _xml_stream, disqus
from importers.source import SourceArticle, SourceComment, SourceItem, SourceProblem

HEAD = (
    '<?xml version="1.0" encoding="utf-8"?>\n'
    '<disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals">\n'
    '<category dsq:id="9"><forum>site</forum><title>General</title></category>\n'
)


def _thread(
    dsq_id: str, link: str, title: str, closed: str = "false", deleted: str = "false"
) -> str:
    return (
        f'<thread dsq:id="{dsq_id}"><id></id><forum>site</forum><category dsq:id="9"/>'
        f"<link>{link}</link><title>{title}</title><message/>"
        "<createdAt>2013-01-02T03:04:05Z</createdAt>"
        "<author><name>Owner</name><email>owner@example.com</email>"
        "<isAnonymous>false</isAnonymous><username>owner</username></author>"
        f"<ipAddress>10.0.0.1</ipAddress><isClosed>{closed}</isClosed>"
        f"<isDeleted>{deleted}</isDeleted></thread>\n"
    )


def _post(
    dsq_id: str,
    thread: str,
    message: str,
    created: str = "2013-02-03T04:05:06Z",
    author: str = "<name>Ann Example</name><email>ann@example.com</email>"
    "<isAnonymous>false</isAnonymous><username>ann</username>",
    parent: str | None = None,
    deleted: str = "false",
    spam: str = "false",
) -> str:
    parent_ref = f'<parent dsq:id="{parent}"/>' if parent else ""
    return (
        f'<post dsq:id="{dsq_id}"><id/><message><![CDATA[{message}]]></message>'
        f"<createdAt>{created}</createdAt><isDeleted>{deleted}</isDeleted>"
        f"<isSpam>{spam}</isSpam><author>{author}</author><ipAddress>10.1.2.3</ipAddress>"
        f'<thread dsq:id="{thread}"/>{parent_ref}</post>\n'
    )


FIXTURE = (
    HEAD
    + _thread("100", "https://blog.example.com/a", "Tom &amp; Jerry&#39;s  &lt;post&gt;")
    # Disqus keeps the page's <title> as it found it, entities and all.
    + _thread(
        "200", "https://blog.example.com/b", "Closed &amp;#8216;one&amp;#8217;", closed="true"
    )
    + _thread("300", "https://blog.example.com/c", "Gone", deleted="true")
    # A reply before its parent in file order.
    + _post("2", "100", "<p>Agreed &amp; more.</p>", parent="1")
    + _post("1", "100", "<p>First!</p><script>steal()</script><p>Second para</p>")
    # A deleted parent with a live reply.
    + _post("3", "100", "", deleted="true")
    + _post("4", "100", "<p>Replying to a ghost</p>", parent="3")
    # A guest with no e-mail and no username; a zone-less time; an offset.
    + _post(
        "5",
        "200",
        "guest <a href='https://x.org/p?a=1&amp;b=2' rel='nofollow'>link</a>",
        created="2013-02-03T04:05:06",
        author="<name> Guest  Person </name><isAnonymous>true</isAnonymous>",
    )
    + _post("6", "200", "<p>offset</p>", created="2013-02-03T04:05:06+02:00", spam="true")
    # Nobody at all, and a date that is no date.
    + _post("7", "200", "nobody", created="0000-00-00T00:00:00", author="")
    # The same id twice: the reader says what the file says, the plan judges.
    + _post("7", "200", "again")
    + _post("8", "300", "x\x1cy\x1fz &#x1F; <b>ok</b>")
    # No thread to belong to.
    + _post("9", "", "lost")
    + "</disqus>\n"
)
T = datetime(2013, 2, 3, 4, 5, 6, tzinfo=UTC)


def _by_ann(**fields: Any) -> SourceComment:
    """A comment by the fixture's default author, who has a Disqus account."""
    return SourceComment(author_key="ann", author_name="Ann Example", **fields)


def _read(tmp_path: Path, text: str | bytes) -> list[SourceItem]:
    path = tmp_path / "export.xml"
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    return list(disqus.read(path))


def test_every_thread_and_post_is_read_as_the_file_says(tmp_path: Path) -> None:
    """Threads become articles as they end, posts comments in file order (replies before their
    parents stay so; the plan orders), with HTML and entities turned into text, times in UTC
    (zone-less is UTC), statuses from isDeleted/isSpam, the username or a guest's name as the
    author key, never an e-mail address; invalid characters are removed and reported by line."""
    items = _read(tmp_path, FIXTURE)
    assert items == [
        SourceArticle(
            key="100",
            url="https://blog.example.com/a",
            title="Tom & Jerry's <post>",
            published_at=datetime(2013, 1, 2, 3, 4, 5, tzinfo=UTC),
        ),
        SourceArticle(
            key="200",
            url="https://blog.example.com/b",
            title="Closed \u2018one\u2019",
            published_at=datetime(2013, 1, 2, 3, 4, 5, tzinfo=UTC),
            closed=True,
        ),
        SourceArticle(
            key="300",
            url="https://blog.example.com/c",
            title="Gone",
            published_at=datetime(2013, 1, 2, 3, 4, 5, tzinfo=UTC),
            deleted=True,
        ),
        _by_ann(article_key="100", id="2", parent_id="1", body="Agreed & more.", posted_at=T),
        _by_ann(article_key="100", id="1", body="First!\n\nSecond para", posted_at=T),
        _by_ann(article_key="100", id="3", body="", posted_at=T, status="deleted"),
        _by_ann(article_key="100", id="4", parent_id="3", body="Replying to a ghost", posted_at=T),
        SourceComment(
            article_key="200",
            id="5",
            author_key="guest:Guest Person",
            author_name="Guest Person",
            body="guest link (https://x.org/p?a=1&b=2)",
            posted_at=T,
        ),
        _by_ann(
            article_key="200",
            id="6",
            body="offset",
            posted_at=datetime(2013, 2, 3, 2, 5, 6, tzinfo=UTC),
            status="spam",
        ),
        SourceProblem(
            where="comment 7",
            code="bad_date",
            detail="createdAt '0000-00-00T00:00:00' is not a date; the comment has no time",
            article_key="200",
        ),
        SourceComment(article_key="200", id="7", body="nobody", posted_at=None),
        _by_ann(article_key="200", id="7", body="again", posted_at=T),
        SourceProblem(
            where="line 15",
            code="invalid_xml_char",
            detail="character U+001C is not allowed in XML 1.0; removed",
        ),
        SourceProblem(
            where="line 15",
            code="invalid_xml_char",
            detail="character U+001F is not allowed in XML 1.0; removed",
        ),
        SourceProblem(
            where="line 15",
            code="invalid_xml_char",
            detail="character &#x1F; is not allowed in XML 1.0; removed",
        ),
        _by_ann(article_key="300", id="8", body="xyz ok", posted_at=T),
        SourceProblem(
            where="comment 9", code="missing_id", detail="a <post> has no <thread dsq:id>; skipped"
        ),
    ]
    assert "example.com" not in repr([i for i in items if isinstance(i, SourceComment)])


def test_a_truncated_export_yields_what_came_before_and_a_fatal_problem(tmp_path: Path) -> None:
    """A file cut short (a download that stopped) ends with a fatal problem naming the line,
    after everything that could be read before the cut."""
    cut = FIXTURE.index('<post dsq:id="4">') + 30
    items = _read(tmp_path, FIXTURE[:cut])
    assert [getattr(item, "id", None) for item in items[3:-1]] == ["2", "1", "3"]
    last = items[-1]
    assert isinstance(last, SourceProblem)
    assert (last.where, last.code, last.fatal) == ("line 10", "truncated_file", True)
    assert "cut short" in last.detail


def test_broken_xml_is_a_fatal_problem_naming_the_line_and_what_is_wrong(tmp_path: Path) -> None:
    """A mismatched tag stops the reader with the line and expat's reason, after the records
    before it; nothing after it is yielded."""
    broken = FIXTURE.replace("<p>offset</p>]]></message>", "<p>offset</p>]]></messge>")
    items = _read(tmp_path, broken)
    assert [getattr(item, "id", None) for item in items if isinstance(item, SourceComment)] == [
        "2",
        "1",
        "3",
        "4",
        "5",
    ]
    last = items[-1]
    assert isinstance(last, SourceProblem)
    assert (last.where, last.code, last.fatal) == ("line 12", "malformed_xml", True)
    assert "mismatched tag" in last.detail


def test_an_invalid_character_across_two_chunks_is_still_found(tmp_path: Path) -> None:
    """A character reference cut in two by the reader's chunking is joined before the filter
    looks at it: &#x1C; split over a chunk's boundary is removed and reported once."""
    boundary = _xml_stream.CHUNK * 3
    filler = _post("0", "100", "<p>" + "a" * 100 + "</p>")
    padding = filler * (boundary // len(filler) - 10)
    start = len((HEAD + _thread("100", "u", "t") + padding).encode())
    shift = boundary - start - len('<post dsq:id="x"><id/><message><![CDATA[') - 3
    text = (
        HEAD
        + _thread("100", "u", "t")
        + padding
        + _post("x", "100", "b" * shift + "&#x1C;c")
        + "</disqus>\n"
    )
    assert text.encode()[boundary - 3 : boundary + 3] == b"&#x1C;"
    items = _read(tmp_path, text)
    problems = [item for item in items if isinstance(item, SourceProblem)]
    assert [(p.code, p.detail) for p in problems] == [
        ("invalid_xml_char", "character &#x1C; is not allowed in XML 1.0; removed")
    ]
    last = items[-1]
    assert isinstance(last, SourceComment)
    assert last.body == "b" * shift + "&#x1C;c".replace("&#x1C;", "")


def test_the_generated_export_is_the_same_for_a_seed(tmp_path: Path) -> None:
    """The benchmark compares runs: a seed gives the same bytes every time, another seed others,
    and the size asked for is met within one post."""
    sizes = []
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        write_export(tmp_path / name, size=200_000, seed=seed)
        sizes.append((tmp_path / name).stat().st_size)
    assert (tmp_path / "a").read_bytes() == (tmp_path / "b").read_bytes()
    assert (tmp_path / "a").read_bytes() != (tmp_path / "c").read_bytes()
    assert all(200_000 <= size < 200_000 + 4_000 for size in sizes)


def test_a_generated_export_reads_whole(tmp_path: Path) -> None:
    """The benchmark's generated export (bench/disqus_export.py) reads with every thread and
    post it wrote, its statuses and replies, and each invalid character reported."""
    path = tmp_path / "bench.xml"
    counts = write_export(path, size=1 << 20, seed=7)
    items = list(disqus.read(path))
    comments = [item for item in items if isinstance(item, SourceComment)]
    articles = [item for item in items if isinstance(item, SourceArticle)]
    problems = [item for item in items if isinstance(item, SourceProblem)]
    assert len(articles) == counts.threads
    assert sum(article.closed for article in articles) == counts.closed_threads
    assert len(comments) == counts.posts
    assert sum(comment.parent_id is not None for comment in comments) == counts.replies
    assert sum(comment.status == "deleted" for comment in comments) == counts.deleted
    assert sum(comment.status == "spam" for comment in comments) == counts.spam
    assert (
        sum(comment.author_key.startswith("guest:") for comment in comments if comment.author_key)
        == counts.guests
    )
    assert [problem.code for problem in problems] == ["invalid_xml_char"] * counts.invalid_chars
    assert all(comment.posted_at is not None for comment in comments)


_MEASURE_RSS = """
import resource, sys
from pathlib import Path
from typing import Any
from importers import _xml_stream, disqus
from importers.source import SourceComment
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
comments = sum(isinstance(item, SourceComment) for item in disqus.read(Path(sys.argv[1])))
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(comments, after - before)
"""


def test_memory_stays_bounded_whatever_the_size(tmp_path: Path) -> None:
    """A 50 MB export reads in a few megabytes more than the reader's process starts with
    (measured: under 1 MiB with 64 KiB chunks, 16 MiB with 1 MiB ones):
    nothing is kept from one record to the next (a 397 MB export ran another importer out of
    memory). Peak RSS growth, in a process of its own so that nothing else raised the peak
    first (tracemalloc slows the read twentyfold); not timed."""
    path = tmp_path / "big.xml"
    counts = write_export(path, size=50 << 20, seed=3)
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE_RSS, str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    comments, growth_kib = map(int, done.stdout.split())
    assert comments == counts.posts > 50_000
    assert growth_kib < 8 * 1024, f"peak RSS grew by {growth_kib / 1024:.1f} MiB"


def test_a_gzipped_export_reads_as_it_was_downloaded(tmp_path: Path) -> None:
    """Disqus sends its export gzipped: it reads without unzipping, the same items as the
    plain file; a gzip cut short ends with a fatal problem after what it held."""
    plain = _read(tmp_path, FIXTURE)
    packed = gzip.compress(FIXTURE.encode())
    assert _read(tmp_path, packed) == plain
    cut = _read(tmp_path, packed[: len(packed) * 2 // 3])
    last = cut[-1]
    assert isinstance(last, SourceProblem)
    assert (last.code, last.fatal) == ("truncated_file", True)
    assert cut[:-1] == plain[: len(cut) - 1]


def test_a_post_without_its_ids_is_reported_by_what_it_has(tmp_path: Path) -> None:
    """A post with no dsq:id (seen in real exports) is skipped and named by its legacy <id>,
    else its date, so that someone can find it in the file; the records around it are read."""
    text = (
        HEAD
        + _thread("100", "u", "t")
        + _post("1", "100", "before")
        + '<post><id>123456</id><message>no id</message><thread dsq:id="100"/></post>\n'
        + "<post><message>nothing</message><createdAt>2013-01-01T00:00:00Z</createdAt></post>\n"
        + _post("2", "100", "after")
        + "</disqus>\n"
    )
    items = _read(tmp_path, text)
    assert [
        (item.where, item.detail, item.article_key)
        for item in items
        if isinstance(item, SourceProblem)
    ] == [
        ("the post with <id> 123456", "a <post> has no dsq:id; skipped", "100"),
        ("the post with <createdAt> 2013-01-01T00:00:00Z", "a <post> has no dsq:id; skipped", None),
    ]
    assert [item.id for item in items if isinstance(item, SourceComment)] == ["1", "2"]


def test_a_thread_without_its_id_is_reported_by_its_link(tmp_path: Path) -> None:
    """A thread with no dsq:id cannot be named by its posts: it is skipped and reported by its
    link, and the threads after it are read."""
    nameless = _thread("", "https://blog.example.com/x", "x").replace(' dsq:id=""', "", 1)
    items = _read(tmp_path, HEAD + nameless + _thread("2", "u", "t") + "</disqus>\n")
    assert items[0] == SourceProblem(
        where="the thread with <link> https://blog.example.com/x",
        code="missing_id",
        detail="a <thread> has no dsq:id; skipped (its posts cannot name it)",
    )
    assert isinstance(items[1], SourceArticle)
    assert items[1].key == "2"
