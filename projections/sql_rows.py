"""Set-based writes of row Structs: one statement per table and batch, never one per event."""

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any, TypeAlias, get_args

import asyncpg
import msgspec
from asyncpg.pool import PoolConnectionProxy

Conn: TypeAlias = "asyncpg.Connection[Any] | PoolConnectionProxy[Any]"
"""A connection, pooled or not: the shells take either."""


def _pg_type(annotation: Any) -> str:
    kinds = set(get_args(annotation)) or {annotation}
    if datetime in kinds:
        return "timestamptz"
    if int in kinds:
        return "bigint"
    return "text"


@cache
def _insert_head(row_type: type[msgspec.Struct], table: str) -> tuple[tuple[str, ...], str]:
    fields = msgspec.structs.fields(row_type)
    names = tuple(f.name for f in fields)
    arrays = ", ".join(f"${i}::{_pg_type(f.type)}[]" for i, f in enumerate(fields, start=1))
    head = f"insert into {table} ({', '.join(names)}) select * from unnest({arrays})"
    return names, head


async def insert_rows(
    conn: Conn,
    table: str,
    rows: Sequence[msgspec.Struct],
    on_conflict: str = "on conflict do nothing",
) -> None:
    """Insert `rows` (all of one Struct type, whose fields are the columns) with one statement."""
    if not rows:
        return
    names, head = _insert_head(type(rows[0]), table)
    columns = [[getattr(row, name) for row in rows] for name in names]
    await conn.execute(f"{head} {on_conflict}", *columns)
