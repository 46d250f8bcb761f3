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
]


def _get(results: dict[str, Any], path: list[str]) -> float | None:
    node: Any = results["scenarios"]
    for step in path:
        if not isinstance(node, dict) or step not in node:
            return None
        node = node[step]
    return float(node)


def markdown(results: dict[str, Any]) -> str:
    """The summary: conditions, then each figure against its target."""
    m = results["machine"]
    lines = [
        f"# threadlog benchmark, {results['date']} ({results['mode']}), commit {results['commit']}",
        "",
        f"{m['cores']} cores, Python {m['python']}, {m['platform']}. {m['note']}.",
        "",
        "| figure | measured | target | met |",
        "|---|---|---|---|",
    ]
    for label, path, unit, target, higher in TARGETS:
        value = _get(results, path)
        if value is None:
            lines.append(f"| {label} | not measured | {target:,g} {unit} | |")
            continue
        met = value >= target if higher else value <= target
        lines.append(
            f"| {label} | {value:,.1f} {unit} | {'>=' if higher else '<='} {target:,g} {unit} | {'yes' if met else 'no'} |"
        )
    lines += ["", "## Scenarios", ""]
    for name, figures in results["scenarios"].items():
        lines.append(f"- **{name}**: {figures}")
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
