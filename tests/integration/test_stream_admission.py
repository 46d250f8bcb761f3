"""Live streams pass the same admission as reads: key, URL length, per-client caps; and the live
feed's pending queue stays bounded while the worker lags."""

import asyncio
from contextlib import AsyncExitStack
from typing import Any

import httpx
import msgspec

from projections import Worker
from tests.integration.conftest import MakeKey, eventually
from tests.integration.served import served_query
from tests.integration.test_lifecycle_api import Client, ev, post, send
from tests.integration.test_stream import about, next_change, open_stream
from threadlog.settings import Settings


async def status_of(client: httpx.AsyncClient, path: str, **headers: str) -> tuple[int, Any]:
    """The status and error code of opening `path` as a stream (closed at once)."""
    async with client.stream("GET", path, headers=headers) as response:
        if response.status_code == 200:
            return 200, None
        await response.aread()
        return response.status_code, response.json()["error"]["code"]


async def test_a_stream_needs_what_a_read_needs(
    settings: Settings, make_key: MakeKey, ingest: Client, query: Client, worker: Worker
) -> None:
    """A made-up key is refused (401) on the stream as on the thread; with reads requiring a key
    a stream without one is 401, and a key's streams count against its rate limit (429); a URL
    past the limit is 414; an id no event can carry is 400."""
    await send(ingest, query, [ev("ArticlePublished", 0, article_id="art", title="T")])
    made_up = {"Authorization": "Bearer tl_madeup"}
    async with served_query(settings) as (_, _, client):
        assert await status_of(client, "/v1/articles/art/thread", **made_up) == (
            401,
            "unauthorized",
        )
        assert await status_of(client, "/v1/articles/art/stream", **made_up) == (
            401,
            "unauthorized",
        )
        assert await status_of(client, "/v1/articles/" + "a" * 10_000 + "/stream") == (
            414,
            "uri_too_long",
        )
        assert await status_of(client, "/v1/articles/a%20b/stream") == (400, "invalid_parameter")
        assert await status_of(client, "/v1/articles/art/stream") == (200, None)
    key = await make_key("reader", ["produce"])
    closed = msgspec.structs.replace(
        settings, reads_require_key=True, rate_limit_per_s=0.01, rate_limit_burst=1
    )
    async with served_query(closed) as (_, _, client):
        assert await status_of(client, "/v1/articles/art/stream") == (401, "unauthorized")
        auth = {"Authorization": f"Bearer {key}"}
        assert await status_of(client, "/v1/articles/art/stream", **auth) == (200, None)
        assert await status_of(client, "/v1/articles/art/stream", **auth) == (429, "rate_limited")


async def test_one_client_cannot_take_every_stream(
    settings: Settings, make_key: MakeKey, ingest: Client, query: Client, worker: Worker
) -> None:
    """Past the cap of open streams per key (per address when anonymous) a stream is refused
    with 429 `too_many_streams`; closing one lets the next in; other clients are not affected."""
    await send(ingest, query, [ev("ArticlePublished", 0, article_id="art", title="T")])
    key, other = await make_key("greedy", ["produce"]), await make_key("other", ["produce"])
    capped = msgspec.structs.replace(settings, max_streams_per_key=2, max_streams_per_address=3)
    async with served_query(capped) as (_, url, anonymous), AsyncExitStack() as stack:
        keyed = await stack.enter_async_context(
            httpx.AsyncClient(base_url=url, timeout=30, headers={"Authorization": f"Bearer {key}"})
        )
        first = await stack.enter_async_context(open_stream(keyed))
        async with open_stream(keyed):
            assert await status_of(keyed, "/v1/articles/art/stream") == (429, "too_many_streams")
            extra = {"Authorization": f"Bearer {other}"}
            assert await status_of(keyed, "/v1/articles/art/stream", **extra) == (200, None)

        async def room_again() -> bool:  # once the server has seen the second stream close
            return await status_of(keyed, "/v1/articles/art/stream") == (200, None)

        await eventually(room_again, what="the closed stream's place to be given back", timeout_s=5)
        for _ in range(3):
            await stack.enter_async_context(open_stream(anonymous))
        assert await status_of(anonymous, "/v1/articles/art/stream") == (429, "too_many_streams")
        await ingest.post("/v1/events", json=post("c1", 1))
        assert about(await next_change(first)) == ("comment", "c1")


async def test_the_pending_queue_is_bounded_while_the_worker_lags(
    settings: Settings, make_key: MakeKey, ingest: Client, query: Client
) -> None:
    """With no worker, the feed reads at most `live_feed_max_pending` changes ahead of the
    projection and then waits; once a worker applies them, the stream gets every one, in order."""
    small = msgspec.structs.replace(settings, live_feed_max_pending=5)
    async with served_query(small) as (app, _, client), open_stream(client) as stream:
        await ingest.post(
            "/v1/events",
            json=[ev("ArticlePublished", 0, article_id="art", title="T")]
            + [post(f"c{i}", i) for i in range(1, 31)],
        )

        def pending() -> int:
            return sum(map(len, app.state.live_feed._pending.values()))

        async def filled() -> bool:
            return pending() >= 5

        await eventually(filled, what="the feed to read ahead")
        await asyncio.sleep(1)  # time to read the rest, if it would
        assert pending() <= 5
        worker = Worker(msgspec.structs.replace(small.worker(), poll_timeout_ms=100))
        await worker.start()
        task = asyncio.create_task(worker.run())
        try:
            got = [about(await next_change(stream, 30)) for _ in range(30)]
        finally:
            worker.request_stop()
            await asyncio.wait_for(task, 10)
            await worker.stop()
        assert got == [("comment", f"c{i}") for i in range(1, 31)]
