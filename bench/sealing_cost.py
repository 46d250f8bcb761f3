"""What sealing personal fields costs (#17): catch-up and ingest with it off and on, in one run.

    python -m bench.sealing_cost [--quick]

Each pair runs back to back on the same machine state: a catch-up of the same mixed backlog
(appended in clear, or sealed as ingest seals it), then ingest of single events (c32) and of
batches of 100 (c8) on a stack with `THREADLOG_ENCRYPT_PERSONAL_DATA` off, then on. Asserts
nothing.
"""

import argparse
from typing import Any

from bench import catchup, children, wrk
from bench.stack import Stack, bench_settings


async def run(events: int, seconds: float) -> dict[str, Any]:
    """The figures with sealing off and on, and the ratio of on to off for each."""
    figures: dict[str, dict[str, float]] = {}
    for sealed in (False, True):
        name = "on" if sealed else "off"
        print(f"== sealing {name}: catch-up of {events:,} mixed events")
        caught = await catchup.run(events, mixed=True, batch=2000, sealed=sealed)
        print(f"== sealing {name}: ingest")
        async with Stack(bench_settings("sealing", encrypt_personal_data=sealed)) as stack:
            stack.start("ingest")
            url, key = stack.settings.ingest_url, stack.key
            single = wrk.post(url, "threadlog", 32, seconds, 1, key)
            batch = wrk.post(url, "threadlog", 8, seconds, 100, key)
        figures[name] = {
            "catchup_events_per_s": caught["events_per_s"],
            "worker_cpu_us_per_event": caught["worker_cpu_us_per_event"],
            "ingest_single_per_s": single.as_dict()["rate_per_s"],
            "ingest_single_p99_ms": single.as_dict()["p99_ms"],
            "ingest_batch100_events_per_s": round(batch.rate * 100),
        }
    on, off = figures["on"], figures["off"]
    return {
        "setup": f"catch-up of {events:,} mixed events (1 worker, batch 2000), then ingest for {seconds:g} s each (single at c32, batches of 100 at c8), sealing off then on; the ingest stack runs ingest alone",
        **figures,
        "ratio_on_to_off": {k: round(on[k] / off[k], 3) if off[k] else None for k in on},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    events, seconds = (50_000, 3.0) if args.quick else (200_000, 10.0)
    print(children.run(run(events, seconds)))


if __name__ == "__main__":
    main()
