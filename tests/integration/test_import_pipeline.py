"""`threadlog import` on the real Kafka and PostgreSQL: served threads as the file says, and
running it again (or again after a kill halfway) doubles nothing and says so.

The file is read by a tiny reader of SourceItems (tests/import_items.py) registered as the
`disqus` format for the test, so the pipeline is tested apart from any real format's reader.
"""

import asyncio
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from events import ArticlePublished, CommentPosted, Envelope, Limits, encode_record
from importers.ids import IdMaker
from importers.plan import Planner, plan_items
from importers.source import SourceArticle, SourceComment, SourceItem, SourceVote
from importers.threadlog_format import record_line
from projections import Worker
from tests import import_items
from tests.integration.conftest import eventually
from threadlog import installation_secret
from threadlog.import_cmd import print_report
from threadlog.import_run import ImportOptions, ImportReport, run_import
from threadlog.settings import Settings

READERS = {"disqus": "tests.import_items:read"}
T0 = datetime(2014, 5, 6, 7, 8, 9, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def comment(cid: str, minutes: int, **fields: Any) -> SourceComment:
    base: dict[str, Any] = {
        "article_key": "101",
        "id": cid,
        "body": f"comment {cid}",
        "posted_at": at(minutes),
        "author_key": f"user-{cid}",
        "author_name": f"User {cid}",
    }
    return SourceComment(**(base | fields))


def nasty_thread() -> list[SourceItem]:
    """A closed thread with a reply before its deleted parent, a held comment, a deleted one
    without replies, a score, votes and a pin; and a second, open thread."""
    return [
        comment("3", 30, parent_id="2"),
        SourceArticle(key="101", title="Old post", url="https://old.example/p/101", closed=True),
        comment("1", 10, score=3, votes=(SourceVote("v1", True),), pinned=True),
        comment("2", 20, status="deleted", body=""),
        comment("4", 40, status="pending"),
        comment("5", 50, parent_id="1"),
        comment("6", 60, status="deleted"),
        SourceArticle(key="102", title="Another"),
        comment("7", 5, article_key="102"),
    ]


def planned_event_count(items: list[SourceItem]) -> int:
    """How many events the plan makes of `items` (ids do not depend on the secret)."""
    planner = Planner(IdMaker("disqus", b"x" * 32), Limits(), datetime.now(UTC))
    return sum(len(plan.events) for plan in plan_items(items, planner))


async def applied_imports(settings: Settings) -> int:
    conn = await asyncpg.connect(settings.database_url)
    try:
        count: int = await conn.fetchval(
            f'select count(*) from "{settings.pg_schema}".applied_events'
            " where projection = 'threads' and event_id like 'imp:%'"
        )
        return count
    finally:
        await conn.close()


async def all_applied(settings: Settings, expected: int) -> None:
    async def done() -> bool:
        return await applied_imports(settings) >= expected

    await eventually(done, what=f"the worker to apply {expected} imported events", timeout_s=60)


async def imported(
    settings: Settings, path: Path, report: ImportReport | None = None, workers: int = 0
) -> ImportReport:
    return await run_import(
        settings,
        ImportOptions(format="disqus", path=path, workers=workers),
        report=report,
        readers=READERS,
        progress=io.StringIO(),
    )


def flatten(comments: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for c in comments:
        yield c
        yield from flatten(c["replies"])


async def test_import_serves_threads_as_the_file_says(
    settings: Settings, worker: Worker, query: AsyncTestClient[Any], tmp_path: Path
) -> None:
    """Nesting, times, tombstone with its reply in place, held, score, pin, closed; a second
    run appends nothing and says every event was imported already."""
    items = nasty_thread()
    path = tmp_path / "export.jsonl"
    import_items.write(path, items)
    report = await imported(settings, path)
    assert report.failed is None
    expected = planned_event_count(items)
    assert (report.events_appended, report.already_imported) == (expected, 0)
    await all_applied(settings, expected)

    page = (await query.get("/v1/articles/disqus-101/thread", params={"sort": "oldest"})).json()
    assert page["article"]["title"] == "Old post"
    assert page["article"]["closed"] is True
    comments = {c["comment_id"]: c for c in flatten(page["comments"])}
    assert set(comments) == {"1", "2", "3", "5"}
    assert [c["comment_id"] for c in page["comments"]] == ["1", "2"]  # pinned, then by time
    assert [r["comment_id"] for r in comments["1"]["replies"]] == ["5"]
    assert [r["comment_id"] for r in comments["2"]["replies"]] == ["3"]
    assert comments["2"]["status"] == "deleted"
    assert comments["1"]["pinned"] is True
    assert comments["1"]["score"] == 4  # 3 counted by the source, 1 vote by a voter
    assert datetime.fromisoformat(comments["3"]["posted_at"]) == at(30)
    assert comments["5"]["author_name"] == "User 5"
    assert comments["5"]["author_id"].startswith("disqus-")
    queue = (await query.get("/v1/moderation/queue", params={"status": "pending"})).json()
    assert [c["comment_id"] for c in queue["items"]] == ["4"]
    other = (await query.get("/v1/articles/disqus-102/thread")).json()
    assert other["article"]["closed"] is False
    assert [c["comment_id"] for c in other["comments"]] == ["7"]

    again = await imported(settings, path)
    assert (again.events_appended, again.already_imported) == (0, expected)
    text = io.StringIO()
    print_report(again, ImportOptions(format="disqus", path=path), as_json=False, out=text)
    assert f"already imported: {expected} events" in text.getvalue()
    assert "nothing new" in text.getvalue()
    assert await applied_imports(settings) == expected


def many_threads(articles: int, per_article: int) -> list[SourceItem]:
    items: list[SourceItem] = []
    for a in range(articles):
        items.append(SourceArticle(key=f"a{a}", title=f"Thread {a}"))
        for n in range(per_article):
            parent = str(n // 2) if n else None
            items.append(comment(str(n), n, article_key=f"a{a}", parent_id=parent))
    return items


async def test_a_kill_halfway_then_a_rerun_completes_and_doubles_nothing(
    settings: Settings, worker: Worker, query: AsyncTestClient[Any], tmp_path: Path
) -> None:
    """Cancelled after its first batches, the import leaves some threads in; run again, it
    appends the rest, reports what it found applied, and every comment is there once."""
    items = many_threads(articles=24, per_article=600)
    path = tmp_path / "export.jsonl"
    import_items.write(path, items)
    expected = planned_event_count(items)

    report = ImportReport()
    # Planned by worker processes, as a large file is: the kill stops them too.
    task = asyncio.create_task(imported(settings, path, report, workers=2))

    async def some_batches() -> bool:
        return report.batches >= 1 or task.done()

    await eventually(some_batches, what="the first batches to be appended")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert 0 < report.events_appended < expected
    await all_applied(settings, report.events_appended)

    rerun = await imported(settings, path, workers=2)
    assert rerun.failed is None
    assert rerun.already_imported >= report.events_appended
    assert rerun.events_appended + rerun.already_imported == expected
    await all_applied(settings, expected)
    # The served counts are kept by the worker event by event: an event applied twice counts twice.
    ids = [f"disqus-a{a}" for a in range(24)]
    counts = (await query.get("/v1/counts", params={"article_id": ids})).json()["counts"]
    assert counts == dict.fromkeys(ids, 600)
    assert await applied_imports(settings) == expected


def log_export(path: Path, count: int) -> int:
    """An export of another installation's log (one thread of `count` comments) as
    `threadlog export` writes it; the number of events."""
    recorded = datetime(2026, 11, 30, tzinfo=UTC)

    def envelope(event_id: str, data: Any) -> Envelope:
        return Envelope(
            id=event_id,
            type=type(data).__name__,
            source="/cms",
            time=T0,
            data=data,
            recordedtime=recorded,
        )

    events = [envelope("e-pub", ArticlePublished(article_id="moved", title="Moved"))]
    events += [
        envelope(
            f"e-{n}",
            CommentPosted(article_id="moved", comment_id=f"c{n}", author_id="u", body=f"b{n}"),
        )
        for n in range(count)
    ]
    with path.open("wb") as file:
        for event in events:
            _, value, headers = encode_record(event)
            file.write(record_line(headers, value))
    return len(events)


async def test_threadlog_export_is_appended_as_it_is_and_once(
    settings: Settings, worker: Worker, query: AsyncTestClient[Any], tmp_path: Path
) -> None:
    """`threadlog import threadlog FILE`: the events as exported (same ids, no plan), served;
    a second run appends nothing and says so."""
    path = tmp_path / "threadlog.jsonl"
    expected = log_export(path, 30)
    options = ImportOptions(format="threadlog", path=path)
    report = await run_import(settings, options, progress=io.StringIO())
    assert (report.failed, report.events_appended, report.comments_read) == (None, expected, 30)
    await eventually(
        lambda: _applied(settings, "e-%", expected), what="the exported events to apply"
    )
    page = (await query.get("/v1/articles/moved/thread", params={"limit": 100})).json()
    assert len(page["comments"]) == 30
    again = await run_import(settings, options, progress=io.StringIO())
    assert (again.events_appended, again.already_imported) == (0, expected)


async def _applied(settings: Settings, pattern: str, expected: int) -> bool:
    conn = await asyncpg.connect(settings.database_url)
    try:
        count: int = await conn.fetchval(
            f'select count(*) from "{settings.pg_schema}".applied_events where event_id like $1',
            pattern,
        )
        return count >= expected
    finally:
        await conn.close()


async def test_the_installation_secret_is_made_once_for_every_machine(settings: Settings) -> None:
    """Connections made at once (two machines importing) get one secret, kept across runs."""
    conns = [await asyncpg.connect(settings.database_url) for _ in range(3)]
    try:
        await installation_secret.migrate(conns[0], settings.pg_schema)
        secrets = await asyncio.gather(
            *(installation_secret.secret(c, settings.pg_schema) for c in conns)
        )
        again = await installation_secret.secret(conns[0], settings.pg_schema)
    finally:
        for conn in conns:
            await conn.close()
    assert len(set(secrets)) == 1
    assert again == secrets[0]
    assert len(again) == 32
