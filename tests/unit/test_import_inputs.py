"""What an import reads besides the export: the format table, the --map file, the spill."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from importers.article_map import BadMap, read_map
from importers.formats import READERS, UnknownFormat, reader_for
from importers.source import SourceArticle, SourceComment, SourceItem, SourceProblem
from importers.spill import Spill


def test_unknown_format_names_the_formats() -> None:
    """A format nobody reads is refused with the list of those that exist."""
    with pytest.raises(UnknownFormat, match=r"'blogger' is not a format.*disqus, wordpress"):
        reader_for("blogger")


def test_a_format_whose_reader_is_missing_says_so() -> None:
    """A registered format whose module is not there yet fails clearly, naming it."""
    with pytest.raises(UnknownFormat, match=r"future reader \(importers.future_format\) is not"):
        reader_for("future", {"future": "importers.future_format:read"})


def test_a_registered_reader_is_imported_when_asked_for() -> None:
    """Adding a format is one line: `name -> module:function`."""
    reader = reader_for("x", {"x": "importers.source:lines_of"})
    assert reader.__name__ == "lines_of"
    assert set(READERS) == {"disqus", "wordpress", "isso", "remark42", "commento", "threadlog"}


def test_map_reads_keys_and_urls(tmp_path: Path) -> None:
    """Two columns, comments and blank lines left out."""
    path = tmp_path / "map.csv"
    path.write_text("# old,new\n\nhttps://old/a?x=1,news-1\n123,wp:7\n")
    assert read_map(path) == {"https://old/a?x=1": "news-1", "123": "wp:7"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a,b,c\n", "line 1 .*expected two columns"),
        ("ok,fine\n\nx,not an id\n", "line 3 .*'not an id' is not an article id"),
        (",id\n", "line 1 .*first column"),
        ("a,one\na,two\n", "line 2 .*mapped twice"),
    ],
)
def test_map_errors_name_the_line(tmp_path: Path, text: str, message: str) -> None:
    """A bad map is refused before anything is read, naming the line and what is wrong."""
    path = tmp_path / "map.csv"
    path.write_text(text)
    with pytest.raises(BadMap, match=message):
        read_map(path)


def test_spill_groups_by_article_and_stops_at_a_fatal_problem() -> None:
    """Items come back per article, in file order; a fatal problem ends the reading."""

    def comment(cid: str, key: str) -> SourceComment:
        return SourceComment(
            article_key=key, id=cid, body="b", posted_at=datetime(2020, 1, 1, tzinfo=UTC)
        )

    items: list[SourceItem] = [
        comment("1", "b"),
        SourceArticle(key="a"),
        comment("2", "a"),
        SourceProblem(where="line 3", code="bad_date", detail="?", article_key="a"),
        comment("3", "b"),
        SourceProblem(where="line 4", code="odd", detail="?"),
        SourceProblem(where="line 5", code="truncated_file", detail="?", fatal=True),
        comment("4", "a"),
    ]
    with Spill() as spill:
        spill.fill(items)
        grouped = list(spill.by_article())
        assert spill.fatal is not None
        assert spill.fatal.code == "truncated_file"
        assert [p.code for p in spill.general_problems()] == ["odd", "truncated_file"]
    assert [(g.key, g.article is not None, [c.id for c in g.comments]) for g in grouped] == [
        ("a", True, ["2"]),
        ("b", False, ["1", "3"]),
    ]
    assert [p.code for p in grouped[0].problems] == ["bad_date"]
