"""The soak's pure parts: the worker's lag from its /metrics text, quantiles per window, and the
results as Markdown and as an SVG plot over time."""

import statistics
from collections.abc import Sequence
from typing import Any

from bench.svgplot import Panel, plot

LAG_SERIES = "threadlog_lag_records{"


def lag_records(exposition: str) -> int | None:
    """The worker's lag: `threadlog_lag_records` summed over its partitions (projections/
    metrics.py); None while it reads no partition."""
    values = [
        int(float(line.rsplit(" ", 1)[1]))
        for line in exposition.splitlines()
        if line.startswith(LAG_SERIES)
    ]
    return sum(values) if values else None


def window_quantiles(samples: Sequence[float]) -> tuple[float | None, float | None]:
    """p50 and p99 of a window's samples (as the suite computes them), None with fewer than two."""
    if len(samples) < 2:
        return None, None
    q = statistics.quantiles(samples, n=100)
    return round(q[49], 2), round(q[98], 2)


def _series(windows: Sequence[dict[str, Any]], key: str) -> list[tuple[float, float]]:
    return [(w["t_s"], float(w[key])) for w in windows if w.get(key) is not None]


def svg(result: dict[str, Any]) -> str:
    """Lag, freshness p50/p99 and each process's resident memory over the soak."""
    windows = result["windows"]
    roles = sorted({role for w in windows for role in w["rss_mb"]})
    return plot(
        [
            Panel("worker lag", "records", {"lag": _series(windows, "lag_records")}),
            Panel(
                "freshness, 202 to served",
                "ms",
                {
                    "freshness p50": _series(windows, "fresh_p50_ms"),
                    "freshness p99": _series(windows, "fresh_p99_ms"),
                },
            ),
            Panel(
                "resident memory",
                "MiB",
                {
                    r: [(w["t_s"], w["rss_mb"][r]) for w in windows if r in w["rss_mb"]]
                    for r in roles
                },
            ),
        ],
        x_label="seconds since the soak started",
    )


def _cell(value: object) -> str:
    return "" if value is None else f"{value:,}" if isinstance(value, int) else str(value)


def markdown(result: dict[str, Any]) -> str:
    """The soak in short: setup, conditions, RSS at start and end, then each window's figures."""
    setup, c = result["setup"], result["conditions"]
    start, end = result["rss_mb"]["start"], result["rss_mb"]["end"]
    lines = [
        f"# Soak, {result['date']}",
        "",
        f"{setup['rate_per_s']} posts/s for {setup['minutes']} min (one POST per comment),"
        f" readers at {setup['read_rate_per_s']} first-page reads/s;"
        f" {c['cores']} cores, load average at start {c['load_average']}."
        " Everything on one shared machine: figures are low bounds.",
        "",
        f"Summary: {result['summary']}",
        "",
        "Resident memory (MiB; a serving role sums its workers):",
        "",
        "| process | start | end |",
        "|---|---|---|",
        *(f"| {r} | {start.get(r, '')} | {end.get(r, '')} |" for r in sorted(start | end)),
        "",
        "| t (s) | posts | fresh p50 (ms) | fresh p99 (ms) | fresh max (ms) | lag | reads"
        " | read p99 (ms) | failed |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    keys = ("t_s", "posts", "fresh_p50_ms", "fresh_p99_ms", "fresh_max_ms", "lag_records")
    for w in result["windows"]:
        failed = w.get("failed")
        cells = [
            *(w.get(k) for k in keys),
            w.get("reads"),
            w.get("read_p99_ms"),
            failed and failed[:80],
        ]
        lines.append("| " + " | ".join(_cell(v) for v in cells) + " |")
    return "\n".join(lines) + "\n"
