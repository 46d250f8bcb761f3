"""Events posted over HTTP, through the real Kafka and worker, served by the query service."""

from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from litestar.testing import AsyncTestClient

from projections import Worker
from tests.integration.conftest import MakeKey, eventually
from threadlog.demo_thread import ARTICLE_ID, demo_events
from threadlog.settings import Settings

Client = AsyncTestClient[Any]


async def thread(query: Client, article_id: str = ARTICLE_ID, **params: Any) -> Any:
    response = await query.get(f"/v1/articles/{article_id}/thread", params=params)
    return response.json() if response.status_code == 200 else None


async def test_demo_thread_end_to_end(ingest: Client, query: Client, worker: Worker) -> None:
    """The demo thread posted in one request is served: its comments in time order with their
    flag counts, the comment flagged by three readers held for moderation and out of the thread,
    every event's outcome known, and each author's timeline with the article's title."""
    posted = await ingest.post("/v1/events", json=demo_events())
    assert posted.status_code == 202
    accepted = posted.json()["accepted"]
    assert [a["id"] for a in accepted] == [e["id"] for e in demo_events()]
    assert len({a["partition"] for a in accepted}) == 1, "one article, one partition"
    offsets = [a["offset"] for a in accepted]
    assert offsets == sorted(offsets)

    async def decided() -> bool:
        status = (await query.get(f"/v1/events/{accepted[-1]['id']}")).json()["status"]
        return bool(status != "pending")

    await eventually(decided, what="the demo's last event to be applied")
    page = await thread(query)
    assert page["article"]["comment_count"] == 5
    assert page["article"]["published_at"] == "2019-06-16T08:00:00Z"
    assert [(c["author_name"], c["posted_at"], c["flag_count"]) for c in page["comments"]] == [
        ("Searchin4Truth", "2019-06-16T10:49:00Z", 0),
        ("JJohannes", "2019-06-17T03:21:00Z", 0),
        ("Momcilo", "2019-06-17T09:39:00Z", 0),
        ("Vincent", "2019-06-17T17:14:00Z", 0),
        ("Peter", "2019-08-08T00:11:00Z", 1),
    ]
    assert page["next_cursor"] is None
    queue = (await query.get("/v1/moderation/queue", params={"status": "pending"})).json()
    assert [(i["comment_id"], i["hold_reasons"], i["flag_reasons"]) for i in queue["items"]] == [
        ("c2", ["flagged"], ["hate", "hate", "abuse"])
    ]
    statuses = {
        a["id"]: (await query.get(f"/v1/events/{a['id']}")).json()["status"] for a in accepted
    }
    assert set(statuses.values()) == {"applied"}
    timeline = (await query.get("/v1/authors/jjohannes/timeline")).json()
    assert [(i["comment_id"], i["article_title"]) for i in timeline["items"]] == [
        ("c3", "Serbia Threatens To Invade Kosovo, Could Ask Moscow 'For Assistance'")
    ]
    held = (await query.get("/v1/authors/huffhorny/timeline")).json()
    assert held["items"] == [], "a held comment is not served on its author's timeline either"


def comment(
    event_id: str, comment_id: str, parent: str | None = None, minute: int = 0
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "article_id": "art",
        "comment_id": comment_id,
        "author_id": "ann",
        "body": f"text of {comment_id}",
    }
    if parent:
        data["parent_id"] = parent
    return {
        "id": event_id,
        "type": "CommentPosted",
        "time": f"2024-01-01T10:{minute:02d}:00Z",
        "data": data,
    }


ARTICLE = {
    "id": "pub",
    "type": "ArticlePublished",
    "time": "2024-01-01T09:00:00Z",
    "data": {"article_id": "art", "title": "T"},
}


async def test_a_retried_event_is_applied_once(
    ingest: Client, query: Client, worker: Worker
) -> None:
    """Posting the same event id three times (a producer's retries) shows the comment once."""
    assert (await ingest.post("/v1/events", json=[ARTICLE, comment("e1", "c1")])).status_code == 202
    for _ in range(2):
        assert (await ingest.post("/v1/events", json=comment("e1", "c1"))).status_code == 202
    assert (
        await ingest.post("/v1/events", json=comment("e2", "c2", parent="c1", minute=1))
    ).status_code == 202

    async def replied() -> bool:
        page = await thread(query, "art")
        return page is not None and page["article"]["comment_count"] == 2

    await eventually(replied, what="both comments")
    page = await thread(query, "art")
    assert [
        (c["comment_id"], c["reply_count"], [r["comment_id"] for r in c["replies"]])
        for c in page["comments"]
    ] == [("c1", 1, ["c2"])]
    timeline = (await query.get("/v1/authors/ann/timeline")).json()
    assert [i["comment_id"] for i in timeline["items"]] == ["c2", "c1"]


