"""Reply notifications end to end: ingest, Kafka, the notifier and worker, the query service."""

import json
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from events import Limits, decode_request
from projections import Worker
from services.notifications import handle, migrate
from services.query import create_app as create_query_app
from tests.integration.conftest import MakeKey, eventually
from tests.integration.test_lifecycle_api import Client, ev, get, post, send
from threadlog.settings import Settings


@pytest.mark.usefixtures("notifier")
async def test_replies_and_decisions_notify_the_author_and_can_be_marked_read(
    ingest: Client, query: Client, worker: Worker
) -> None:
    """A reply by someone else and a moderator's decision notify the comment's author; a reply
    to oneself, a refused reply and a held reply do not; mark-as-read lowers the unread count."""
    script = [
        ev("ArticlePublished", 0, article_id="art", title="T"),
        post("c1", 1, author="ann"),
        reply := post("c2", 2, author="bob", parent="c1"),
        post("c3", 3, author="ann", parent="c1"),  # her own reply
        held := post("c4", 4, author="cy", parent="c1", body="see http://a http://b http://c"),
        decision := ev(
            "CommentModerated",
            5,
            article_id="art",
            comment_id="c1",
            moderator_id="m",
            action="feature",
        ),
        ev("ArticleClosed", 6, article_id="art", by="m"),
        post("c5", 7, author="dan", parent="c1"),  # refused: the thread is closed
        last := post("z", 8, author="zed", article="other"),
    ]
    outcomes = await send(ingest, query, script)
    assert outcomes[held["id"]]["status"] == "applied"

    async def notified() -> bool:
        page = await get(query, "/v1/authors/ann/notifications")
        return bool(page["unread"] == 2)

    await eventually(notified, what="the notifier to store ann's two notifications")
    page = await get(query, "/v1/authors/ann/notifications")
    assert [(item["id"], item["kind"], item.get("action")) for item in page["items"]] == [
        (decision["id"], "moderation", "feature"),
        (reply["id"], "reply", None),
    ]
    assert page["items"][1] | {"at": None} == {
        "id": reply["id"],
        "kind": "reply",
        "article_id": "art",
        "comment_id": "c1",
        "reply_id": "c2",
        "actor_id": "bob",
        "at": None,
        "read": False,
    }
    assert (await get(query, "/v1/authors/zed/notifications"))["items"] == []
    assert last["id"]

    marked = await query.post("/v1/authors/ann/notifications/read", json={"ids": [reply["id"]]})
    assert marked.status_code == 200, marked.text
    assert marked.json() == {"marked": 1, "unread": 1}
    unread = await get(query, "/v1/authors/ann/notifications", unread="true")
    assert [item["id"] for item in unread["items"]] == [decision["id"]]
    everything = await query.post("/v1/authors/ann/notifications/read", json={})
    assert everything.json() == {"marked": 1, "unread": 0}


@pytest.mark.usefixtures("notifier")
async def test_notifications_page_by_cursor_and_mark_read_needs_a_key(
    ingest: Client, query: Client, worker: Worker
) -> None:
    """Notifications page newest first by cursor; anonymous mark-as-read is refused with 401."""
    replies = [post(f"r{i}", 2 + i, author=f"u{i}", parent="c1") for i in range(5)]
    await send(
        ingest,
        query,
        [ev("ArticlePublished", 0, article_id="art", title="T"), post("c1", 1), *replies],
    )

    async def all_five() -> bool:
        return bool((await get(query, "/v1/authors/ann/notifications"))["unread"] == 5)

    await eventually(all_five, what="five notifications")
    seen: list[Any] = []
    cursor = None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = await get(query, "/v1/authors/ann/notifications", **params)
        seen += [item["reply_id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["r4", "r3", "r2", "r1", "r0"]
    anonymous = await query.post(
        "/v1/authors/ann/notifications/read", json={}, headers={"Authorization": ""}
    )
    assert anonymous.status_code == 401
    # Found by `make fuzz`: a NUL in an id reached PostgreSQL and answered 500.
    nul = await query.post("/v1/authors/ann/notifications/read", json={"ids": ["a\u0000b"]})
    assert nul.status_code == 400
    assert nul.json()["error"]["code"] == "invalid_parameter"


async def test_a_redelivered_event_notifies_once(settings: Settings, db: Any) -> None:
    """At least once means an event can come twice: the second handling changes nothing."""
    await migrate(db, settings.pg_schema)
    parent, reply = decode_request(
        json.dumps(
            [
                post("c1", 1, author="ann"),
                post("c2", 2, author="bob", parent="c1"),
            ]
        ).encode(),
        Limits(),
    )
    for envelope in (parent, reply, reply, parent, reply):
        await handle(db, envelope)
    rows = await db.fetch("select recipient_id, event_id, kind from notifications")
    assert [tuple(row) for row in rows] == [("ann", reply.id, "reply")]
    assert await db.fetchval("select count(*) from notifier_comments") == 2


async def test_an_authors_notifications_are_read_only_with_a_produce_key(
    settings: Settings, make_key: MakeKey, db: Any
) -> None:
    """Notifications say what happened to someone's comments: no anonymous reader may list
    another author's (401), nor a key without `produce` (403); the producer backend, which
    signed its reader in, reads them with its key (200), as it marks them read."""
    await migrate(db, settings.pg_schema)
    keys = {s: await make_key(f"k-{s}", [s]) for s in ("produce", "moderate", "admin")}
    path = "/v1/authors/ann/notifications"
    async with AsyncTestClient(create_query_app(settings.query())) as client:
        anonymous = await client.get(path)
        answers = {
            scope: await client.get(path, headers={"Authorization": f"Bearer {key}"})
            for scope, key in keys.items()
        }
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "unauthorized"
    assert answers["moderate"].status_code == 403
    assert answers["moderate"].json()["error"]["details"] == [
        {"field": "scope", "message": "needs scope 'produce'"}
    ]
    assert answers["produce"].status_code == 200, answers["produce"].text
    assert answers["produce"].json()["items"] == []
    assert answers["admin"].status_code == 200
