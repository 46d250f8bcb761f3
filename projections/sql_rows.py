"""Set-based writes: one statement per table and batch, never one per event."""

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


def _wire_type(kind: str) -> str:
    # unnest() flattens arrays of arrays, so a text[] column travels as JSON text per row.
    return "text" if kind == "text[]" else kind


def _select(name: str, kind: str) -> str:
    if kind == "text[]":
        return f"array(select jsonb_array_elements_text(r.{name}::jsonb))"
    return f"r.{name}"


async def insert_rows(
    conn: Conn,
    table: str,
    columns: Columns,
    rows: Sequence[Sequence[Any]],
    on_conflict: str = "on conflict do nothing",
) -> None:
    """Insert `rows` (tuples in the order of `columns`) with one `INSERT ... SELECT unnest`.

    Values of text[] columns are given as JSON arrays (str).
    """
    if not rows:
        return
    names = ", ".join(columns)
    arrays = ", ".join(
        f"${i}::{_wire_type(kind)}[]" for i, kind in enumerate(columns.values(), start=1)
    )
    select = ", ".join(_select(name, kind) for name, kind in columns.items())
    sql = (
        f"insert into {table} ({names}) select {select}"
        f" from unnest({arrays}) as r({names}) {on_conflict}"
    )
    await conn.execute(sql, *unnest_arrays(rows, len(columns)))
