"""Turn a results dict into Markdown (every figure against its target) and PNG plots."""

from pathlib import Path
from typing import Any

TARGETS: list[tuple[str, list[str], str, float, bool]] = [
    # (label, path into the results, unit, target, higher is better)
    ("catch-up", ["catchup", "events_per_s"], "events/s", 50_000, True),
    ("ingest, batches of 100", ["ingest_batch100", "events_per_s"], "events/s", 50_000, True),
    ("ingest, single events", ["ingest_single", "rate_per_s"], "req/s", 5_000, True),
    ("ingest, single events p99", ["ingest_single", "p99_ms"], "ms", 25, False),
    (
        "big thread first page, c32",
        ["read_big_first_page", "c32", "rate_per_s"],
        "req/s",
        5_000,
        True,
    ),
    ("big thread first page p99, c32", ["read_big_first_page", "c32", "p99_ms"], "ms", 15, False),
    (
        "small threads first page, c32",
        ["read_small_first_pages", "c32", "rate_per_s"],
        "req/s",
        5_000,
        True,
    ),
    (
        "timeline deep page, c32",
        ["read_timeline_deep_pages", "c32", "rate_per_s"],
        "req/s",
        5_000,
        True,
    ),
    ("freshness p99", ["freshness", "p99_ms"], "ms", 50, False),
    ("Isso ratio, posting", ["isso", "ratio_post_rate"], "x", 10, True),
    ("Isso ratio, big thread reads", ["isso", "ratio_read_rate"], "x", 50, True),
    ("import, Disqus file to log", ["import", "comments_per_s"], "comments/s", 20_000, True),
]

# Figures repeated for their spread that have no target of their own.
SPREAD_ONLY: list[tuple[str, list[str], str]] = [
    ("freshness p50", ["freshness", "p50_ms"], "ms"),
    ("import, comments per importer CPU second", ["import", "comments_per_importer_cpu_s"], "/s"),
    ("import, importer peak RSS", ["import", "importer_peak_rss_mb"], "MiB"),
    ("import, worker applying it", ["import", "worker_events_per_s"], "events/s"),
]


def _node(results: dict[str, Any], path: list[str]) -> Any:
    node: Any = results["scenarios"]
    for step in path:
        if not isinstance(node, dict) or step not in node:
            return None
        node = node[step]
    return node


def _get(results: dict[str, Any], path: list[str]) -> float | None:
    value = _node(results, path)
    return None if value is None else float(value)


def _without_runs(figures: Any) -> Any:
    """A scenario's figures without each run's copy (the JSON keeps them; the Markdown lists
    the runs of the target figures once, under "Every run")."""
    if not isinstance(figures, dict):
        return figures
    return {k: _without_runs(v) for k, v in figures.items() if k != "runs"}


def _spread(scenario: Any, figure: str) -> dict[str, float] | None:
    """The spread of `figure` over the runs, None when it was measured once (a repeated
    scenario can hold figures measured once: Isso's read ratio beside its posting runs)."""
    if not isinstance(scenario, dict):
        return None
    spread: dict[str, float] | None = scenario.get("spread", {}).get(figure)
    return spread


def _spread_cell(scenario: Any, figure: str) -> str:
    spread = _spread(scenario, figure)
    if spread is None:
        return "one run"
    return f"{spread['median']:,.1f} ({spread['min']:,.1f} to {spread['max']:,.1f})"


def _every_run(results: dict[str, Any]) -> list[str]:
    lines = []
    for label, path, unit in [(t[0], t[1], t[2]) for t in TARGETS] + SPREAD_ONLY:
        scenario = _node(results, path[:-1])
        if _spread(scenario, path[-1]) is None:
            continue
        values = ", ".join(
            f"run {n} {float(run[path[-1]]):,.1f}" for n, run in enumerate(scenario["runs"], 1)
        )
        lines.append(f"- {label}: {values} {unit} (quoted: run {scenario['quoted_run']})")
    return lines


