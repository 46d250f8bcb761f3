"""Anonymous readers cannot starve the query service: `?after=` waits hold no request slot and
have a bounded pool of their own, a position past the log's end is refused at once, and a page's
size is bounded whatever its parameters."""

import asyncio
import time
from typing import Any

import msgspec

from projections import Worker
from tests.integration.served import served_query
from tests.integration.test_lifecycle_api import Client, ev, post, send
from threadlog.settings import Settings


async def test_waits_for_positions_hold_no_request_slot(settings: Settings, ingest: Client) -> None:
    """With no worker, 150 reads waiting for a position in the log do not take the 5 request
    slots: other reads are served meanwhile. Past the waits' own bound (100) a wait is refused at
    once with 503 `too_many_waits`."""
    answer = await ingest.post("/v1/events", json=post("c1", 1))
    token = answer.json()["accepted"][0]["position"]
    bounded = msgspec.structs.replace(
        settings, max_inflight_requests=5, after_max_wait_s=3.0, max_after_waits=100
    )
    async with served_query(bounded) as (_, _, client):
        waits = [
            asyncio.create_task(client.get("/v1/counts", params={"article_id": "a", "after": t}))
            for t in [token] * 150
        ]
        await asyncio.sleep(1)
        started = time.perf_counter()
        plain = await client.get("/v1/counts", params={"article_id": "a"})
        assert plain.status_code == 200, plain.text
        took = time.perf_counter() - started
        print(f"a plain read among 150 waits: {took * 1000:.1f} ms")  # for the log
        assert took < 1
        answers = await asyncio.gather(*waits)
    codes = sorted(r.json()["error"]["code"] for r in answers)
    assert codes == ["not_yet_applied"] * 100 + ["too_many_waits"] * 50


async def test_a_position_past_the_log_end_is_refused_at_once(
    settings: Settings, ingest: Client, query: Client, worker: Worker
) -> None:
    """A position the log does not hold yet (an offset past a partition's end, or a partition the
    topic lacks) is a 400 naming `after` at once, instead of a wait; one in the log is served."""
    await send(ingest, query, [ev("ArticlePublished", 0, article_id="art", title="T")])
    answer = await ingest.post("/v1/events", json=post("c1", 1))
    position = answer.json()["accepted"][0]
    async with served_query(settings) as (_, _, client):
        for token in [f"{position['partition']}:{position['offset'] + 1000}", "99:0"]:
            started = time.perf_counter()
            late = await client.get("/v1/counts", params={"article_id": "art", "after": token})
            assert late.status_code == 400, late.text
            error = late.json()["error"]
            assert (error["code"], error["details"][0]["field"]) == ("unknown_position", "after")
            took = time.perf_counter() - started
            print(f"{token} refused in {took * 1000:.1f} ms")  # for the log
            assert took < 1
        ok = await client.get(
            "/v1/counts", params={"article_id": "art", "after": position["position"]}
        )
        assert ok.status_code == 200, ok.text


def count_comments(comments: list[dict[str, Any]]) -> int:
    """Comments in a page, inlined replies included."""
    return sum(1 + count_comments(c["replies"]) for c in comments)


async def test_a_page_is_bounded_whatever_its_parameters(
    settings: Settings, ingest: Client, query: Client, worker: Worker
) -> None:
    """With at most 40 comments a page, the widest and deepest parameters give at most 40; the
    parameters that ask the same page (here: no replies inlined) are one cache entry."""
    events = [ev("ArticlePublished", 0, article_id="art", title="T")]
    for top in range(4):
        events.append(post(f"t{top}", top))
        for reply in range(6):
            events.append(post(f"t{top}r{reply}", top + reply / 10, parent=f"t{top}"))
            events.append(post(f"t{top}r{reply}x", top + reply / 10, parent=f"t{top}r{reply}"))
    await send(ingest, query, events)
    capped = msgspec.structs.replace(settings, max_page_comments=40)
    async with served_query(capped) as (app, _, client):
        cache = app.state.page_cache
        misses = cache.misses
        wide = await client.get("/v1/articles/art/thread", params={"replies": 20, "depth": 10})
        assert wide.status_code == 200, wide.text
        assert 4 <= count_comments(wide.json()["comments"]) <= 40
        for path in ["/v1/comments/t0", "/v1/comments/t0/replies"]:
            page = await client.get(path, params={"replies": 20, "depth": 10, "limit": 200})
            body = page.json()
            shown = body.get("replies") or [body.get("comment")]
            assert count_comments(shown) <= 40, path
        for params in [{"replies": 0, "depth": 7}, {"replies": 9, "depth": 0}, {"depth": 0}]:
            same = await client.get("/v1/articles/art/thread", params=params)
            assert same.status_code == 200
        assert cache.misses == misses + 1
