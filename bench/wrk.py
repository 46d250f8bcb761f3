"""Run wrk (C, so the load generator costs little of the two cores) and read its summary."""

import os
import resource
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import msgspec

from bench import children

LUA = Path(__file__).parent / "lua"


class WrkSummary(msgspec.Struct, frozen=True):
    """What wrk's `done` hook prints (latencies in microseconds)."""

    requests: int
    duration_us: int
    errors: int
    non2xx: int
    p50_us: int
    p90_us: int
    p99_us: int
    p999_us: int
    mean_us: float
    max_us: int


@dataclass(frozen=True)
class Load:
    """One wrk run: its summary, rate, and the CPU the load generator itself used."""

    summary: WrkSummary
    rate: float
    generator_cpu_s: float
    concurrency: int
    seconds: float

    def as_dict(self) -> dict[str, float | int]:
        """Flat figures for the results file; `rate_per_s` counts answers that succeeded (a 503
        from the in-flight bound is load shed, not served), `answered_per_s` every answer."""
        s = self.summary
        ok = s.requests - s.non2xx - s.errors
        return {
            "concurrency": self.concurrency,
            "seconds": self.seconds,
            "requests": s.requests,
            "rate_per_s": round(ok / (s.duration_us / 1e6), 1),
            "answered_per_s": round(self.rate, 1),
            "p50_ms": s.p50_us / 1000,
            "p90_ms": s.p90_us / 1000,
            "p99_ms": s.p99_us / 1000,
            "p999_ms": s.p999_us / 1000,
            "max_ms": s.max_us / 1000,
            "errors": s.errors,
            "non2xx": s.non2xx,
            "generator_cpu_s": round(self.generator_cpu_s, 2),
        }


def _run(url: str, script: str, args: list[str], concurrency: int, seconds: float) -> Load:
    threads = 1 if concurrency < 2 else 2
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    process = children.spawn(
        [
            "wrk",
            f"-t{threads}",
            f"-c{concurrency}",
            f"-d{seconds:g}s",
            "--timeout",
            "10s",
            "-s",
            str(LUA / script),
            url,
            "--",
            *args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(os.environ, BENCH_LUA=str(LUA)),
    )
    try:
        out, err = process.communicate()
    finally:
        children.stop(process)
    if process.returncode != 0:
        raise SystemExit(f"wrk exited with {process.returncode}: {err.decode()[-500:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    line = next(raw for raw in reversed(out.decode().splitlines()) if raw.startswith("{"))
    summary = msgspec.json.decode(line, type=WrkSummary)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Load(summary, summary.requests / (summary.duration_us / 1e6), cpu, concurrency, seconds)


def get(base: str, paths: list[str], concurrency: int, seconds: float) -> Load:
    """GET `paths` in turn at `concurrency` for `seconds`."""
    with tempfile.NamedTemporaryFile("w", suffix=".paths", delete=False) as listing:
        listing.write("\n".join(paths) + "\n")
    try:
        return _run(base, "paths.lua", [listing.name], concurrency, seconds)
    finally:
        os.unlink(listing.name)


def post(
    base: str, mode: str, concurrency: int, seconds: float, batch: int = 1, key: str = ""
) -> Load:
    """POST unique comments (threadlog events, or Isso's /new) at `concurrency`."""
    return _run(base, "post.lua", [mode, str(batch), key], concurrency, seconds)
