"""`make bench`: every scenario on the local stack, fixed data and seeds, results to bench/results.

    python -m bench.suite [--quick] [--repeat N]

Scenarios (each states its setup in the results): catch-up of a mixed backlog; reads (first page
of a big thread, first pages of many small threads, timeline pages deep in a long history) at
concurrency 1, 32 and 256; ingest of single events and of batches of 100; freshness (202 to
served) at a steady posting rate; Isso beside threadlog on the same comments; and `threadlog
import` of a generated Disqus export (400 MB; --quick 20 MB), then the worker applying it. Load comes from
wrk (C) as a separate process, and its CPU time is reported, since everything shares the cores.
The figures the targets name (catch-up, ingest, freshness, the big thread's first page at c32,
the Isso posting ratio, the import's comments/s) are measured `--repeat` times: the report quotes the median run and gives
the median, min and max, since tail latencies move a lot from run to run on a shared machine.
Writes bench/results/<date>.json and .md (and .png when matplotlib is installed). Asserts nothing.
"""

import argparse
import asyncio
import json
import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench import catchup, children, import_disqus, isso, limits, sealing_cost, wrk
from bench.freshness import freshness
from bench.ports import refuse_taken
from bench.produce import append
from bench.report import write_report
from bench.spread import quoted
from bench.stack import (
    Stack,
    analyze,
    bench_settings,
    ports_of,
    wait_applied,
    wait_caught_up,
)
from bench.thread_read import thread_events
from bench.workload import as_envelopes
from bench.wrk import Load
from events import ArticlePublished, CommentPosted, Envelope, Event
from threadlog.settings import Settings

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
    "import_mb": 400,
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
    "import_mb": 20,
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


def _ports(settings: Settings) -> list[int]:
    """Every port the run binds: the stack's (the catch-up worker's metrics port among them)
    and Isso's."""
    return [*ports_of(settings, ("worker", "ingest", "query")), isso.PORT]


async def _catchup(size: dict[str, float], repeat: int) -> dict[str, Any]:
    runs = []
    for n in range(repeat):
        print(f"== catch-up: {size['catchup']:,} mixed events (run {n + 1} of {repeat})")
        runs.append(await catchup.run(int(size["catchup"]), mixed=True, batch=2000))
    return {
        "setup": f"backlog of {size['catchup']:,} mixed events (posts, replies, flags, updates, 1% retries) over 1,000 threads in 12 partitions, one worker process; a fresh topic and schema each run"
    } | quoted(runs, "events_per_s", ["events_per_s"])


def _limits(size: dict[str, float], catchup_results: dict[str, Any]) -> dict[str, Any]:
    """The physical limit beside the catch-up, in the same run: PostgreSQL's COPY of the same
    rows, the codec's decode of the same records (bench/limits.py), and the catch-up as a
    fraction of each. At most 200,000 events: building the rows in memory for 1,000,000 took
    about 4 GiB, and the rates per row are what count."""
    events = min(int(size["catchup"]), 200_000)
    print(f"== the physical limit: COPY and decode of {events:,} events' rows and records")
    found = asyncio.run(limits.run(events, repeats=1))
    return {
        "setup": f"the rows and records of the catch-up's workload ({events:,} events): binary"
        " COPY into the threads tables with every index, then with primary keys only; decode"
        " with the worker's codec",
        "limits": found,
        "catchup_fraction": limits.fraction_of_limits(catchup_results["events_per_s"], found),
    }


async def _load_reads(stack: Stack, size: dict[str, float]) -> dict[str, Any]:
    data = thread_events("big", int(size["big"]), 1)
    for i in range(int(size["small"])):
        data += thread_events(f"small-{i}", 10, 100 + i)
    data += _history("prolific", int(size["history"]), 1000)
    data += _flat("isso-same", int(size["isso_big"]))
    print(f"== loading {len(data):,} events for the read scenarios")
    await append(stack.settings, data)
    load_s = await wait_applied(stack.settings, len(data))
    await analyze(stack.settings)
    return {
        "events": len(data),
        "applied_in_s": round(load_s, 1),
        "then": "ANALYZE, as autovacuum does within a minute of a bulk load",
    }


