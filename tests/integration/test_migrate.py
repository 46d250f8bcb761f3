"""Starting a process on tables already current takes no lock a running batch holds."""

from __future__ import annotations

from typing import Any

import asyncpg

from projections.store import migrate
from threadlog.settings import Settings


async def test_a_migration_of_current_tables_runs_beside_an_open_batch(
    settings: Settings, db: asyncpg.Connection[Any]
) -> None:
    """A batch holds row locks on articles and comments (as a worker's transaction does); a
    second process starting now must not queue behind it for an ALTER TABLE, nor deadlock: with
    the schema current, migrate runs no DDL. A dropped table makes it run the DDL again."""
    await migrate(db, settings.pg_schema)
    batch = await asyncpg.connect(
        settings.database_url, server_settings={"search_path": settings.pg_schema}
    )
    starting = await asyncpg.connect(
        settings.database_url,
        server_settings={"search_path": settings.pg_schema, "lock_timeout": "1000"},
    )
    try:
        open_batch = batch.transaction()
        await open_batch.start()
        await batch.execute(
            "insert into articles (article_id, title, published_at) values ('a', 't', now())"
        )
        await batch.execute(
            "insert into comments (article_id, comment_id, author_id, body, posted_at, event_id)"
            " values ('a', 'c', 'ann', 'hi', now(), 'e1')"
        )
        await migrate(starting, settings.pg_schema)  # a lock wait would raise after 1 s
        await open_batch.rollback()

        await db.execute("drop table votes")
        await migrate(starting, settings.pg_schema)
        assert await db.fetchval("select to_regclass('votes') is not null")
    finally:
        await batch.close()
        await starting.close()
