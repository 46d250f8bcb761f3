"""Read your own writes: `?after=<position>` on every query endpoint, on the real pipeline."""

from typing import Any

import httpx
import msgspec
from litestar.testing import AsyncTestClient

from projections import Worker
from services.query import create_app as create_query_app
from tests.integration.conftest import MakeKey
from tests.integration.test_lifecycle_api import Client, ev, post, send
from threadlog.settings import Settings


async def test_a_post_is_in_the_first_read_after_its_position(
    ingest: Client, query: Client, query_server: httpx.AsyncClient, worker: Worker
) -> None:
    """Each accepted event carries a position; a read with `after=` it, sent at once, already
    shows the event, and so does every other endpoint given the same token."""
    # The worker's group takes a few seconds to get its partitions: wait for it once.
    await send(ingest, query, [ev("ArticlePublished", 0, article_id="art", title="T")])
    answer = await ingest.post("/v1/events", json=[post("c0", 0.5), post("c1", 1)])
    assert answer.status_code == 202, answer.text
    accepted = answer.json()["accepted"]
    assert [a["position"] for a in accepted] == [
        f"{a['partition']}:{a['offset']}" for a in accepted
    ]
    token = accepted[-1]["position"]
    thread = await query_server.get("/v1/articles/art/thread", params={"after": token})
    assert thread.status_code == 200, thread.text
    assert [c["comment_id"] for c in thread.json()["comments"]] == ["c0", "c1"]
    both = ",".join(a["position"] for a in accepted)
    for path in [
        "/v1/comments/c1",
        "/v1/comments/c1/replies",
        "/v1/authors/ann/timeline",
        "/v1/counts",
        f"/v1/events/{accepted[0]['id']}",
        "/v1/moderation/queue",
    ]:
        response = await query_server.get(path, params={"after": both, "article_id": "art"})
        assert response.status_code == 200, (path, response.text)


async def test_a_position_not_applied_in_time_is_503_with_retry_after(
    settings: Settings, make_key: MakeKey, ingest: Client
) -> None:
    """With no worker running, a read after a fresh position waits the bounded time and answers
    503 `not_yet_applied` with Retry-After; a malformed token is a 400 naming `after`."""
    answer = await ingest.post("/v1/events", json=post("c1", 1))
    token = answer.json()["accepted"][0]["position"]
    quick = msgspec.structs.replace(settings, after_max_wait_s=0.3)
    async with AsyncTestClient(create_query_app(quick.query())) as client:
        late = await client.get("/v1/counts", params={"article_id": "art", "after": token})
        assert late.status_code == 503, late.text
        assert late.json()["error"]["code"] == "not_yet_applied"
        assert late.headers["retry-after"] == "1"
        bad = await client.get("/v1/counts", params={"article_id": "art", "after": "3-12"})
        assert bad.status_code == 400
        error: dict[str, Any] = bad.json()["error"]
        assert error["details"][0]["field"] == "after"


async def test_a_cached_page_is_served_until_its_article_changes(
    ingest: Client, query: Client, query_server: httpx.AsyncClient, worker: Worker
) -> None:
    """The first page is served from the cache (same ETag, a 304 for a client holding it, gzip
    when asked) while the article is unchanged; a write to another article leaves it valid, and
    a write to this one is in the next read after its position, under a new ETag. A timeline's
    page holds until the next batch: the author's new comment is in the read after it."""
    await send(ingest, query, [ev("ArticlePublished", 0, article_id="art", title="T")])
    await send(ingest, query, [ev("ArticlePublished", 0, article_id="other", title="O")])
    await send(ingest, query, [post("c0", 0.5, body="long enough to be worth gzip " * 50)])
    first = await query_server.get("/v1/articles/art/thread")
    etag = first.headers["etag"]
    again = await query_server.get("/v1/articles/art/thread", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    zipped = await query_server.get("/v1/articles/art/thread", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.json() == first.json(), "httpx inflates it: the same page"

    elsewhere = await ingest.post("/v1/events", json=post("x0", 1, article="other"))
    token = elsewhere.json()["accepted"][0]["position"]
    still = await query_server.get("/v1/articles/art/thread", params={"after": token})
    assert (still.headers["etag"], still.json()) == (etag, first.json())

    timeline = await query_server.get("/v1/authors/ann/timeline")
    assert [i["comment_id"] for i in timeline.json()["items"]] == ["x0", "c0"]
    answer = await ingest.post("/v1/events", json=post("c1", 1))
    token = answer.json()["accepted"][0]["position"]
    timeline = await query_server.get("/v1/authors/ann/timeline", params={"after": token})
    assert [i["comment_id"] for i in timeline.json()["items"]] == ["x0", "c1", "c0"]
    fresh = await query_server.get(
        "/v1/articles/art/thread", params={"after": token}, headers={"If-None-Match": etag}
    )
    assert fresh.status_code == 200
    assert fresh.headers["etag"] != etag
    assert [c["comment_id"] for c in fresh.json()["comments"]] == ["c0", "c1"]
