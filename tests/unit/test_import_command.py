"""`threadlog import` without servers: the dry run, its report, --json, a fatal problem, the bar."""

import asyncio
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from importers.source import SourceArticle, SourceComment, SourceItem, SourceProblem
from tests import import_items
from threadlog.cli import main
from threadlog.import_cmd import print_report
from threadlog.import_run import ImportOptions, ImportReport, run_import
from threadlog.progress import ProgressBar, line
from threadlog.settings import Settings

READERS = {"disqus": "tests.import_items:read"}
T = datetime(2019, 1, 1, tzinfo=UTC)
# Nothing listens here: a dry run that tried to connect would fail.
NOWHERE = Settings(
    kafka_bootstrap_servers="127.0.0.1:1", database_url="postgresql://nobody@127.0.0.1:1/none"
)


def write(tmp_path: Path, items: list[SourceItem]) -> Path:
    path = tmp_path / "export.jsonl"
    import_items.write(path, items)
    return path


def run(path: Path, *, dry_run: bool = True) -> tuple[ImportReport, ImportOptions]:
    options = ImportOptions(format="disqus", path=path, dry_run=dry_run)
    report = asyncio.run(run_import(NOWHERE, options, readers=READERS, progress=io.StringIO()))
    return report, options


ITEMS: list[SourceItem] = [
    SourceArticle(key="a", title="A"),
    SourceComment(article_key="a", id="1", body="hi", posted_at=T),
    SourceComment(article_key="a", id="2", body=" ", posted_at=T),
    SourceComment(article_key="a", id="3", body="re", posted_at=T, parent_id="gone"),
    SourceArticle(key="b", title="B", deleted=True),
    SourceComment(article_key="b", id="9", body="x", posted_at=T),
]


def test_dry_run_reports_each_article_problems_and_totals(tmp_path: Path) -> None:
    """Per article what would be imported and its problems, then the totals; no server is
    reached (the settings point nowhere)."""
    report, options = run(write(tmp_path, ITEMS))
    out = io.StringIO()
    print_report(report, options, as_json=False, out=out)
    assert out.getvalue().splitlines() == [
        "a -> disqus-a: 2 comments, 0 tombstones; skipped: empty_body 1",
        "    [a] comment 3: orphan: replies to gone, which is not in this article;"
        " imported as a top-level comment",
        "    [a] comment 2: empty_body: no visible text; not imported",
        "b -> disqus-b: 0 comments, 0 tombstones; skipped: article_deleted 1",
        "would import: 1 articles, 2 comments, 0 tombstones (of 4 comments read)",
        "skipped: article_deleted 1, empty_body 1",
        "problems: 2",
    ]


def test_json_prints_one_object_per_article(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--json: stdout holds one object per article, nothing else; the totals go to stderr."""
    report, options = run(write(tmp_path, ITEMS))
    out = io.StringIO()
    print_report(report, options, as_json=True, out=out)
    objects = [json.loads(line) for line in out.getvalue().splitlines()]
    assert objects[0] == {
        "source": "a",
        "article_id": "disqus-a",
        "comments": 2,
        "tombstones": 0,
        "skipped": {"empty_body": 1},
        "already_imported": 0,
    }
    assert [o["source"] for o in objects] == ["a", "b"]
    assert "would import" in capsys.readouterr().err


def test_a_fatal_problem_appends_nothing_and_says_where(tmp_path: Path) -> None:
    """A truncated file: the import stops before connecting anywhere, and says so."""
    items = [
        *ITEMS,
        SourceProblem(where="line 7", code="truncated_file", detail="ends mid-element", fatal=True),
    ]
    report, options = run(write(tmp_path, items), dry_run=False)
    assert report.fatal is not None
    assert report.events_appended == 0
    out = io.StringIO()
    print_report(report, options, as_json=False, out=out)
    assert "stopped at line 7: ends mid-element" in out.getvalue()
    assert "nothing was appended" in out.getvalue()


def test_unknown_format_or_bad_map_exit_before_reading(tmp_path: Path) -> None:
    """The command refuses a format it does not read, or a bad map, naming what is wrong."""
    path = write(tmp_path, ITEMS)
    with pytest.raises(SystemExit, match="'blogger' is not a format"):
        main(["import", "blogger", str(path)])
    bad = tmp_path / "map.csv"
    bad.write_text("only-one-column\n")
    with pytest.raises(SystemExit, match=r"line 1 .*two columns"):
        main(["import", "disqus", str(path), "--map", str(bad)])
    with pytest.raises(SystemExit, match="no such file"):
        main(["import", "disqus", str(tmp_path / "missing.xml")])


def test_progress_line_shows_rate_and_eta() -> None:
    """Done of total, the rate, and the time left at that rate."""
    assert line("importing", 5_000, 20_000, 2.0) == (
        "importing [######------------------] 5,000/20,000  2,500/s  ETA 0:06"
    )
    assert line("reading", 1_000, None, 0.5) == "reading 1,000  2,000/s"


def test_progress_bar_draws_nothing_when_not_a_terminal() -> None:
    """Piped or redirected, stderr gets no bar (no carriage returns in a log)."""
    stream = io.StringIO()
    bar = ProgressBar("x", stream)
    bar.update(1, 2, force=True)
    bar.close()
    assert stream.getvalue() == ""


def test_no_database_stops_with_nothing_appended(tmp_path: Path) -> None:
    """Without PostgreSQL (the secret, the applied ids) the import stops, saying so."""
    report, _ = run(write(tmp_path, ITEMS), dry_run=False)
    assert report.failed is not None
    assert report.failed.startswith("PostgreSQL did not answer")
    assert report.events_appended == 0


def test_a_truncated_threadlog_export_appends_nothing(tmp_path: Path) -> None:
    """The `threadlog` format is checked to its end before anything is appended: a cut last
    line stops it with nothing appended (no server is reached)."""
    path = tmp_path / "export.jsonl"
    path.write_bytes(b'{"specversion":"1.0","id":"e1","type":"ArticlePublished","so')
    options = ImportOptions(format="threadlog", path=path)
    report = asyncio.run(run_import(NOWHERE, options, progress=io.StringIO()))
    assert report.fatal is not None
    assert report.fatal.code == "truncated_file"
    assert report.failed == "the file could not be read to its end; nothing was appended"
