"""`threadlog import` with sealing on (the default): no personal text reaches the log in clear.

Both paths are covered: a format read through the plan (the test reader of tests/import_items.py,
registered as `disqus`) and `threadlog import threadlog FILE` (another installation's export,
appended verbatim). The raw records are read with a plain Kafka consumer, as anyone with access
to the topic could; the served threads, read through the query service, still show the text.
"""

import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import msgspec
import pytest
from litestar.testing import AsyncTestClient

from events import ArticlePublished, CommentPosted, Envelope, encode_record
from importers.source import SourceArticle, SourceComment, SourceItem
from importers.threadlog_format import record_line
from projections import Worker
from tests import import_items
from tests.integration.conftest import committed_values, eventually
from tests.integration.test_erasure_faults import key_store_down
from threadlog.import_run import ImportOptions, run_import
from threadlog.settings import Settings

READERS = {"disqus": "tests.import_items:read"}
SECRET = "quokkaharmonica"
"""In every body imported here, so one search finds any of it."""
NAME = "Ottoline Brassfeather"
T0 = datetime(2015, 3, 4, 5, 6, 7, tzinfo=UTC)


@pytest.fixture
def base_settings(base_settings: Settings) -> Settings:
    """Sealing on whatever THREADLOG_ENCRYPT_PERSONAL_DATA says: these tests are about it."""
    return msgspec.structs.replace(base_settings, encrypt_personal_data=True)


async def key_rows(settings: Settings) -> int:
    """How many data keys the test's key store holds."""
    conn = await asyncpg.connect(settings.database_url)
    try:
        count: int = await conn.fetchval(
            f'select count(*) from "{settings.key_store_schema}".subject_keys'
        )
        return count
    finally:
        await conn.close()


async def served_bodies(query: AsyncTestClient[Any], article_id: str, count: int) -> list[str]:
    """The bodies of `article_id`'s top-level comments, once `count` of them are served."""
    found: list[str] = []

    async def served() -> bool:
        nonlocal found
        page = (await query.get(f"/v1/articles/{article_id}/thread", params={"limit": 100})).json()
        found = [c["body"] for c in page.get("comments", [])]
        return len(found) >= count

    await eventually(served, what=f"{count} comments of {article_id} to be served")
    return found


def assert_nothing_in_clear(values: dict[tuple[int, int], bytes]) -> None:
    """No record value holds the secret word or the name, and the comments are sealed."""
    assert values
    for value in values.values():
        assert SECRET.encode() not in value
        assert NAME.encode() not in value
        assert b"Brassfeather" not in value
    assert sum(b'"enc":"v1"' in value for value in values.values()) >= 3


async def test_an_imported_file_is_sealed_in_the_log_and_served_in_clear(
    settings: Settings, worker: Worker, query: AsyncTestClient[Any], tmp_path: Path
) -> None:
    """Bodies and names of a file read through the plan are sealed under their authors' keys
    (one key per author, made on the way), while the threads serve them as written."""
    path = tmp_path / "export.jsonl"
    items: list[SourceItem] = [
        SourceArticle(key="7", title="Sealed import"),
        *(
            SourceComment(
                article_key="7",
                id=str(n),
                body=f"{SECRET} number {n}",
                posted_at=T0.replace(minute=n),
                author_key=f"user-{n % 2}",
                author_name=NAME,
            )
            for n in range(4)
        ),
    ]
    import_items.write(path, items)
    report = await run_import(
        settings,
        ImportOptions(format="disqus", path=path),
        readers=READERS,
        progress=io.StringIO(),
    )
    assert (report.failed, report.events_appended) == (None, 5)
    assert_nothing_in_clear(await committed_values(settings))
    assert await key_rows(settings) == 2
    bodies = await served_bodies(query, "disqus-7", 4)
    assert sorted(bodies) == [f"{SECRET} number {n}" for n in range(4)]


def log_export(path: Path) -> None:
    """Another installation's export, in clear as `threadlog export` writes it."""
    events: list[Envelope] = [
        Envelope(
            id="moved-pub",
            type="ArticlePublished",
            source="/cms",
            time=T0,
            data=ArticlePublished(article_id="moved", title="Moved"),
            recordedtime=T0,
        ),
        *(
            Envelope(
                id=f"moved-{n}",
                type="CommentPosted",
                source="/cms",
                time=T0,
                recordedtime=T0,
                data=CommentPosted(
                    article_id="moved",
                    comment_id=f"c{n}",
                    author_id="ottoline",
                    author_name=NAME,
                    body=f"{SECRET} moved {n}",
                ),
            )
            for n in range(3)
        ),
    ]
    with path.open("wb") as file:
        for event in events:
            _, value, headers = encode_record(event)
            file.write(record_line(headers, value))


async def test_an_imported_export_is_sealed_under_this_installations_keys(
    settings: Settings, worker: Worker, query: AsyncTestClient[Any], tmp_path: Path
) -> None:
    """`threadlog import threadlog FILE` appends the exported events with their ids and times,
    their personal fields sealed under this installation's keys, as ingest would have."""
    path = tmp_path / "threadlog.jsonl"
    log_export(path)
    options = ImportOptions(format="threadlog", path=path)
    report = await run_import(settings, options, progress=io.StringIO())
    assert (report.failed, report.events_appended) == (None, 4)
    assert_nothing_in_clear(await committed_values(settings))
    assert await key_rows(settings) == 1
    bodies = await served_bodies(query, "moved", 3)
    assert sorted(bodies) == [f"{SECRET} moved {n}" for n in range(3)]


async def test_a_key_store_that_does_not_answer_stops_the_import_with_nothing_in_clear(
    settings: Settings, tmp_path: Path
) -> None:
    """Unavailable is never a reason to append in clear: the import stops, says the key store
    did not answer and that running it again finishes it, and the log holds nothing."""
    quick = msgspec.structs.replace(settings, db_timeout_s=0.5)
    path = tmp_path / "threadlog.jsonl"
    log_export(path)
    async with key_store_down(quick):
        report = await run_import(
            quick, ImportOptions(format="threadlog", path=path), progress=io.StringIO()
        )
    assert report.failed is not None
    assert "key store" in report.failed
    assert "Run the same command again" in report.failed
    assert report.events_appended == 0
    assert await committed_values(quick) == {}
