"""The rows the physical-limit benchmark COPYs, and the figures it derives from its timings."""

from bench.limits import APPLIED_EVENTS, copy_figures, fraction_of_limits, model_rows
from bench.workload import mixed_events
from projections.threads.columns import ARTICLES, TABLES
from projections.threads.fold import ReadModels


def test_rows_are_the_folded_model_in_written_column_order() -> None:
    """Each table's rows hold every written column, in order, with the fold's values; the
    articles' bookkeeping `version` (not in a snapshot) is filled."""
    events = mixed_events(3000, articles=20, moderation=True)
    models = ReadModels()
    models.fold(events)
    snapshot = models.snapshot()
    rows = model_rows(events)
    for table in TABLES:
        columns, table_rows = rows[table.name]
        assert columns == list(table.written)
        assert all(len(row) == len(columns) for row in table_rows)
        positions = [columns.index(c) for c in table.snapshot]
        assert sorted(tuple(r[i] for i in positions) for r in table_rows) == sorted(
            snapshot[table.name]
        )
    version = list(ARTICLES.written).index("version")
    assert {row[version] for row in rows[ARTICLES.name][1]} == {0}


def test_one_applied_id_per_distinct_event() -> None:
    """A producer's retry (the same id twice in the log) is one applied-id row, as the worker
    writes it."""
    events = mixed_events(2000, articles=10)
    ids = {e.id for e in events}
    assert len(ids) < len(events)  # the workload holds retries, or the test proves nothing
    columns, rows = model_rows(events)[APPLIED_EVENTS]
    assert columns == ["projection", "event_id"]
    assert sorted(str(r[1]) for r in rows) == sorted(ids)
    assert {r[0] for r in rows} == {"threads"}


def test_copy_figures_rates_per_table_and_per_event() -> None:
    """Rows/s per table, and the events/s if every event's rows only had to be COPYed (the
    whole run's seconds over all tables)."""
    figures = copy_figures(1000, {"comments": (2000, 0.5), "event_outcomes": (1000, 0.5)})
    assert figures["tables"]["comments"] == {"rows": 2000, "seconds": 0.5, "rows_per_s": 4000}
    assert figures["seconds"] == 1.0
    assert figures["rows_per_event"] == 3.0
    assert figures["events_per_s_if_only_copied"] == 1000


def test_a_rate_as_a_fraction_of_each_limit() -> None:
    """Catch-up's events/s against the COPY limits (indexed, primary keys only) and the decode
    limit: the fractions the issue asks to report (aim: >= 0.3)."""
    limits = {
        "copy_indexed": {"events_per_s_if_only_copied": 20_000},
        "copy_primary_keys_only": {"events_per_s_if_only_copied": 40_000},
        "decode": {"records_per_s": 80_000},
    }
    assert fraction_of_limits(10_000, limits) == {
        "of_copy_indexed": 0.5,
        "of_copy_primary_keys_only": 0.25,
        "of_decode": 0.125,
    }
