"""Live streams (SSE) on a real query server: pushes match reads, resume, many streams at once."""

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import httpx

from projections import Worker
from tests.integration.sse import Message, messages
from tests.integration.test_lifecycle_api import Client, ev, post, send

Stream = AsyncIterator[Message]


@asynccontextmanager
async def open_stream(
    client: httpx.AsyncClient, article: str = "art", last_event_id: str | None = None
) -> AsyncIterator[Stream]:
    """An open stream, read past its opening comment (so it is following when this returns)."""
    headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
    async with client.stream("GET", f"/v1/articles/{article}/stream", headers=headers) as response:
        assert response.status_code == 200, (await response.aread(), response.status_code)
        assert response.headers["content-type"].startswith("text/event-stream")
        stream = messages(response)
        async with asyncio.timeout(10):
            async for message in stream:
                if message.comment == "following":
                    break
        yield stream


async def next_change(stream: Stream, timeout_s: float = 10) -> Message:
    """The next message with an event (keep-alives skipped)."""
    async with asyncio.timeout(timeout_s):
        async for message in stream:
            if message.event is not None:
                return message
    raise AssertionError("the stream ended")


async def read_view(client: httpx.AsyncClient, comment_id: str) -> Any:
    """The comment as its permalink serves it, without replies."""
    response = await client.get(
        f"/v1/comments/{comment_id}", params={"article_id": "art", "replies": 0, "depth": 0}
    )
    assert response.status_code == 200, response.text
    return response.json()["comment"]


def about(message: Message) -> tuple[str | None, str]:
    """(event, comment id) of a change."""
    return message.event, json.loads(message.data)["comment_id"]


async def published(ingest: Client, query: Client) -> None:
    """The article exists and the worker has its partitions (a new group takes seconds)."""
    await send(ingest, query, [ev("ArticlePublished", 0, article_id="art", title="T")])


async def test_pushes_are_what_a_read_returns(
    ingest: Client, query: Client, query_server: httpx.AsyncClient, worker: Worker
) -> None:
    """A new, edited, featured, rejected and deleted comment is each pushed once the read model
    has it, exactly as the permalink then serves it (a rejected one as `removed`), with its log
    position as the SSE id."""
    await published(ingest, query)
    async with open_stream(query_server) as stream:
        started = time.perf_counter()
        answer = await ingest.post("/v1/events", json=post("c1", 1))
        pushed = await next_change(stream)
        print(f"post-to-push {(time.perf_counter() - started) * 1000:.0f} ms")  # for the log
        assert pushed.id == answer.json()["accepted"][0]["position"]
        assert about(pushed) == ("comment", "c1")
        assert json.loads(pushed.data) == await read_view(query_server, "c1")
        script: list[tuple[dict[str, Any], tuple[str, str], dict[str, Any]]] = [
            (ev("CommentEdited", 2, article_id="art", comment_id="c1", editor_id="ann",
                body="v2"), ("comment", "c1"), {"body": "v2"}),
            (ev("CommentModerated", 3, article_id="art", comment_id="c1", moderator_id="m",
                action="feature"), ("comment", "c1"), {"featured": True}),
            (ev("CommentModerated", 4, article_id="art", comment_id="c1", moderator_id="m",
                action="reject"), ("removed", "c1"), {}),
            (post("c2", 5), ("comment", "c2"), {"status": "visible"}),
            (ev("CommentDeleted", 6, article_id="art", comment_id="c2", deleted_by="ann"),
                ("comment", "c2"), {"status": "deleted", "body": None}),
        ]  # fmt: skip
        for event, expected, fields in script:
            await ingest.post("/v1/events", json=event)
            change = await next_change(stream)
            assert about(change) == expected
            data = json.loads(change.data)
            assert data.items() >= fields.items()
            if change.event == "comment":
                assert data == await read_view(query_server, expected[1])


