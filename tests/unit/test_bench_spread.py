"""Figures measured over repeated runs (#15): tail latencies move a lot from run to run on a
shared machine, so the report gives the spread and says which run it quotes."""

from typing import Any

from bench.report import markdown
from bench.spread import quoted

_RUNS = [
    {"rate_per_s": 3000.0, "p99_ms": 40.0, "requests": 9000},
    {"rate_per_s": 2000.0, "p99_ms": 2467.0, "requests": 6000},
    {"rate_per_s": 2800.0, "p99_ms": 12.5, "requests": 8400},
]


def test_the_quoted_run_is_the_median_run_by_the_headline_figure() -> None:
    """All of a scenario's figures come from one run, the one whose headline figure is the
    median; the spread of each named figure is over every run."""
    figures = quoted(_RUNS, "rate_per_s", ["rate_per_s", "p99_ms"])
    assert figures["rate_per_s"] == 2800.0
    assert figures["p99_ms"] == 12.5
    assert figures["requests"] == 8400
    assert figures["quoted_run"] == 3
    assert figures["spread"] == {
        "rate_per_s": {"median": 2800.0, "min": 2000.0, "max": 3000.0},
        "p99_ms": {"median": 40.0, "min": 12.5, "max": 2467.0},
    }
    assert figures["runs"] == _RUNS


def test_an_even_count_quotes_the_worse_middle_run() -> None:
    """Two runs: the median is their mean, and the run quoted is the worse of the two, a real
    run and not the flattering one, whichever way the headline figure is better."""
    by_p99 = quoted(_RUNS[:2], "p99_ms", ["p99_ms"], higher_is_better=False)
    assert by_p99["quoted_run"] == 2
    assert by_p99["spread"]["p99_ms"] == {"median": 1253.5, "min": 40.0, "max": 2467.0}
    assert quoted(_RUNS[:2], "rate_per_s", ["rate_per_s"])["quoted_run"] == 2
    assert quoted(_RUNS[::2], "rate_per_s", ["rate_per_s"])["quoted_run"] == 2


def _results(scenarios: dict[str, Any]) -> dict[str, Any]:
    return {
        "date": "2026-12-01T00:00:00+00:00",
        "mode": "quick",
        "commit": "abc1234",
        "repeat": 3,
        "machine": {"cores": 2, "python": "3.11", "platform": "Linux", "note": "shared"},
        "scenarios": scenarios,
    }


def test_the_report_shows_median_min_max_and_which_run_it_quotes() -> None:
    """A repeated figure's row gives the quoted value with its run, and median (min-max)."""
    single = {"setup": "one per POST"} | quoted(_RUNS, "rate_per_s", ["rate_per_s", "p99_ms"])
    text = markdown(_results({"ingest_single": single}))
    rate = "| ingest, single events | 2,800.0 req/s (run 3 of 3) | 2,800.0 (2,000.0 to 3,000.0) |"
    assert rate in text
    assert "| ingest, single events p99 | 12.5 ms (run 3 of 3) | 40.0 (12.5 to 2,467.0) |" in text
    # Each run's raw figures stay in the JSON; the Markdown lists them once, compactly.
    assert "'runs'" not in text


def test_a_figure_measured_once_says_so() -> None:
    """Without repeats, the row has its value and no spread."""
    text = markdown(_results({"ingest_single": {"rate_per_s": 2417.1, "p99_ms": 183.9}}))
    assert "| ingest, single events | 2,417.1 req/s | one run |" in text


def test_a_figure_measured_once_beside_repeated_ones_names_no_run() -> None:
    """Isso's read ratio is measured once beside the repeated posting ratio: its row says one
    run, and only the posting ratio is listed run by run."""
    posting = [{"ratio_post_rate": 9.0}, {"ratio_post_rate": 11.0}, {"ratio_post_rate": 10.0}]
    isso = {"ratio_read_rate": 94.2} | quoted(posting, "ratio_post_rate", ["ratio_post_rate"])
    text = markdown(_results({"isso": isso}))
    assert "| Isso ratio, big thread reads | 94.2 x | one run |" in text
    assert "| Isso ratio, posting | 10.0 x (run 3 of 3) | 10.0 (9.0 to 11.0) |" in text
    assert "- Isso ratio, posting: run 1 9.0, run 2 11.0, run 3 10.0 x (quoted: run 3)" in text
