"""`make bench`: every scenario on the local stack, fixed data and seeds, results to bench/results.

    python -m bench.suite [--quick]

Scenarios (each states its setup in the results): catch-up of a mixed backlog; reads (first page
of a big thread, first pages of many small threads, timeline pages deep in a long history) at
concurrency 1, 32 and 256; ingest of single events and of batches of 100; freshness (202 to
served) at a steady posting rate; and Isso beside threadlog on the same comments. Load comes from
wrk (C) as a separate process, and its CPU time is reported, since everything shares the cores.
Writes bench/results/<date>.json and .md (and .png when matplotlib is installed). Asserts nothing.
"""

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench import catchup, isso, wrk
from bench.produce import append
from bench.report import write_report
from bench.stack import Stack, analyze, bench_settings, wait_applied, wait_caught_up
from bench.thread_read import thread_events
from bench.workload import as_envelopes
from events import ArticlePublished, CommentPosted, Envelope, Event

ROOT = Path(__file__).resolve().parent.parent
FULL = {
    "catchup": 1_000_000,
    "big": 10_000,
    "small": 1_000,
    "history": 100_000,
    "seconds": 10.0,
    "fresh_rate": 1000,
    "fresh_seconds": 10,
    "isso_big": 10_000,
}
QUICK = {
    "catchup": 50_000,
    "big": 2_000,
    "small": 200,
    "history": 10_000,
    "seconds": 3.0,
    "fresh_rate": 200,
    "fresh_seconds": 3,
    "isso_big": 1_000,
}


def _flat(article_id: str, comments: int) -> list[Envelope]:
    """The thread Isso gets too: flat, the same texts and author as `isso.seed` posts."""
    start = datetime(2024, 6, 1, tzinfo=UTC)
    datas: list[Event] = [ArticlePublished(article_id=article_id, title="T")]
    datas += [
        CommentPosted(
            article_id=article_id,
            comment_id=f"i{n}",
            author_id="reader",
            author_name="Reader",
            body=isso.seed_text(n),
        )
        for n in range(comments)
    ]
    return as_envelopes(datas, article_id, start)


def _history(author: str, comments: int, articles: int) -> list[Envelope]:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    datas: list[Event] = [
        ArticlePublished(article_id=f"hist-{a}", title=f"Story {a}") for a in range(articles)
    ]
    datas += [
        CommentPosted(
            article_id=f"hist-{n % articles}",
            comment_id=f"h{n}",
            author_id=author,
            body=f"Comment {n} of a long history.",
        )
        for n in range(comments)
    ]
    return as_envelopes(datas, "hist", start)


async def _timeline_cursors(base: str, author: str, skip_pages: int, pages: int) -> list[str]:
    """Paths of timeline pages `skip_pages` deep and beyond, found by following cursors."""
    paths: list[str] = []
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        cursor = None
        for page in range(skip_pages + pages):
            params = {"limit": 50} | ({"cursor": cursor} if cursor else {})
            body = (await client.get(f"/v1/authors/{author}/timeline", params=params)).json()
            cursor = body["next_cursor"]
            if cursor is None:
                break
            if page >= skip_pages:
                paths.append(f"/v1/authors/{author}/timeline?limit=50&cursor={cursor}")
    return paths


