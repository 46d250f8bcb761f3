"""The physical limit in the same run: how fast PostgreSQL COPYs the catch-up's rows, and how fast
the codec decodes its records, on this machine now.

    python -m bench.limits [--events 1000000] [--repeats 2]

The workload is the catch-up's (bench/catchup.py: `mixed_events` over 1,000 articles). Its rows
are the threads model the fold builds from it (projections/threads/fold.py), in each table's
written column order (projections/threads/columns.py), plus one applied-id row per distinct
event: the least the worker has to store. Each is timed as one binary COPY per table (asyncpg
`copy_records_to_table`) into a fresh schema made by schema.sql, once with every index and once
with the primary keys only. The records are the events as ingest writes them (`encode_record`,
with ingest's `recordedtime`), timed through `decode_record`, as the worker reads them.
Catch-up and rebuild can then be stated as a fraction of these limits. Asserts nothing.
"""

import argparse
import asyncio
import json
import sys
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg
import msgspec

from bench import children
from bench.catchup import ARTICLES as CATCHUP_ARTICLES
from bench.conditions import OWN_PORTS, conditions
from bench.stack import bench_settings
from bench.workload import mixed_events
from events import Envelope, decode_record, encode_record
from projections.store import migrate
from projections.threads.columns import TABLES
from projections.threads.fold import ReadModels
from threadlog.settings import Settings

APPLIED_EVENTS = "applied_events"
PROJECTION = "threads"

ModelRows = dict[str, tuple[list[str], list[tuple[object, ...]]]]
"""Table name to its columns and its rows, in the order the worker writes the tables."""


def workload(events: int) -> list[Envelope]:
    """The catch-up's backlog: `events` mixed comment events after its 1,000 articles."""
    return mixed_events(events + CATCHUP_ARTICLES, articles=CATCHUP_ARTICLES)


def model_rows(events: Sequence[Envelope]) -> ModelRows:
    """Every row the threads model holds once `events` are applied, each table's columns in the
    order the worker writes them, and the applied-id rows: one per distinct event id."""
    models = ReadModels()
    models.fold(events)
    snapshot = models.snapshot()
    rows: ModelRows = {}
    for table in TABLES:
        # A snapshot leaves out the bookkeeping columns (the articles' cache `version`): 0 here.
        rows[table.name] = (
            list(table.written),
            [
                tuple(dict(zip(table.snapshot, row, strict=True)).get(c, 0) for c in table.written)
                for row in snapshot[table.name]
            ],
        )
    rows[APPLIED_EVENTS] = (
        ["projection", "event_id"],
        [(PROJECTION, event_id) for event_id in dict.fromkeys(e.id for e in events)],
    )
    return rows


def copy_figures(events: int, timings: Mapping[str, tuple[int, float]]) -> dict[str, Any]:
    """Rows/s per table from (rows, seconds), and the events/s if COPYing each event's rows were
    all the worker did."""
    seconds = sum(s for _, s in timings.values())
    rows = sum(n for n, _ in timings.values())
    return {
        "tables": {
            name: {"rows": n, "seconds": round(s, 3), "rows_per_s": round(n / s)}
            for name, (n, s) in timings.items()
        },
        "seconds": round(seconds, 3),
        "rows_per_event": round(rows / events, 2),
        "events_per_s_if_only_copied": round(events / seconds),
    }


def fraction_of_limits(events_per_s: float, limits: Mapping[str, Any]) -> dict[str, float]:
    """A measured rate (catch-up, rebuild) as a fraction of each limit `run` found: what the
    suite reports beside it (the issue aims at 0.3 or more)."""
    return {
        "of_copy_indexed": round(
            events_per_s / limits["copy_indexed"]["events_per_s_if_only_copied"], 3
        ),
        "of_copy_primary_keys_only": round(
            events_per_s / limits["copy_primary_keys_only"]["events_per_s_if_only_copied"], 3
        ),
        "of_decode": round(events_per_s / limits["decode"]["records_per_s"], 3),
    }


