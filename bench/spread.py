"""Figures measured over repeated runs: each run kept, the spread of the figures that matter,
and one run quoted whole.

Tail latencies move a lot from run to run on a shared machine (#15: the big thread's first page
at c32 had a p99 of 12.5 ms in one quick run and 2,467 ms in another). Quoting one whole run,
the median one, keeps a scenario's figures consistent with each other (a rate and the p99 seen
at that rate), and the spread says how far to trust them.
"""

import statistics
from collections.abc import Iterable
from typing import Any


def quoted(
    runs: list[dict[str, Any]],
    headline: str,
    spread_of: Iterable[str],
    higher_is_better: bool = True,
) -> dict[str, Any]:
    """The figures of the median run by `headline` (for an even count, the worse of the two
    middle runs: a real run rather than an average, and not the flattering one), with
    `quoted_run` (1-based), every run under `runs`, and the median, min and max over the runs
    of each figure in `spread_of`."""
    worst_first = sorted(range(len(runs)), key=lambda i: float(runs[i][headline]))
    order = worst_first if higher_is_better else worst_first[::-1]
    median_run = order[(len(runs) - 1) // 2]
    spread = {}
    for name in spread_of:
        values = [float(run[name]) for run in runs]
        spread[name] = {
            "median": round(statistics.median(values), 2),
            "min": min(values),
            "max": max(values),
        }
    return runs[median_run] | {"quoted_run": median_run + 1, "spread": spread, "runs": runs}
