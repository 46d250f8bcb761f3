"""A soak: a steady posting rate with readers, for as long as it takes memory or lag to drift.

    python -m bench.soak [--minutes 30] [--rate 1000] [--read-rate 100]

Starts the worker, ingest and query processes (bench/stack.py) on a fresh topic and schema and
posts one comment per request at `--rate`: a window of 10 s starts every 10 s on the clock, each
on its own article. The suite's freshness measure (bench/freshness.py: one watcher notes
when each comment is first served) gives each window's p50/p99 from the 202 to the comment being
served. Meanwhile readers ask for the first pages of the threads posted so far at `--read-rate`
per second. Every 10 s: each process's resident memory and the worker's lag (its /metrics).
Writes bench/results/soak-<date>.json, .md and .svg (lag, freshness and memory over time).
Asserts nothing.
"""

import argparse
import asyncio
import itertools
import json
import multiprocessing
import os
import random
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench import children
from bench.conditions import OWN_PORTS, conditions
from bench.freshness import freshness
from bench.ports import refuse_taken
from bench.poster import PostError
from bench.soak_report import lag_records, markdown, svg, window_quantiles
from bench.stack import Stack, bench_settings, ports_of

WINDOW_S = 10
INFLIGHT = 1000
RESULTS = Path(__file__).resolve().parent / "results"


class Readers:
    """First-page reads of the threads posted so far, at a fixed rate (open loop: a slow answer
    does not slow the next request), their latencies kept until the window ends.

    They run in a process of their own: in the soak's process they shared one core with the
    posting client and its watcher, and measured that process's queue (reads at p50 5-9 s while
    the query service answered first pages in 10 ms). A window's threads become readable when
    it ends, so the process knows them from the clock alone."""

    def __init__(self, base: str, rate: float, started: float) -> None:
        self.base, self.rate, self.started = base, rate, started
        self.latencies_ms: list[float] = []
        self.errors = 0
        self._rng = random.Random(15)

    def _article(self) -> str | None:
        ended = int((time.time() - self.started) // WINDOW_S)
        return f"soak-{self._rng.randrange(ended)}" if ended > 0 else None

    async def _one(self, client: httpx.AsyncClient, article: str) -> None:
        started = time.perf_counter()
        try:
            response = await client.get(f"/v1/articles/{article}/thread")
            ok = response.status_code == 200
        except httpx.HTTPError:
            ok = False
        if ok:
            self.latencies_ms.append((time.perf_counter() - started) * 1000)
        else:
            self.errors += 1

    async def _report(self, results: "multiprocessing.Queue[dict[str, Any]]") -> None:
        for k in itertools.count():
            await asyncio.sleep(max(0.0, self.started + (k + 1) * WINDOW_S - time.time()))
            results.put(self.take())

    async def run(self, results: "multiprocessing.Queue[dict[str, Any]]") -> None:
        """Read until the process is stopped, putting each window's figures as it ends."""
        limits = httpx.Limits(max_connections=32)
        reporting = asyncio.create_task(self._report(results))
        async with httpx.AsyncClient(base_url=self.base, timeout=30, limits=limits) as client:
            tasks: set[asyncio.Task[None]] = set()
            n = 0
            while not reporting.done():
                n += 1
                await asyncio.sleep(max(0.0, self.started + n / self.rate - time.time()))
                article = self._article()
                if article is not None:
                    task = asyncio.create_task(self._one(client, article))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)

    def take(self) -> dict[str, Any]:
        """The window's reads, then start the next window afresh."""
        p50, p99 = window_quantiles(self.latencies_ms)
        figures: dict[str, Any] = {"reads": len(self.latencies_ms), "read_errors": self.errors}
        figures |= {"read_p50_ms": p50, "read_p99_ms": p99}
        self.latencies_ms, self.errors = [], 0
        return figures


def _read_process(
    base: str, rate: float, started: float, results: "multiprocessing.Queue[dict[str, Any]]"
) -> None:
    asyncio.run(Readers(base, rate, started).run(results))


async def _lag(client: httpx.AsyncClient, url: str) -> int | None:
    try:
        return lag_records((await client.get(url)).text)
    except httpx.HTTPError:
        return None


def _own_rss_mb() -> float:
    # bench.stack.rss_mb adds a process's children: the client's are the stack's processes.
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) / 1024 for line in status if line.startswith("VmRSS:"))


def _rss(stack: Stack) -> dict[str, float]:
    return stack.rss() | {"client": round(_own_rss_mb(), 1)}


async def _window(stack: Stack, rate: int, article: str, record: dict[str, Any]) -> None:
    """One window's posts and their freshness, into `record` once the last post is served; a
    window whose posts were refused (ingest's 503 while Kafka is slow) records why instead."""
    try:
        fresh = await freshness(stack, rate, WINDOW_S, article, own_process=False)
    except PostError as error:
        record["failed"] = str(error)[:240]
    except httpx.RequestError as error:
        record["failed"] = f"{error!r} on {error.request.method} {error.request.url.path}"
    except (httpx.HTTPError, TimeoutError) as error:
        record["failed"] = repr(error)[:240]
    else:
        record |= {
            "posts": fresh["posts"],
            "fresh_p50_ms": fresh["p50_ms"],
            "fresh_p99_ms": fresh["p99_ms"],
            "fresh_max_ms": fresh["max_ms"],
        }


