"""What `threadlog import` does for its speed, which must not change what it imports."""

import asyncio
import gc
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from importers.source import SourceArticle, SourceComment, SourceItem
from threadlog.import_run import GC_THRESHOLD, ImportOptions, run_import
from threadlog.settings import Settings

_SEEN: list[tuple[int, int, int]] = []


def _reader(path: Path) -> Iterator[SourceItem]:
    """A reader that notes the collector's thresholds while the import reads."""
    _SEEN.append(gc.get_threshold())
    yield SourceArticle(key="a", title=path.name)
    yield SourceComment(
        article_key="a", id="1", body="hi", posted_at=datetime(2020, 1, 1, tzinfo=UTC)
    )


def _broken(path: Path) -> Iterator[SourceItem]:
    raise RuntimeError(f"cannot read {path}")
    yield  # a generator, as readers are


def _dry_run(tmp_path: Path, reader: str) -> int:
    path = tmp_path / "export"
    path.write_text("")
    options = ImportOptions(format="disqus", path=path, dry_run=True)
    settings = Settings(database_url="postgresql://nobody@127.0.0.1:1/none")
    report = asyncio.run(
        run_import(settings, options, readers={"disqus": reader}, progress=io.StringIO())
    )
    return sum(article.comments for article in report.articles)


def test_the_collector_runs_less_often_during_an_import_and_as_before_after(
    tmp_path: Path,
) -> None:
    """The import raises the cyclic collector's thresholds while it runs (its CPU: a fifth
    went to collections), and gives the process back its own, even when the reader fails."""
    before = gc.get_threshold()
    _SEEN.clear()
    assert _dry_run(tmp_path, f"{__name__}:_reader") == 1
    assert _SEEN == [GC_THRESHOLD]
    assert gc.get_threshold() == before != GC_THRESHOLD
    with pytest.raises(RuntimeError):
        _dry_run(tmp_path, f"{__name__}:_broken")
    assert gc.get_threshold() == before