def _limit_lines(results: dict[str, Any]) -> list[str]:
    """The physical limit measured in the same run, and the catch-up as a fraction of it."""
    found = results["scenarios"].get("limits")
    if not found:
        return []
    limits, fraction = found["limits"], found["catchup_fraction"]
    indexed = limits["copy_indexed"]["events_per_s_if_only_copied"]
    keys_only = limits["copy_primary_keys_only"]["events_per_s_if_only_copied"]
    decode = limits["decode"]["records_per_s"]
    return [
        "",
        "## The physical limit, same run",
        "",
        f"{found['setup']}.",
        "",
        "| limit | events/s | catch-up as a fraction |",
        "|---|---|---|",
        f"| COPY of the rows, every index | {indexed:,.0f} | {fraction['of_copy_indexed']:.2f} |",
        f"| COPY of the rows, primary keys only | {keys_only:,.0f}"
        f" | {fraction['of_copy_primary_keys_only']:.2f} |",
        f"| decode of the records | {decode:,.0f} | {fraction['of_decode']:.2f} |",
    ]


def markdown(results: dict[str, Any]) -> str:
    """The summary: conditions, then each figure against its target, with its spread."""
    m = results["machine"]
    lines = [
        f"# threadlog benchmark, {results['date']} ({results['mode']}), commit {results['commit']}",
        "",
        f"{m['cores']} cores, Python {m['python']}, {m['platform']}. {m['note']}.",
        "",
        f"The figures the targets name were measured {results.get('repeat', 1)} time(s) each."
        " A scenario measured more than once is quoted from its median run (by its headline"
        " figure; for an even count, the worse of the two middle runs), all of its figures from that one"
        " run; the next column gives the median, min and max over the runs.",
        "",
        "| figure | measured | median (min to max) over the runs | target | met |",
        "|---|---|---|---|---|",
    ]
    for label, path, unit, target, higher in TARGETS:
        value = _get(results, path)
        if value is None:
            lines.append(f"| {label} | not measured | | {target:,g} {unit} | |")
            continue
        scenario = _node(results, path[:-1])
        run = ""
        if _spread(scenario, path[-1]) is not None:
            run = f" (run {scenario['quoted_run']} of {len(scenario['runs'])})"
        met = value >= target if higher else value <= target
        lines.append(
            f"| {label} | {value:,.1f} {unit}{run} | {_spread_cell(scenario, path[-1])} |"
            f" {'>=' if higher else '<='} {target:,g} {unit} | {'yes' if met else 'no'} |"
        )
    lines += _limit_lines(results)
    every_run = _every_run(results)
    if every_run:
        lines += ["", "## Every run", "", *every_run]
    lines += ["", "## Scenarios", ""]
    for name, figures in results["scenarios"].items():
        lines.append(f"- **{name}**: {_without_runs(figures)}")
    over_run: dict[str, dict[str, float]] = results.get("rss_mb_over_run", {})
    roles = sorted({role for sample in over_run.values() for role in sample})
    lines += ["", "Resident memory of each process (MiB; a serving role sums its workers):", ""]
    lines += ["| when | " + " | ".join(roles) + " |", "|---|" + "---|" * len(roles)]
    for when, sample in over_run.items():
        lines.append(f"| {when} | " + " | ".join(f"{sample.get(r, 0):.1f}" for r in roles) + " |")
    lines.append("")
    return "\n".join(lines)


def _plot(results: dict[str, Any], path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    reads = [k for k in results["scenarios"] if k.startswith("read_") and k != "read_setup"]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for name in reads:
        levels = [c for c in ("c1", "c32", "c256") if c in results["scenarios"][name]]
        xs = [int(c[1:]) for c in levels]
        axes[0].plot(
            xs,
            [results["scenarios"][name][c]["rate_per_s"] for c in levels],
            marker="o",
            label=name[5:],
        )
        axes[1].plot(
            xs,
            [results["scenarios"][name][c]["p99_ms"] for c in levels],
            marker="o",
            label=name[5:],
        )
    for ax, title in zip(axes, ("requests/s", "p99 latency (ms)"), strict=True):
        ax.set_xscale("log")
        ax.set_xlabel("concurrency")
        ax.set_title(title)
        ax.legend()
    fig.suptitle(f"threadlog reads, {results['date']} ({results['mode']})")
    fig.tight_layout()
    fig.savefig(path)
    return True


def write_report(results: dict[str, Any], stem: Path) -> None:
    """Write `stem`.md and, when matplotlib is installed, `stem`.png."""
    stem.with_suffix(".md").write_text(markdown(results))
    _plot(results, stem.with_suffix(".png"))