async def _reads(stack: Stack, size: dict[str, float], repeat: int) -> dict[str, Any]:
    """Each read scenario at c1, c32 and c256; the big thread at c32, a target, `repeat` times."""
    base, seconds = stack.settings.query_url, float(size["seconds"])
    targets = {
        "big_first_page": ["/v1/articles/big/thread"],
        "small_first_pages": [f"/v1/articles/small-{i}/thread" for i in range(int(size["small"]))],
        "timeline_deep_pages": await _timeline_cursors(base, "prolific", 20, 100),
    }
    scenarios: dict[str, Any] = {}
    for name, paths in targets.items():
        scenario = scenarios[f"read_{name}"] = {
            "setup": f"{len(paths)} distinct GET paths in turn; default page (limit 50, 5 replies per level, 3 levels)"
        }
        for concurrency in (1, 32, 256):
            runs = repeat if (name, concurrency) == ("big_first_page", 32) else 1
            print(f"== read {name} at concurrency {concurrency}, {runs} run(s)")
            loads = [wrk.get(base, paths, concurrency, seconds).as_dict() for _ in range(runs)]
            scenario[f"c{concurrency}"] = (
                quoted(loads, "p99_ms", ["p99_ms", "rate_per_s"], higher_is_better=False)
                if runs > 1
                else loads[0]
            )
    return scenarios


async def _writes(stack: Stack, size: dict[str, float], repeat: int) -> dict[str, Any]:
    """Ingest (single events, batches of 100) then freshness on the caught-up worker, in rounds,
    so that each round's figures come from comparable conditions."""
    url, key, seconds = stack.settings.ingest_url, stack.key, float(size["seconds"])
    single, batch, fresh, backlog = [], [], [], []
    for n in range(repeat):
        print(f"== ingest (run {n + 1} of {repeat})")
        single.append(wrk.post(url, "threadlog", 32, seconds, 1, key).as_dict())
        load = wrk.post(url, "threadlog", 8, seconds, 100, key)
        batch.append({"events_per_s": round(load.rate * 100)} | load.as_dict())
        # The ingest scenarios leave a backlog; freshness is measured on a caught-up worker.
        backlog.append(round(await wait_caught_up(stack.settings), 1))
        print(f"== freshness (run {n + 1} of {repeat})")
        rate, fresh_s = int(size["fresh_rate"]), int(size["fresh_seconds"])
        fresh.append(await freshness(stack, rate, fresh_s, f"fresh-{n}"))
    return {
        "ingest_single": {"setup": "one CommentPosted per POST, acks=all"}
        | quoted(single, "rate_per_s", ["rate_per_s", "p99_ms"]),
        "ingest_batch100": {"setup": "100 CommentPosted per POST, acks=all"}
        | quoted(batch, "events_per_s", ["events_per_s", "p99_ms"]),
        "ingest_backlog_applied_in_s": backlog,
        "freshness": {
            "setup": "steady posting, one POST per comment; one watcher reads the thread newest-first every 5 ms and notes when each comment is first served"
        }
        | quoted(fresh, "p99_ms", ["p50_ms", "p99_ms"], higher_is_better=False),
    }