async def _freshness(
    stack: Stack, rate: int, seconds: int, article: str = "fresh"
) -> dict[str, Any]:
    """Post at a steady `rate`; one watcher reads the thread (newest first) every 5 ms and notes
    when each comment is first served. One poller, whatever the rate, so that the measuring
    does not load the query service more than the readers would."""
    base_i, base_q = stack.settings.ingest_url, stack.settings.query_url
    acknowledged: dict[str, float] = {}
    served: dict[str, float] = {}
    posting_done = asyncio.Event()
    async with httpx.AsyncClient(timeout=10, limits=httpx.Limits(max_connections=100)) as client:

        async def one(n: int) -> None:
            cid = f"fresh-{n}"
            event = {
                "id": f"{cid}-{time.time_ns()}",
                "type": "CommentPosted",
                "data": {
                    "article_id": article,
                    "comment_id": cid,
                    "author_id": "f",
                    "body": "fresh",
                },
            }
            response = await client.post(
                f"{base_i}/v1/events", json=event, headers={"Authorization": f"Bearer {stack.key}"}
            )
            response.raise_for_status()
            acknowledged[cid] = time.perf_counter()

        async def watch() -> None:
            while not (posting_done.is_set() and len(served) >= len(acknowledged)):
                # Newest first, page by page, until a page brings nothing new: a slow poll
                # under load then still sees every comment, only later.
                cursor = None
                while True:
                    params: dict[str, Any] = {"sort": "newest", "limit": 200, "replies": 0}
                    if cursor:
                        params["cursor"] = cursor
                    page = await client.get(f"{base_q}/v1/articles/{article}/thread", params=params)
                    now = time.perf_counter()
                    if page.status_code != 200:
                        break
                    body = page.json()
                    new = [
                        c["comment_id"] for c in body["comments"] if c["comment_id"] not in served
                    ]
                    for comment_id in new:
                        served[comment_id] = now
                    cursor = body["next_cursor"]
                    if not new or cursor is None:
                        break
                await asyncio.sleep(0.005)

        await client.post(
            f"{base_i}/v1/events",
            json={"type": "ArticlePublished", "data": {"article_id": article, "title": "Fresh"}},
            headers={"Authorization": f"Bearer {stack.key}"},
        )
        watcher = asyncio.create_task(watch())
        tasks = []
        started = time.perf_counter()
        for n in range(rate * seconds):
            await asyncio.sleep(max(0.0, started + n / rate - time.perf_counter()))
            tasks.append(asyncio.create_task(one(n)))
        await asyncio.gather(*tasks)
        posting_done.set()
        await asyncio.wait_for(watcher, 60)
    delays = [(served[c] - at) * 1000 for c, at in acknowledged.items()]
    q = statistics.quantiles(delays, n=100)
    return {
        "rate_per_s": rate,
        "posts": len(delays),
        "p50_ms": round(q[49], 2),
        "p99_ms": round(q[98], 2),
        "max_ms": round(max(delays), 2),
        "watcher_interval_ms": 5,
    }