def _summary(windows: list[dict[str, Any]]) -> dict[str, Any]:
    """Posts of the windows measured over the posting time (the last window's clock end), the
    worst and the median window's freshness p99, the largest lag, the reads."""
    elapsed = windows[-1]["t_s"]
    measured = [w for w in windows if "failed" not in w]
    posts = sum(w["posts"] for w in measured)
    p99s = sorted(w["fresh_p99_ms"] for w in measured) or [None]
    return {
        "windows_failed": len(windows) - len(measured),
        "posts_in_measured_windows": posts,
        "achieved_rate_per_s": round(posts / elapsed, 1),
        "fresh_p99_ms_worst_window": p99s[-1],
        "fresh_p99_ms_median_window": p99s[len(p99s) // 2],
        "lag_records_max": max((w["lag_records"] or 0) for w in windows),
        "reads": sum(w["reads"] for w in windows),
        "read_errors": sum(w["read_errors"] for w in windows),
    }


async def _soak(
    stack: Stack, minutes: float, rate: int, started: float, reads: "multiprocessing.Queue[Any]"
) -> list[dict[str, Any]]:
    """Windows start every 10 s on the clock, whether or not the last one's posts are all served
    yet: the posting rate stays steady, and a slow window shows as its own freshness. A window's
    row holds the samples taken as it ends (RSS, lag, the reads it saw)."""
    metrics = f"http://127.0.0.1:{stack.settings.worker_metrics_port}/metrics"
    windows: list[dict[str, Any]] = []
    running: list[asyncio.Task[None]] = []
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            for k in range(max(1, round(minutes * 60 / WINDOW_S))):
                article = f"soak-{k}"
                record: dict[str, Any] = {"window": k}
                windows.append(record)
                running.append(asyncio.create_task(_window(stack, rate, article, record)))
                await asyncio.sleep(max(0.0, started + (k + 1) * WINDOW_S - time.time()))
                record |= {
                    "t_s": round(time.time() - started, 1),
                    "lag_records": await _lag(client, metrics),
                    # Other work on the machine shows here: the soak's figures are read with it.
                    "load_1m": round(os.getloadavg()[0], 2),
                    "rss_mb": _rss(stack),
                } | await asyncio.to_thread(reads.get, True, WINDOW_S)
                print(json.dumps({k: v for k, v in windows[-1].items() if k != "rss_mb"}))
            await asyncio.gather(*running)
    finally:
        for task in running:
            task.cancel()
    return windows


async def run(minutes: float = 30, rate: int = 1000, read_rate: float = 100) -> dict[str, Any]:
    """Soak for `minutes` at `rate` posts/s with readers; write the results; return them."""
    # Each window's poster holds up to 100 connections (bench/freshness.py), and windows overlap
    # while the last posts drain: at the default in-flight bound (100) ingest sheds our own
    # measuring client's posts (503 overloaded) whenever it slows, and the window is lost.
    settings = bench_settings(
        "soak",
        **OWN_PORTS,
        max_inflight_requests=INFLIGHT,
    )
    refuse_taken(ports_of(settings, ("worker", "ingest", "query")))
    stack = Stack(settings)
    await stack.prepare()
    result: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "setup": {
            "rate_per_s": rate,
            "minutes": minutes,
            "read_rate_per_s": read_rate,
            "window_s": WINDOW_S,
            "query_processes": settings.query_workers,
            "max_inflight_requests": INFLIGHT,
            "how": "one CommentPosted per POST, a window of 10 s on its own article starting"
            " every 10 s; freshness by bench/freshness.py (one watcher per window,"
            " newest first, every 5 ms); readers, in a process of their own, read first pages of"
            " earlier windows' threads;"
            " RSS (client: this process alone) and the worker's lag sampled every 10 s",
        },
        "conditions": await conditions(settings),
    }
    context = multiprocessing.get_context("spawn")
    reads: multiprocessing.Queue[dict[str, Any]] = context.Queue()
    reading = None
    try:
        stack.start("worker", "ingest", "query")
        result["rss_mb"] = {"start": _rss(stack)}
        started = time.time()
        reading = context.Process(
            target=_read_process, args=(settings.query_url, read_rate, started, reads), daemon=True
        )
        reading.start()
        result["windows"] = await _soak(stack, minutes, rate, started, reads)
        result["rss_mb"]["end"] = _rss(stack)
    finally:
        if reading is not None:
            reading.kill()
        stack.stop()
        await stack.drop()
    result["summary"] = _summary(result["windows"])
    result["conditions"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    RESULTS.mkdir(parents=True, exist_ok=True)
    stem = RESULTS / f"soak-{datetime.now(UTC):%Y-%m-%d-%H%M}"
    stem.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    stem.with_suffix(".md").write_text(markdown(result))
    stem.with_suffix(".svg").write_text(svg(result))
    print(f"wrote {stem}.json, .md and .svg")
    return result


def main() -> None:
    """Parse the arguments and soak."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--rate", type=int, default=1000, help="posts per second")
    parser.add_argument("--read-rate", type=float, default=100, help="first-page reads per second")
    args = parser.parse_args()
    try:
        children.run(run(args.minutes, args.rate, args.read_rate))
    except asyncio.CancelledError:
        sys.exit("soak stopped by SIGTERM; its processes are stopped and its schema dropped")


if __name__ == "__main__":
    main()