async def _drop_secondary_indexes(conn: "asyncpg.Connection[Any]", schema: str) -> None:
    names = await conn.fetch(
        "select format('%I.%I', n.nspname, c.relname) from pg_index i"
        " join pg_class c on c.oid = i.indexrelid join pg_namespace n on n.oid = c.relnamespace"
        " where n.nspname = $1 and not i.indisprimary",
        schema,
    )
    for (name,) in names:
        await conn.execute(f"drop index {name}")


async def _time_copy(
    settings: Settings, rows: ModelRows, events: int, indexes: bool
) -> dict[str, Any]:
    """One COPY per table into a fresh schema, each its own transaction, as a batch commits."""
    schema = f"bench_limits_{uuid.uuid4().hex[:6]}"
    conn = await asyncpg.connect(settings.database_url)
    try:
        await migrate(conn, schema)
        if not indexes:
            await _drop_secondary_indexes(conn, schema)
        timings: dict[str, tuple[int, float]] = {}
        for name, (columns, table_rows) in rows.items():
            if not table_rows:
                continue
            started = time.perf_counter()
            await conn.copy_records_to_table(
                name, records=table_rows, columns=columns, schema_name=schema
            )
            timings[name] = (len(table_rows), time.perf_counter() - started)
    finally:
        await conn.execute(f'drop schema if exists "{schema}" cascade')
        await conn.close()
    return copy_figures(events, timings)


def records(events: Sequence[Envelope]) -> list[tuple[list[tuple[str, bytes]], bytes]]:
    """The records ingest writes for `events`: headers and value, `recordedtime` set as ingest
    sets it (here the event's own time, so the run is reproducible)."""
    out = []
    for event in events:
        _, value, headers = encode_record(msgspec.structs.replace(event, recordedtime=event.time))
        out.append((headers, value))
    return out


def _time_decode(encoded: Sequence[tuple[list[tuple[str, bytes]], bytes]]) -> float:
    started = time.perf_counter()
    for headers, value in encoded:
        decode_record(headers, value)
    return time.perf_counter() - started


async def run(events: int = 1_000_000, repeats: int = 2) -> dict[str, Any]:
    """Both limits for the catch-up workload of `events` comment events, each timed `repeats`
    times; the best run is quoted, every run's rate listed beside it."""
    settings = bench_settings("limits", **OWN_PORTS)
    log = workload(events)
    rows = model_rows(log)
    before = await conditions(settings)
    copies: dict[str, list[dict[str, Any]]] = {"indexed": [], "primary_keys_only": []}
    for _ in range(repeats):
        for kind, runs in copies.items():
            runs.append(await _time_copy(settings, rows, len(log), indexes=kind == "indexed"))
    encoded = records(log)
    decodes = [_time_decode(encoded) for _ in range(repeats)]
    result: dict[str, Any] = {
        "setup": f"the catch-up's workload: {len(log):,} events ({CATCHUP_ARTICLES:,} articles,"
        " mixed comment events, 1% retries); rows = the threads model folded from it plus one"
        " applied id per distinct event; one binary COPY per table into fresh tables of"
        " schema.sql; decode = decode_record over the records as ingest encodes them",
        "events": len(log),
    }
    for kind, runs in copies.items():
        best = max(runs, key=lambda r: r["events_per_s_if_only_copied"])
        result[f"copy_{kind}"] = best | {
            "runs_events_per_s": [r["events_per_s_if_only_copied"] for r in runs]
        }
    result["decode"] = {
        "records": len(encoded),
        "seconds": round(min(decodes), 3),
        "records_per_s": round(len(encoded) / min(decodes)),
        "runs_records_per_s": [round(len(encoded) / s) for s in decodes],
    }
    result["conditions"] = before | {
        "load_average_after": (await conditions(settings))["load_average"]
    }
    return result


def main() -> None:
    """Parse the arguments, run, print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000, help="comment events")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    try:
        print(json.dumps(children.run(run(args.events, args.repeats)), indent=2))
    except asyncio.CancelledError:
        sys.exit("limits stopped by SIGTERM; its schemas are dropped")


if __name__ == "__main__":
    main()
