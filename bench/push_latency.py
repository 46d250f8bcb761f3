"""Post-to-push latency of live streams, and how many streams one query process holds.

    python -m bench.push_latency [--posts 1000] [--rate 50] [--idle 500] [--streams 2000]

Starts the worker, ingest and one query process on a fresh topic and schema (bench/stack.py).

1. Latency: one stream follows an article while `--idle` other streams stay open on other
   articles; `--posts` comments are posted to the followed article, one request each, at
   `--rate` per second. A sample is the time from just before the POST to the moment the stream
   delivers that comment (the POST's answer, Kafka, the worker's transaction, the query process
   seeing the applied offset, one permalink read, the SSE write). Prints p50/p90/p99/max.
2. Capacity: `--streams` streams open on one article of the one query process; one comment is
   posted; prints how many streams received it, how long until the last did, and the query
   process's resident memory before and after opening them.

Asserts nothing: the figures depend on the machine, printed with its conditions.
"""

import argparse
import asyncio
import json
import os
import statistics
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import httpx

from bench import children
from bench.stack import Stack, bench_settings, wait_applied
from tests.integration.sse import Message, messages


def _comment(article: str, comment_id: str) -> dict[str, object]:
    return {
        "type": "CommentPosted",
        "id": f"{article}-{comment_id}",
        "data": {
            "article_id": article,
            "comment_id": comment_id,
            "author_id": "bench",
            "body": f"comment {comment_id}",
        },
    }


@asynccontextmanager
async def _stream(client: httpx.AsyncClient, article: str) -> AsyncIterator[AsyncIterator[Message]]:
    async with client.stream("GET", f"/v1/articles/{article}/stream") as response:
        response.raise_for_status()
        stream = messages(response)
        async for message in stream:
            if message.comment == "following":
                break
        yield stream


async def _pushed(stream: AsyncIterator[Message], comment_id: str) -> float:
    async for message in stream:
        if message.event == "comment" and json.loads(message.data)["comment_id"] == comment_id:
            return time.perf_counter()
    raise RuntimeError("stream ended")


def _ms(samples: list[float], q: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1] * 1000


async def latency(stack: Stack, posts: int, rate: float, idle: int) -> None:
    """Part 1: post-to-push latency of one followed article among `idle` idle streams."""
    base = stack.settings.query_url
    auth = {"Authorization": f"Bearer {stack.key}"}
    limits = httpx.Limits(max_connections=idle + 10)
    async with AsyncExitStack() as stack_:
        reader = await stack_.enter_async_context(
            httpx.AsyncClient(base_url=base, limits=limits, timeout=60)
        )
        writer = await stack_.enter_async_context(
            httpx.AsyncClient(base_url=stack.settings.ingest_url, headers=auth, timeout=30)
        )
        for n in range(idle):
            await stack_.enter_async_context(_stream(reader, f"idle-{n % 50}"))
        followed = await stack_.enter_async_context(_stream(reader, "live"))
        samples: list[float] = []
        for n in range(posts):
            started = time.perf_counter()
            pushed = asyncio.create_task(_pushed(followed, f"c{n}"))
            answer = await writer.post("/v1/events", json=_comment("live", f"c{n}"))
            answer.raise_for_status()
            samples.append(await asyncio.wait_for(pushed, 30) - started)
            await asyncio.sleep(max(0.0, 1 / rate - (time.perf_counter() - started)))
    print(
        f"post-to-push over {posts} posts ({rate:g}/s, {idle} idle streams open):"
        f" p50 {_ms(samples, 50):.1f} ms, p90 {_ms(samples, 90):.1f} ms,"
        f" p99 {_ms(samples, 99):.1f} ms, max {max(samples) * 1000:.1f} ms"
    )


async def capacity(stack: Stack, streams: int) -> None:
    """Part 2: `streams` streams on one article of one query process, all pushed one comment."""
    auth = {"Authorization": f"Bearer {stack.key}"}
    before = stack.rss()["query"]
    limits = httpx.Limits(max_connections=streams + 10)
    async with AsyncExitStack() as stack_:
        reader = await stack_.enter_async_context(
            httpx.AsyncClient(base_url=stack.settings.query_url, limits=limits, timeout=120)
        )
        opened = time.perf_counter()
        followers = []
        for chunk in range(0, streams, 200):
            followers += await asyncio.gather(
                *(
                    stack_.enter_async_context(_stream(reader, "crowd"))
                    for _ in range(min(200, streams - chunk))
                )
            )
        opened = time.perf_counter() - opened
        after = stack.rss()["query"]
        async with httpx.AsyncClient(base_url=stack.settings.ingest_url, headers=auth) as writer:
            started = time.perf_counter()
            (await writer.post("/v1/events", json=_comment("crowd", "x"))).raise_for_status()
            done = await asyncio.gather(
                *(asyncio.wait_for(_pushed(f, "x"), 60) for f in followers),
                return_exceptions=True,
            )
    received = [t for t in done if isinstance(t, float)]
    last_ms = (max(received) - started) * 1000 if received else float("nan")
    print(
        f"{len(followers)} concurrent streams on one query process (opened in {opened:.1f} s):"
        f" {len(received)} received the push, the last {last_ms:.0f} ms after the POST;"
        f" query RSS {before:.0f} -> {after:.0f} MiB"
        f" ({(after - before) * 1024 / max(1, len(followers)):.1f} KiB per stream)"
    )


async def run(posts: int, rate: float, idle: int, streams: int) -> None:
    """Both parts on a fresh stack."""
    # Every stream comes from this one client: lift the per-address cap (20) for the run.
    settings = bench_settings("push", max_streams_per_address=idle + streams + 10)
    async with Stack(settings) as stack:
        stack.start("worker", "ingest", "query")
        async with httpx.AsyncClient(
            base_url=stack.settings.ingest_url, headers={"Authorization": f"Bearer {stack.key}"}
        ) as writer:
            articles = ["live", "crowd", *(f"idle-{n}" for n in range(50))]
            body = [
                {"type": "ArticlePublished", "data": {"article_id": a, "title": a}}
                for a in articles
            ]
            (await writer.post("/v1/events", json=body)).raise_for_status()
        await wait_applied(stack.settings, len(articles))
        await latency(stack, posts, rate, idle)
        await capacity(stack, streams)
    print(
        f"conditions: {os.cpu_count()} cores; Kafka, PostgreSQL, worker, ingest, one query"
        " process and this client (httpx, one process) on one machine, loopback HTTP/1.1"
    )


def main() -> None:
    """Parse the arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--idle", type=int, default=500)
    parser.add_argument("--streams", type=int, default=2000)
    args = parser.parse_args()
    children.run(run(args.posts, args.rate, args.idle, args.streams))


if __name__ == "__main__":
    main()
