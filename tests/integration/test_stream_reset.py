"""A stream resumes only from an id it can prove it continues from; from any other it sends
`reset`, with an id to resume from, and then follows. Read with a third-party SSE client
(httpx-sse, which keeps the last event id as a browser's EventSource does)."""

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from httpx_sse import ServerSentEvent, aconnect_sse

from projections import Worker
from tests.integration.test_lifecycle_api import Client, ev, post, send

Events = AsyncIterator[ServerSentEvent]


@asynccontextmanager
async def stream(client: httpx.AsyncClient, last_event_id: str | None) -> AsyncIterator[Events]:
    """The article's stream, resumed from `last_event_id`, its named events as they come."""
    headers = {"Last-Event-ID": last_event_id} if last_event_id is not None else {}
    async with aconnect_sse(client, "GET", "/v1/articles/art/stream", headers=headers) as source:
        assert source.response.status_code == 200, await source.response.aread()

        async def named() -> Events:
            async for sse in source.aiter_sse():
                if sse.data:  # the opening `retry: 1000` carries no data (nor event name)
                    yield sse

        yield named()


async def next_event(events: Events, timeout_s: float = 10) -> ServerSentEvent:
    """The next named event, failing (not hanging) when only keep-alives come."""
    async with asyncio.timeout(timeout_s):
        return await anext(events)


async def _published(ingest: Client, query: Client) -> int:
    """Publish the article and one comment; the partition the article's events are on."""
    await send(ingest, query, [ev("ArticlePublished", 0, article_id="art", title="T")])
    answer = await ingest.post("/v1/events", json=post("c0", 1))
    partition: int = answer.json()["accepted"][0]["partition"]
    await send(ingest, query, [ev("CommentVoted", 2, article_id="art", comment_id="c0",
                                  voter_id="v", vote="up")])  # fmt: skip
    return partition


async def test_an_id_it_cannot_continue_from_gets_a_reset_with_an_id_then_the_changes(
    ingest: Client, query: Client, query_server: httpx.AsyncClient, worker: Worker
) -> None:
    """Past the log's end, on another partition, malformed, or older than what the process
    holds: each id gets `reset` first, carrying the id to resume from; the stream then pushes
    the next change (no keep-alives only), and a reconnect with the reset's id does not reset
    again."""
    partition = await _published(ingest, query)
    other = (partition + 1) % 3
    minute = 3
    for last_event_id in [f"{partition}:0", f"{partition}:999999", f"{other}:0", "nonsense",
                          "1:2,3:4"]:  # fmt: skip
        async with stream(query_server, last_event_id) as events:
            reset = await next_event(events)
            assert reset.event == "reset", (last_event_id, reset)
            assert json.loads(reset.data)["article_id"] == "art"
            resume_partition, _, resume_offset = reset.id.partition(":")
            assert int(resume_partition) == partition, (last_event_id, reset.id)
            assert int(resume_offset) < 999999
            minute += 1
            answer = await ingest.post("/v1/events", json=post(f"c{minute}", minute))
            pushed = await next_event(events)
            assert (pushed.event, json.loads(pushed.data)["comment_id"]) == (
                "comment",
                f"c{minute}",
            ), last_event_id
            assert pushed.id == answer.json()["accepted"][0]["position"]
        async with stream(query_server, reset.id) as events:
            # Resuming from the reset's id replays what came after it: the change above.
            replayed = await next_event(events)
            assert (replayed.event, replayed.id) == ("comment", pushed.id), last_event_id
