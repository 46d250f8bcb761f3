"""Imported history on the real servers: posted with the `import` scope, decided as its source
had it (no holds, closed thread or ban), served with its old times, its holds and its scores,
and rebuilt into the same rows."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer
from litestar.testing import AsyncTestClient

from events import CommentPosted, Envelope
from projections import Worker
from projections.digest import digest
from projections.rebuild import rebuild
from projections.store import snapshot
from projections.verify import verify
from services.auth import create_key
from services.auth import migrate as migrate_keys
from services.ingest import create_app as create_ingest_app
from tests.integration.conftest import MakeKey, eventually, produce, records_in
from threadlog.settings import Settings

Client = AsyncTestClient[Any]
ARTICLE = "disqus:2012-first-post"


def event(
    event_id: str, type_: str, time: str, data: dict[str, Any], *, imported: bool = True
) -> dict[str, Any]:
    """An envelope as posted; marked as imported from Disqus unless told."""
    envelope = {"id": event_id, "type": type_, "time": time, "data": data}
    return envelope | ({"importedfrom": "disqus"} if imported else {})


def unmarked(envelope: dict[str, Any]) -> dict[str, Any]:
    """The same envelope as a live event: without the mark."""
    return {name: value for name, value in envelope.items() if name != "importedfrom"}


def comment(event_id: str, comment_id: str, time: str, **data: Any) -> dict[str, Any]:
    """A post on the article by `banned-ann`, with more links than the policy allows."""
    body = "see http://a.example http://b.example http://c.example"
    fields = {"article_id": ARTICLE, "comment_id": comment_id, "author_id": "banned-ann"}
    return event(event_id, "CommentPosted", time, {**fields, "body": body, **data})


IMPORT = [
    event(
        "imp-article",
        "ArticlePublished",
        "2012-01-01T00:00:00Z",
        {"article_id": ARTICLE, "title": "First post", "premoderated": True},
    ),
    comment("imp-c1", "c1", "2012-03-04T05:06:07Z"),
    # Posted after c1 in the log, but older: sorts before it.
    comment("imp-c3", "c3", "2012-02-01T00:00:00Z", score=7),
    comment("imp-c2", "c2", "2012-03-05T00:00:00Z", held=True),
    event(
        "imp-closed",
        "ArticleClosed",
        "2013-01-01T00:00:00Z",
        {"article_id": ARTICLE, "by": "disqus-moderator"},
    ),
]
"""What an importer would post for one Disqus thread: published premoderated, three comments
(one with a counted score, one the source held), closed after them."""


async def _keys(make_key: MakeKey) -> dict[str, str]:
    return {
        scope: await make_key(f"test-{scope}", [scope])
        for scope in ("import", "produce", "moderate")
    }


async def _post(client: Client, key: str, body: object) -> Any:
    return await client.post("/v1/events", json=body, headers={"Authorization": f"Bearer {key}"})


async def test_imported_history_is_served_as_its_source_had_it(
    settings: Settings,
    make_key: MakeKey,
    query: Client,
    worker: Worker,
    db: asyncpg.Connection[Any],
) -> None:
    """Into a premoderated thread closed after its comments, by an author banned (live) before
    the import: old comments show with their old times, in time order, not held; the one the
    source held waits in the moderation queue and is not served; a counted score adds to the
    live votes; a live comment is still refused by the closed thread; and a rebuild, like a
    fold of the log, gives back the same rows."""
    keys = await _keys(make_key)
    async with AsyncTestClient(create_ingest_app(settings.ingest())) as ingest:

        async def ready() -> bool:
            return bool((await ingest.get("/readyz")).status_code == 200)

        await eventually(ready, what="ingest to connect to Kafka")
        ban = event(
            "ban-ann",
            "AuthorBanned",
            "2026-01-01T00:00:00Z",
            {"author_id": "banned-ann", "moderator_id": "m"},
            imported=False,
        )
        assert (await _post(ingest, keys["moderate"], ban)).status_code == 202

        async def banned() -> bool:
            return bool((await query.get("/v1/events/ban-ann")).json()["status"] == "applied")

        # The ban in force first (another partition), so the import meets it, not only sweeps.
        await eventually(banned, what="the ban to be applied")
        assert (await _post(ingest, keys["import"], IMPORT)).status_code == 202
        vote = event(
            "vote-c3",
            "CommentVoted",
            "2026-01-02T00:00:00Z",
            {"article_id": ARTICLE, "comment_id": "c3", "voter_id": "v1", "vote": "up"},
            imported=False,
        )
        late = unmarked(comment("live-c4", "c4", "2026-01-02T00:00:00Z"))
        answer = await _post(ingest, keys["produce"], [vote, late])
        assert answer.status_code == 202

    async def decided() -> bool:
        return bool((await query.get("/v1/events/live-c4")).json()["status"] != "pending")

    await eventually(decided, what="the last event to be applied")
    page = (await query.get(f"/v1/articles/{ARTICLE}/thread", params={"sort": "oldest"})).json()
    assert [
        (c["comment_id"], c["status"], c["posted_at"], c["score"]) for c in page["comments"]
    ] == [
        ("c3", "visible", "2012-02-01T00:00:00Z", 8),
        ("c1", "visible", "2012-03-04T05:06:07Z", 0),
    ]
    assert page["article"]["closed"] is True
    top = (await query.get(f"/v1/articles/{ARTICLE}/thread", params={"sort": "top"})).json()
    assert [c["comment_id"] for c in top["comments"]] == ["c3", "c1"]
    queue = (await query.get("/v1/moderation/queue", params={"status": "pending"})).json()
    assert [(i["comment_id"], i["hold_reasons"]) for i in queue["items"]] == [
        ("c2", ["held_at_source"])
    ]
    statuses = {
        name: (await query.get(f"/v1/events/{name}")).json()
        for name in ("imp-c1", "imp-c2", "imp-closed", "live-c4")
    }
    assert {name: (s["status"], s.get("reason")) for name, s in statuses.items()} == {
        "imp-c1": ("applied", None),
        "imp-c2": ("applied", None),
        "imp-closed": ("applied", None),
        "live-c4": ("rejected", "article_closed"),
    }

    verdict = await verify(settings.worker(), db, "threads")
    assert verdict.differences == []
    before = await snapshot(db)
    conn = await asyncpg.connect(settings.database_url)
    try:
        await rebuild(settings.worker(), conn, "threads")
    finally:
        await conn.close()
    after = await snapshot(db)
    assert digest(after) == digest(before) == verdict.fold_digest
    assert after == before


async def test_the_mark_needs_the_import_scope(settings: Settings, make_key: MakeKey) -> None:
    """A key without `import` (holding the scopes of every type it posts) gets 403 for the
    mark, naming `importedfrom` at the event's index; nothing is appended."""
    keys = await _keys(make_key)
    both = await make_key("test-produce-moderate", ["produce", "moderate"])
    async with AsyncTestClient(create_ingest_app(settings.ingest())) as ingest:
        for key in (keys["produce"], both):
            answer = await _post(ingest, key, IMPORT)
            assert answer.status_code == 403
            error = answer.json()["error"]
            assert error["code"] == "forbidden"
            assert {(d["index"], d["field"]) for d in error["details"]} == {
                (i, "importedfrom") for i in range(len(IMPORT))
            }
        answer = await _post(ingest, keys["import"], unmarked(IMPORT[1]))
        assert answer.status_code == 403, "import grants nothing unmarked"
        assert answer.json()["error"]["details"][0]["field"] == "type"
    assert await records_in(settings) == 0


