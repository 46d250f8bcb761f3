"""The physical-limit benchmark COPYs exactly the rows the worker would store."""

from typing import Any

import asyncpg

from bench.limits import APPLIED_EVENTS, model_rows
from bench.workload import mixed_events
from projections.store import snapshot
from projections.threads.fold import ReadModels
from threadlog.settings import Settings


async def test_copied_rows_read_back_as_the_folded_model(
    settings: Settings, db: "asyncpg.Connection[Any]"
) -> None:
    """The rows, COPYed into the real tables, read back as the fold of the same events, and the
    applied ids as the distinct event ids: the limit is timed on the model's own rows."""
    events = mixed_events(3000, articles=20, moderation=True)
    for table, (columns, rows) in model_rows(events).items():
        await db.copy_records_to_table(
            table, records=rows, columns=columns, schema_name=settings.pg_schema
        )
    models = ReadModels()
    models.fold(events)
    assert await snapshot(db) == models.snapshot()
    applied = await db.fetch(f"select event_id from {APPLIED_EVENTS}")
    assert sorted(r[0] for r in applied) == sorted({e.id for e in events})