async def test_a_reconnect_with_last_event_id_misses_nothing(
    ingest: Client, query: Client, query_server: httpx.AsyncClient, worker: Worker
) -> None:
    """Changes made while a reader was away are replayed after its Last-Event-ID, in order; an id
    the process cannot replay from gets a `reset` event telling the reader to reload."""
    await published(ingest, query)
    async with open_stream(query_server) as stream:
        await ingest.post("/v1/events", json=[post("c1", 1), post("c2", 2)])
        first, second = await next_change(stream), await next_change(stream)
    assert [about(first), about(second)] == [("comment", "c1"), ("comment", "c2")]
    await send(ingest, query, [post("c3", 3)])  # while nobody follows
    assert first.id is not None
    async with open_stream(query_server, last_event_id=first.id) as stream:
        replayed = [await next_change(stream), await next_change(stream)]
    assert [about(m) for m in replayed] == [("comment", "c2"), ("comment", "c3")]
    assert replayed[0].id == second.id
    partition = int(first.id.split(":")[0])
    elsewhere = f"{(partition + 1) % 3}:0"
    async with query_server.stream(
        "GET", "/v1/articles/art/stream", headers={"Last-Event-ID": elsewhere}
    ) as response:
        first_message = await anext(aiter(messages(response)))
    assert first_message.event == "reset"


async def test_hundreds_of_streams_on_one_process_all_get_the_push(
    ingest: Client, query: Client, query_server: httpx.AsyncClient, worker: Worker
) -> None:
    """300 streams open on one query process at once each receive a new comment."""
    await published(ingest, query)
    count = 300
    limits = httpx.Limits(max_connections=count + 10)
    async with AsyncExitStack() as stack:
        # With the server's key: a relay's many readers; an address alone has a smaller cap.
        client = await stack.enter_async_context(
            httpx.AsyncClient(
                base_url=str(query_server.base_url),
                headers=query_server.headers,
                limits=limits,
                timeout=30,
            )
        )
        streams = await asyncio.gather(
            *(stack.enter_async_context(open_stream(client)) for _ in range(count))
        )
        started = time.perf_counter()
        await ingest.post("/v1/events", json=post("c1", 1))
        pushed = await asyncio.gather(*(next_change(stream, 30) for stream in streams))
        print(f"{count} streams all pushed in {(time.perf_counter() - started) * 1000:.0f} ms")
    assert {about(m) for m in pushed} == {("comment", "c1")}


async def test_history_never_replays_text_a_read_no_longer_shows(
    ingest: Client, query: Client, query_server: httpx.AsyncClient, worker: Worker
) -> None:
    """A reader resuming from before a comment was posted, after it was deleted (or rejected),
    gets the comment as a read shows it now (a tombstone, or `removed`), never its first text."""
    await published(ingest, query)
    async with open_stream(query_server) as stream:
        await ingest.post("/v1/events", json=post("c0", 0.5))
        before = await next_change(stream)
        await ingest.post("/v1/events", json=[post("c1", 1, body="secret one"), post("c2", 2)])
        await ingest.post("/v1/events", json=post("c3", 3, body="secret three"))
        for _ in range(3):
            await next_change(stream)
        await ingest.post(
            "/v1/events",
            json=[
                ev("CommentDeleted", 4, article_id="art", comment_id="c1", deleted_by="ann"),
                ev("CommentModerated", 5, article_id="art", comment_id="c3", moderator_id="m",
                   action="reject"),
            ],
        )  # fmt: skip
        for _ in range(2):
            await next_change(stream)
    assert before.id is not None
    async with open_stream(query_server, last_event_id=before.id) as stream:
        replayed = []
        with contextlib.suppress(TimeoutError):
            while True:
                replayed.append(await next_change(stream, 2))
    assert all("secret" not in m.data for m in replayed), [m.data for m in replayed]
    last: dict[str, Message] = {json.loads(m.data)["comment_id"]: m for m in replayed}
    assert about(last["c1"]) == ("comment", "c1")
    assert json.loads(last["c1"].data)["status"] == "deleted"
    assert about(last["c3"]) == ("removed", "c3")
    assert about(last["c2"]) == ("comment", "c2")
    ids = [m.id for m in replayed]
    assert ids == sorted(ids, key=lambda i: int(str(i).split(":")[1])), "in log order"
