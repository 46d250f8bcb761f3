"""The ingest scenarios of the suite alone, repeated: one event per POST at c1, c8 and c32,
batches of 100 at c8, and freshness at 200 posts/s (202 to served, once, on a caught-up
worker), on a worker, one ingest and the query processes; the median of the rounds.

    python -m bench.ingest [--seconds 3] [--rounds 3]

For before/after comparisons of ingest on a busy machine: the suite's other scenarios take
minutes, and a single 3 s round moves with whatever else runs. THREADLOG_INGEST_PRODUCERS and
the other settings are read from the environment as usual.
"""

import argparse
import statistics
from typing import Any

from bench import children, wrk
from bench.freshness import freshness  # the suite's own measure, so both report the same thing
from bench.stack import Stack, bench_settings, wait_caught_up


def _median(loads: list[dict[str, Any]], figure: str) -> float:
    return round(statistics.median(float(load[figure]) for load in loads), 1)


async def run(seconds: float, rounds: int) -> dict[str, Any]:
    """The median rate and p99 of each scenario over `rounds` rounds, and the catch-up time."""
    loads: dict[str, list[dict[str, Any]]] = {"c1": [], "c8": [], "c32": [], "batch100": []}
    fresh: list[dict[str, Any]] = []
    async with Stack(bench_settings("ingest")) as stack:
        stack.start("worker", "ingest", "query")
        url, key = stack.settings.ingest_url, stack.key
        for _ in range(rounds):
            for concurrency in (1, 8, 32):
                load = wrk.post(url, "threadlog", concurrency, seconds, 1, key)
                loads[f"c{concurrency}"].append(load.as_dict())
            loads["batch100"].append(wrk.post(url, "threadlog", 8, seconds, 100, key).as_dict())
        applied_in_s = await wait_caught_up(stack.settings)
        # Once: the suite's measure posts the same comment ids each time it runs.
        fresh.append(await freshness(stack, 200, int(seconds)))
    figures: dict[str, Any] = {"rounds": rounds}
    for name, runs in loads.items():
        scale = 100 if name == "batch100" else 1
        figures[f"{name}_per_s"] = round(_median(runs, "rate_per_s") * scale)
        figures[f"{name}_p50_ms"] = _median(runs, "p50_ms")
        figures[f"{name}_p99_ms"] = _median(runs, "p99_ms")
        figures[f"{name}_non2xx"] = sum(int(load["non2xx"]) for load in runs)
    figures["freshness_p50_ms"] = _median(fresh, "p50_ms")
    figures["freshness_p99_ms"] = _median(fresh, "p99_ms")
    figures["backlog_applied_in_s"] = round(applied_in_s, 1)
    return figures


def main() -> None:
    """Parse the arguments, run, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=3.0, help="length of each load")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; the median is reported")
    args = parser.parse_args()
    for name, value in children.run(run(args.seconds, args.rounds)).items():
        print(f"{name}: {value}")


if __name__ == "__main__":
    main()
