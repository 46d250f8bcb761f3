"""The ingest scenarios of the suite alone, repeated: one event per POST at c32, batches of 100
at c8, on a worker and one ingest process; the median of the rounds.

    python -m bench.ingest [--seconds 3] [--rounds 3]

For before/after comparisons of ingest on a busy machine: the suite's other scenarios take
minutes, and a single 3 s round moves with whatever else runs. THREADLOG_INGEST_PRODUCERS and
the other settings are read from the environment as usual.
"""

import argparse
import asyncio
import statistics
from typing import Any

from bench import wrk
from bench.stack import Stack, bench_settings, wait_caught_up


def _median(loads: list[dict[str, Any]], figure: str) -> float:
    return round(statistics.median(float(load[figure]) for load in loads), 1)


async def run(seconds: float, rounds: int) -> dict[str, Any]:
    """The median rate and p99 of each scenario over `rounds` rounds, and the catch-up time."""
    stack = Stack(bench_settings("ingest"))
    await stack.prepare()
    stack.start("worker", "ingest")
    single: list[dict[str, Any]] = []
    batch: list[dict[str, Any]] = []
    try:
        for _ in range(rounds):
            url, key = stack.settings.ingest_url, stack.key
            single.append(wrk.post(url, "threadlog", 32, seconds, 1, key).as_dict())
            batch.append(wrk.post(url, "threadlog", 8, seconds, 100, key).as_dict())
        applied_in_s = await wait_caught_up(stack.settings)
    finally:
        stack.stop()
        await stack.drop()
    return {
        "rounds": rounds,
        "single_c32_req_per_s": _median(single, "rate_per_s"),
        "single_c32_p99_ms": _median(single, "p99_ms"),
        "single_non2xx": sum(int(load["non2xx"]) for load in single),
        "batch100_c8_events_per_s": round(_median(batch, "rate_per_s") * 100),
        "batch100_c8_p99_ms": _median(batch, "p99_ms"),
        "batch_non2xx": sum(int(load["non2xx"]) for load in batch),
        "backlog_applied_in_s": round(applied_in_s, 1),
    }


def main() -> None:
    """Parse the arguments, run, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=3.0, help="length of each load")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; the median is reported")
    args = parser.parse_args()
    for name, value in asyncio.run(run(args.seconds, args.rounds)).items():
        print(f"{name}: {value}")


if __name__ == "__main__":
    main()