async def test_one_bad_event_rejects_the_whole_batch(ingest: Client, settings: Settings) -> None:
    """A batch with one invalid event answers 422 naming it, and appends nothing to Kafka."""
    bad = comment("e2", "c2")
    bad["data"]["body"] = ""
    response = await ingest.post("/v1/events", json=[ARTICLE, comment("e1", "c1"), bad])
    assert response.status_code == 422
    assert response.json() == {
        "error": {
            "code": "invalid_events",
            "message": "1 problem(s) in the request; nothing was appended."
            " Fix them and post the whole request again.",
            "details": [
                {"index": 2, "field": "data.body", "message": "Expected `str` of length >= 1"}
            ],
        }
    }
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers)
    await consumer.start()
    try:
        partitions = [TopicPartition(settings.topic, p) for p in range(settings.topic_partitions)]
        assert set((await consumer.end_offsets(partitions)).values()) == {0}
    finally:
        await consumer.stop()


async def test_ingest_errors_share_one_shape(ingest: Client) -> None:
    """Malformed JSON is a 400, an unknown route a 404, each in the shared error shape."""
    malformed = await ingest.post(
        "/v1/events", content=b"{nope", headers={"content-type": "application/json"}
    )
    assert malformed.status_code == 400
    assert malformed.json()["error"]["code"] == "malformed_json"
    missing = await ingest.get("/v1/nothing")
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "not_found")


async def test_too_large_body_is_413(settings: Settings, make_key: MakeKey) -> None:
    """A body over the size limit is refused with 413 before it is read whole."""
    import msgspec

    from services.ingest import create_app

    key = await make_key("big", ["produce"])
    app = create_app(msgspec.structs.replace(settings.ingest(), max_body_bytes=1000))
    async with AsyncTestClient(app) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        response = await client.post("/v1/events", json=comment("e", "c") | {"source": "x" * 2000})
    assert (response.status_code, response.json()["error"]["code"]) == (413, "too_large")


async def test_kafka_down_gives_503_and_nothing_acknowledged(
    settings: Settings, make_key: MakeKey
) -> None:
    """With Kafka unreachable, ingest starts, is not ready, and answers 503 with Retry-After."""
    import msgspec

    from services.ingest import create_app

    key = await make_key("down", ["produce"])
    app = create_app(msgspec.structs.replace(settings.ingest(), kafka="127.0.0.1:1"))
    async with AsyncTestClient(app) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        response = await client.post("/v1/events", json=comment("e", "c"))
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "kafka_unavailable"
        assert response.headers["retry-after"] == "1"
        assert (await client.get("/readyz")).status_code == 503
        assert (await client.get("/healthz")).status_code == 200


async def test_thread_pages_and_query_errors(ingest: Client, query: Client, worker: Worker) -> None:
    """Top-level comments page by cursor in both orders; bad parameters are 400 naming the field."""
    events = [ARTICLE] + [comment(f"e{i}", f"c{i}", minute=i) for i in range(5)]
    assert (await ingest.post("/v1/events", json=events)).status_code == 202

    async def all_in() -> bool:
        page = await thread(query, "art")
        return page is not None and page["article"]["comment_count"] == 5

    await eventually(all_in, what="five comments")
    for sort, expected in (
        ("oldest", ["c0", "c1", "c2", "c3", "c4"]),
        ("newest", ["c4", "c3", "c2", "c1", "c0"]),
    ):
        seen, cursor = [], None
        while True:
            params = {"sort": sort, "limit": 2} | ({"cursor": cursor} if cursor else {})
            page = await thread(query, "art", **params)
            seen += [c["comment_id"] for c in page["comments"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == expected
    missing = await query.get("/v1/articles/nope/thread")
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "article_not_found")
    bad_limit = await query.get("/v1/articles/art/thread", params={"limit": 0})
    assert bad_limit.status_code == 400
    assert bad_limit.json()["error"]["details"][0]["field"] == "limit"
    bad_sort = await query.get("/v1/articles/art/thread", params={"sort": "sideways"})
    assert (bad_sort.status_code, bad_sort.json()["error"]["details"][0]["field"]) == (400, "sort")
    bad_cursor = await query.get("/v1/authors/ann/timeline", params={"cursor": "xyz"})
    assert (bad_cursor.status_code, bad_cursor.json()["error"]["code"]) == (400, "invalid_cursor")