async def test_held_and_score_need_the_mark(settings: Settings, make_key: MakeKey) -> None:
    """An unmarked post with `held` or `score` is refused whole, 422 `import_only_field`,
    naming each field; nothing is appended."""
    keys = await _keys(make_key)
    extras: list[dict[str, Any]] = [{"held": True}, {"score": 3}, {}]
    async with AsyncTestClient(create_ingest_app(settings.ingest())) as ingest:
        body = [
            unmarked(comment(f"e{i}", f"c{i}", "2012-01-01T00:00:00Z", **extra))
            for i, extra in enumerate(extras)
        ]
        answer = await _post(ingest, keys["produce"], body)
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["code"] == "import_only_field"
    assert [(d["index"], d["field"]) for d in error["details"]] == [
        (0, "data.held"),
        (1, "data.score"),
    ]
    assert await records_in(settings) == 0


async def test_a_record_with_unmarked_import_fields_is_parked(
    settings: Settings, producer: AIOKafkaProducer, query: Client, worker: Worker
) -> None:
    """A record written past ingest with `held` but no mark is not applied as a hold: the
    worker parks it and its event is `dead_lettered`, as `verify`'s fold records it."""
    sneaked = Envelope(
        id="sneaked",
        type="CommentPosted",
        source="/elsewhere",
        time=datetime(2012, 1, 1, tzinfo=UTC),
        data=CommentPosted(article_id=ARTICLE, comment_id="c1", author_id="u", body="x", held=True),
    )
    await produce(producer, settings.topic, [sneaked])

    async def parked() -> bool:
        status = (await query.get("/v1/events/sneaked")).json()
        return bool(status["status"] == "dead_lettered")

    await eventually(parked, what="the worker to park the record")


async def test_a_keys_table_from_before_the_import_scope_takes_import_keys(
    settings: Settings,
) -> None:
    """A keys table made when the scopes were produce, moderate, operate and admin refuses an
    `import` key until `migrate` widens its check; an unknown scope is still refused after."""
    schema = f"{settings.pg_schema}_old_keys"
    conn = await asyncpg.connect(settings.database_url)
    try:
        await conn.execute(f'create schema "{schema}"')
        await conn.execute(f'set search_path to "{schema}"')
        await conn.execute(
            "create table api_keys (key_hash text primary key, name text not null,"
            " scopes text[] not null check (cardinality(scopes) > 0"
            " and scopes <@ array['produce', 'moderate', 'operate', 'admin']::text[]),"
            " created_at timestamptz not null default now(), revoked_at timestamptz)"
        )
        with pytest.raises(asyncpg.CheckViolationError):
            await create_key(conn, "before", ["import"])
        await migrate_keys(conn, schema)
        await migrate_keys(conn, schema)  # a second start finds the check as it wants it
        await conn.execute(f'set search_path to "{schema}"')
        assert (await create_key(conn, "importer", ["import"])).startswith("tl_")
        with pytest.raises(asyncpg.CheckViolationError):
            await create_key(conn, "unknown", ["root"])
    finally:
        await conn.execute(f'drop schema "{schema}" cascade')
        await conn.close()
