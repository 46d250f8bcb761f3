"""The soak's pure parts: the worker's lag read from /metrics, the plot's panels, the summary."""

import xml.etree.ElementTree as ET

from bench.soak_report import lag_records, markdown, svg, window_quantiles

EXPOSITION = """\
# HELP threadlog_events_applied_total Events applied to the read models.
threadlog_events_applied_total 120
# TYPE threadlog_lag_records gauge
threadlog_lag_records{topic="bench.soak_1",partition="0"} 3
threadlog_lag_records{topic="bench.soak_1",partition="11"} 40
threadlog_worker_start_time_seconds 1700000000.000
"""

RESULT = {
    "date": "2026-12-01T10:00:00+00:00",
    "setup": {"rate_per_s": 200, "minutes": 1, "read_rate_per_s": 50},
    "conditions": {"cores": 2, "load_average": [1.0, 1.0, 1.0]},
    "rss_mb": {
        "start": {"worker": 60.0, "ingest": 70.0, "query": 120.0, "client": 50.0},
        "end": {"worker": 65.5, "ingest": 71.0, "query": 130.0, "client": 55.0},
    },
    "windows": [
        {
            "t_s": 10.2,
            "lag_records": 4,
            "fresh_p50_ms": 20.0,
            "fresh_p99_ms": 60.0,
            "rss_mb": {"worker": 61.0, "query": 121.0},
        },
        {
            "t_s": 20.4,
            "lag_records": 0,
            "fresh_p50_ms": 22.0,
            "fresh_p99_ms": 70.0,
            "rss_mb": {"worker": 62.0, "query": 125.0},
        },
        {
            "t_s": 30.4,
            "lag_records": 0,
            "failed": "HTTPStatusError('503')",
            "rss_mb": {"worker": 62.0, "query": 125.0},
        },
    ],
    "summary": {"posts": 4000, "achieved_rate_per_s": 196.1},
}


def test_lag_is_the_sum_over_partitions() -> None:
    """The worker's lag is every partition's `threadlog_lag_records` added up; other series
    (the applied counter) do not count."""
    assert lag_records(EXPOSITION) == 43


def test_no_lag_series_is_no_lag_figure() -> None:
    """A worker that reads no partition yet has no lag series: None, not 0."""
    assert lag_records("threadlog_events_applied_total 0\n") is None


def test_window_quantiles() -> None:
    """p50 and p99 of a window's samples; a window with too few samples has none."""
    assert window_quantiles([float(n) for n in range(1, 101)]) == (50.5, 99.99)
    assert window_quantiles([3.0]) == (None, None)


def test_plot_holds_lag_freshness_and_each_process_rss() -> None:
    """The SVG has a lag line, the freshness p50 and p99 lines, and one RSS line per process."""
    root = ET.fromstring(svg(RESULT))
    lines = root.findall(".//{http://www.w3.org/2000/svg}polyline")
    assert len(lines) == 1 + 2 + 2
    texts = {t.text for t in root.iter("{http://www.w3.org/2000/svg}text")}
    assert {"freshness p50", "freshness p99", "worker", "query"} <= texts


def test_markdown_has_rss_at_start_and_end_of_every_process() -> None:
    """The summary's table gives each process's resident memory at start and end."""
    text = markdown(RESULT)
    assert "| worker | 60.0 | 65.5 |" in text
    assert "| client | 50.0 | 55.0 |" in text
    assert "200 posts/s" in text


def test_a_failed_window_says_why_and_draws_no_freshness() -> None:
    """A window whose posts were refused is a row saying why, with no freshness figures, and
    the plot leaves it out of the freshness lines."""
    assert "| 30.4 |  |  |  |  | 0 |  |  | HTTPStatusError('503') |" in markdown(RESULT)
    root = ET.fromstring(svg(RESULT))
    p99 = root.findall(".//{http://www.w3.org/2000/svg}polyline")[2]
    assert len(p99.attrib["points"].split()) == 2