async def run(quick: bool, commit: str) -> Path:
    size = QUICK if quick else FULL
    seconds = float(size["seconds"])
    results: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit,
        "mode": "quick" if quick else "full",
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "note": "Kafka, PostgreSQL, the threadlog processes, Isso and wrk share this machine",
        },
        "scenarios": {},
    }
    scenarios = results["scenarios"]
    print(f"== catch-up: {size['catchup']:,} mixed events")
    scenarios["catchup"] = {
        "setup": f"backlog of {size['catchup']:,} mixed events (posts, replies, flags, updates, 1% retries) over 1,000 threads in 12 partitions, one worker process"
    }
    scenarios["catchup"] |= await catchup.run(int(size["catchup"]), mixed=True, batch=2000)

    stack = Stack(bench_settings("suite"))
    await stack.prepare()
    stack.start("worker", "ingest", "query")
    rss: dict[str, dict[str, float]] = {"started": stack.rss()}
    results["rss_mb_over_run"] = rss
    try:
        data = thread_events("big", int(size["big"]), 1)
        for i in range(int(size["small"])):
            data += thread_events(f"small-{i}", 10, 100 + i)
        data += _history("prolific", int(size["history"]), 1000)
        data += _flat("isso-same", int(size["isso_big"]))
        print(f"== loading {len(data):,} events for the read scenarios")
        await append(stack.settings, data)
        load_s = await wait_applied(stack.settings, len(data))
        await analyze(stack.settings)
        scenarios["read_setup"] = {
            "events": len(data),
            "applied_in_s": round(load_s, 1),
            "then": "ANALYZE, as autovacuum does within a minute of a bulk load",
        }
        rss["loaded"] = stack.rss()
        base = stack.settings.query_url
        targets = {
            "big_first_page": ["/v1/articles/big/thread"],
            "small_first_pages": [
                f"/v1/articles/small-{i}/thread" for i in range(int(size["small"]))
            ],
            "timeline_deep_pages": await _timeline_cursors(base, "prolific", 20, 100),
        }
        for name, paths in targets.items():
            scenarios[f"read_{name}"] = {
                "setup": f"{len(paths)} distinct GET paths in turn; default page (limit 50, 5 replies per level, 3 levels)"
            }
            for concurrency in (1, 32, 256):
                print(f"== read {name} at concurrency {concurrency}")
                scenarios[f"read_{name}"][f"c{concurrency}"] = wrk.get(
                    base, paths, concurrency, seconds
                ).as_dict()
        rss["after reads"] = stack.rss()
        print("== ingest")
        scenarios["ingest_single"] = {"setup": "one CommentPosted per POST, acks=all"} | wrk.post(
            stack.settings.ingest_url, "threadlog", 32, seconds, 1, stack.key
        ).as_dict()
        batch = wrk.post(stack.settings.ingest_url, "threadlog", 8, seconds, 100, stack.key)
        scenarios["ingest_batch100"] = {
            "setup": "100 CommentPosted per POST, acks=all",
            "events_per_s": round(batch.rate * 100),
        } | batch.as_dict()
        # The ingest scenarios leave a backlog; freshness is measured on a caught-up worker.
        scenarios["ingest_backlog_applied_in_s"] = round(await wait_caught_up(stack.settings), 1)
        rss["after ingest"] = stack.rss()
        print("== freshness")
        scenarios["freshness"] = {
            "setup": "steady posting, one POST per comment; one watcher reads the thread newest-first every 5 ms and notes when each comment is first served"
        } | await _freshness(stack, int(size["fresh_rate"]), int(size["fresh_seconds"]))
        print("== threadlog at Isso's concurrency, on the same comments")
        threadlog_post8 = wrk.post(stack.settings.ingest_url, "threadlog", 8, seconds, 1, stack.key)
        threadlog_same = wrk.get(base, ["/v1/articles/isso-same/thread?limit=50"], 32, seconds)
        results["rss_mb"] = rss["end"] = stack.rss()
    finally:
        stack.stop()
        await stack.drop()

    print("== Isso")
    server = isso.start(ROOT / ".state")
    try:
        seeded = await isso.seed("%2Fbig", int(size["isso_big"]))
        isso_post = wrk.post(f"http://127.0.0.1:{isso.PORT}", "isso", 8, seconds)
        isso_read = wrk.get(f"http://127.0.0.1:{isso.PORT}", ["/?uri=%2Fbig&limit=50"], 32, seconds)
    finally:
        server.terminate()
        server.wait(10)
    scenarios["isso"] = {
        "setup": f"Isso {isso.ISSO_VERSION} (SQLite, its own server, guard and moderation off) and threadlog, each holding the same flat {int(size['isso_big']):,}-comment thread; posting one comment per request at concurrency 8; first page of 50 at concurrency 32",
        "isso_seed_posts_per_s": round(seeded, 1),
        "isso_post": isso_post.as_dict(),
        "isso_read_first_page": isso_read.as_dict(),
        "threadlog_post": threadlog_post8.as_dict(),
        "threadlog_read_first_page": threadlog_same.as_dict(),
        "ratio_post_rate": round(threadlog_post8.rate / isso_post.rate, 1),
        "ratio_read_rate": round(threadlog_same.rate / isso_read.rate, 1),
        "ratio_read_p99": round(
            isso_read.summary.p99_us / max(threadlog_same.summary.p99_us, 1), 1
        ),
    }
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    stem = out / f"{datetime.now(UTC):%Y-%m-%d}{'-quick' if quick else ''}"
    stem.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n")
    write_report(results, stem)
    print(stem.with_suffix(".md").read_text())
    return stem


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller data, 3 s per load (< 3 min)")
    args = parser.parse_args()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    asyncio.run(run(args.quick, commit))


if __name__ == "__main__":
    main()
