"""Set-based writes: one COPY and one statement per table and batch, never one per event."""

from collections.abc import Iterable, Sequence
from typing import Any, TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

Conn: TypeAlias = "asyncpg.Connection[Any] | PoolConnectionProxy[Any]"
"""A connection, pooled or not: the shells take either."""

Columns = dict[str, str]
"""Column name to its PostgreSQL type, in the order of the row tuples."""


def unnest_arrays(rows: Iterable[Sequence[Any]], width: int) -> list[list[Any]]:
    """Rows as `width` columns, each a list: the arrays an `unnest($1, $2, ...)` takes."""
    columns = [list(column) for column in zip(*rows, strict=True)]
    return columns or [[] for _ in range(width)]


async def insert_rows(
    conn: Conn,
    table: str,
    columns: Columns,
    rows: Sequence[Sequence[Any]],
    on_conflict: str = "on conflict do nothing",
) -> None:
    """Insert `rows` (tuples in the order of `columns`): a binary COPY into a temporary table
    shaped like `table`, then one `INSERT ... SELECT` with `on_conflict`.

    COPY carries every type as it is, text[] included, with no per-row conversion; the stage is
    the session's own (`LIKE table`, emptied after use and at commit).
    """
    if not rows:
        return
    names = ", ".join(columns)
    stage = f"_stage_{table}"
    await conn.execute(
        f"create temp table if not exists {stage} (like {table} including defaults)"
        " on commit delete rows"
    )
    await conn.copy_records_to_table(stage, records=rows, columns=list(columns))
    await conn.execute(
        f"insert into {table} ({names}) select {names} from {stage} {on_conflict}; truncate {stage}"
    )