def _isso(
    size: dict[str, float], threadlog_posts: list[Load], threadlog_read: Load
) -> dict[str, Any]:
    """Isso on the same comments; posting `repeat` times, as threadlog was, paired run by run."""
    seconds = float(size["seconds"])
    print("== Isso")
    with isso.serving(ROOT / ".state"):
        seeded = asyncio.run(isso.seed("%2Fbig", int(size["isso_big"])))
        isso_posts = [
            wrk.post(f"http://127.0.0.1:{isso.PORT}", "isso", 8, seconds) for _ in threadlog_posts
        ]
        isso_read = wrk.get(f"http://127.0.0.1:{isso.PORT}", ["/?uri=%2Fbig&limit=50"], 32, seconds)
    posting = [
        {
            "isso_post": theirs.as_dict(),
            "threadlog_post": ours.as_dict(),
            "ratio_post_rate": round(ours.rate / theirs.rate, 1),
        }
        for ours, theirs in zip(threadlog_posts, isso_posts, strict=True)
    ]
    return {
        "setup": f"Isso {isso.ISSO_VERSION} (SQLite, its own server, guard and moderation off) and threadlog, each holding the same flat {int(size['isso_big']):,}-comment thread; posting one comment per request at concurrency 8; first page of 50 at concurrency 32",
        "isso_seed_posts_per_s": round(seeded, 1),
        "isso_read_first_page": isso_read.as_dict(),
        "threadlog_read_first_page": threadlog_read.as_dict(),
        "ratio_read_rate": round(threadlog_read.rate / isso_read.rate, 1),
        "ratio_read_p99": round(
            isso_read.summary.p99_us / max(threadlog_read.summary.p99_us, 1), 1
        ),
    } | quoted(posting, "ratio_post_rate", ["ratio_post_rate"])


async def _threadlog(
    size: dict[str, float], repeat: int, results: dict[str, Any]
) -> tuple[list[Load], Load]:
    """Every scenario on one stack; returns threadlog's side of the Isso comparison."""
    scenarios = results["scenarios"]
    seconds = float(size["seconds"])
    async with Stack(bench_settings("suite")) as stack:
        stack.start("worker", "ingest", "query")
        rss: dict[str, dict[str, float]] = {"started": stack.rss()}
        results["rss_mb_over_run"] = rss
        scenarios["read_setup"] = await _load_reads(stack, size)
        rss["loaded"] = stack.rss()
        scenarios |= await _reads(stack, size, repeat)
        rss["after reads"] = stack.rss()
        scenarios |= await _writes(stack, size, repeat)
        rss["after ingest and freshness"] = stack.rss()
        print("== threadlog at Isso's concurrency, on the same comments")
        url, key = stack.settings.ingest_url, stack.key
        posts = [wrk.post(url, "threadlog", 8, seconds, 1, key) for _ in range(repeat)]
        path = ["/v1/articles/isso-same/thread?limit=50"]
        read = wrk.get(stack.settings.query_url, path, 32, seconds)
        results["rss_mb"] = rss["end"] = stack.rss()
    return posts, read


def run(quick: bool, repeat: int, commit: str) -> Path:
    """Every scenario, the target figures `repeat` times; write and print the report."""
    size = QUICK if quick else FULL
    refuse_taken(_ports(bench_settings("suite")))  # before minutes of work, not in the middle
    results: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit,
        "mode": "quick" if quick else "full",
        "repeat": repeat,
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "note": "Kafka, PostgreSQL, the threadlog processes, Isso and wrk share this machine",
        },
        "scenarios": {},
    }
    results["scenarios"]["catchup"] = asyncio.run(_catchup(size, repeat))
    results["scenarios"]["limits"] = _limits(size, results["scenarios"]["catchup"])
    posts, read = asyncio.run(_threadlog(size, repeat, results))
    # Sealing's cost (#17): off and on back to back, on a smaller backlog than the target's.
    results["scenarios"]["sealing"] = asyncio.run(
        sealing_cost.run(min(int(size["catchup"]), 200_000), float(size["seconds"]))
    )
    results["scenarios"]["isso"] = _isso(size, posts, read)
    results["scenarios"]["import"] = asyncio.run(
        import_disqus.scenario(float(size["import_mb"]), repeat)
    )
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
    parser.add_argument(
        "--repeat",
        type=int,
        help="runs of each figure a target names (default 3; with --quick, 2); the report"
        " quotes the median run and gives median, min and max",
    )
    args = parser.parse_args()
    repeat = args.repeat or (2 if args.quick else 3)
    if repeat < 1:
        parser.error("--repeat must be at least 1")
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    with children.owned():
        run(args.quick, repeat, commit)


if __name__ == "__main__":
    main()
