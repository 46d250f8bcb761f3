"""How long a read with `?after=` waits when the query service reads from a streaming replica.

    python -m bench.replica_after [--posts 200]

Starts its own PostgreSQL primary and hot standby (tests/replica_cluster.py), then twice the
worker, ingest and one query process on a fresh topic and schema: once reading from the primary,
once with DATABASE_READ_URL on the standby. `--posts` comments are posted one at a time; a sample
is the time from ingest's 202 to the answer of `GET /v1/articles/{id}/thread?after=<position>`
(the worker's transaction, the query process seeing the applied offset, replication when reading
from the standby, and the page read). Prints p50/p90/p99/max per mode with the machine's load.

Asserts nothing: the figures depend on the machine, printed with its conditions.
"""

import argparse
import asyncio
import json
import os
import statistics
import time

import httpx

from bench.stack import Stack, bench_settings, wait_applied
from tests.replica_cluster import ReplicaPair, free_port, replica_pair


def _comment(n: int) -> dict[str, object]:
    return {
        "type": "CommentPosted",
        "data": {"article_id": "a", "comment_id": f"c{n}", "author_id": "bench", "body": "hi"},
    }


def _quantiles(samples: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    ms = [round(1000 * value, 1) for value in (cuts[49], cuts[89], cuts[98], max(samples))]
    return dict(zip(("p50_ms", "p90_ms", "p99_ms", "max_ms"), ms, strict=True))


async def _run(pair: ReplicaPair, read_url: str, posts: int, sync: bool) -> dict[str, float]:
    settings = bench_settings(
        "replica",
        worker_synchronous_commit=sync,
        database_url=pair.primary_url,
        database_read_url=read_url,
        ingest_port=free_port(),
        query_port=free_port(),
        worker_metrics_port=free_port(),
        query_workers=1,
        topic_partitions=3,
    )
    async with Stack(settings) as stack:
        stack.start("worker", "ingest", "query")
        auth = {"Authorization": f"Bearer {stack.key}"}
        async with (
            httpx.AsyncClient(base_url=settings.ingest_url, headers=auth, timeout=30) as ingest,
            httpx.AsyncClient(base_url=settings.query_url, headers=auth, timeout=30) as query,
        ):
            published = {"type": "ArticlePublished", "data": {"article_id": "a", "title": "A"}}
            (await ingest.post("/v1/events", json=published)).raise_for_status()
            await wait_applied(settings, 1, timeout_s=120)
            waits = []
            for n in range(posts):
                answer = await ingest.post("/v1/events", json=_comment(n))
                answer.raise_for_status()
                acknowledged = time.perf_counter()
                token = answer.json()["accepted"][0]["position"]
                page = await query.get("/v1/articles/a/thread", params={"after": token})
                page.raise_for_status()
                waits.append(time.perf_counter() - acknowledged)
        return _quantiles(waits)


async def main() -> None:
    """Measure both modes on one pair and print them as JSON, with the load average."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=200)
    parser.add_argument(
        "--wal-writer-delay-ms",
        type=int,
        default=200,
        help="the primary's wal_writer_delay: how soon the worker's asynchronous commits are"
        " flushed, so sent to the standby (200 is PostgreSQL's default)",
    )
    parser.add_argument(
        "--worker-synchronous-commit",
        action="store_true",
        help="the worker waits for its commits' flush (the standby then gets them at once)",
    )
    args = parser.parse_args()
    sync = args.worker_synchronous_commit
    with replica_pair([f"wal_writer_delay = {args.wal_writer_delay_ms}ms"]) as pair:
        figures = {
            "primary": await _run(pair, "", args.posts, sync),
            "replica": await _run(pair, pair.standby_url, args.posts, sync),
        }
    load = os.getloadavg()
    conditions = {
        "posts": args.posts,
        "wal_writer_delay_ms": args.wal_writer_delay_ms,
        "worker_synchronous_commit": sync,
    }
    print(json.dumps(conditions | {"after_wait": figures, "loadavg": load}, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
