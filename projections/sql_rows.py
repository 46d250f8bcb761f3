"""Set-based writes: one COPY per table and batch and one merge for them all, never one statement
per event."""

from collections.abc import Iterable, Mapping, Sequence
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


class Staged:
    """Rows for several tables, written in three steps whatever their number: one statement
    creating the staging tables the session lacks, one binary COPY per table, and one statement
    merging every table's stage into it (`INSERT ... SELECT ... on conflict`) and emptying it.

    COPY carries every type as it is, text[] included, with no per-row conversion; the stages
    are the session's own (`LIKE table`, emptied after use and at commit). A worker's batch
    touching three tables took nine round trips to PostgreSQL this way before; now five.
    """

    def __init__(self) -> None:
        self._tables: list[tuple[str, Columns, Sequence[Sequence[Any]], str, dict[str, str]]] = []
        self._new: list[tuple[str, Columns, Sequence[Sequence[Any]]]] = []

    def add(
        self,
        table: str,
        columns: Columns,
        rows: Sequence[Sequence[Any]],
        on_conflict: str = "on conflict do nothing",
        computed: Mapping[str, str] | None = None,
    ) -> None:
        """Write `rows` (tuples in the order of `columns`) to `table`, merged with `on_conflict`;
        tables merge in the order added, and one table is added at most once. `computed` gives
        SQL that the merge writes instead of a column's staged value (`txid_current()`)."""
        if rows:
            assert all(t != table for t, *_ in self._tables), f"{table} staged twice"
            self._tables.append((table, columns, rows, on_conflict, dict(computed or {})))

    def add_new(self, table: str, columns: Columns, rows: Sequence[Sequence[Any]]) -> None:
        """Write `rows` to `table` by a COPY straight into it: rows the caller knows are not
        there (a unique violation is then a bug, not data). No stage, no merge, no conflict
        check per row: half the cost of a merged row for new comments (#15)."""
        if rows:
            self._new.append((table, columns, rows))

    async def write(self, conn: Conn) -> None:
        """Write every table's rows, in the caller's transaction."""
        for table, columns, rows in self._new:
            await conn.copy_records_to_table(table, records=rows, columns=list(columns))
        if not self._tables:
            return
        await conn.execute(
            "".join(
                f"create temp table if not exists _stage_{table} (like {table}"
                " including defaults) on commit delete rows;"
                for table, *_ in self._tables
            )
        )
        for table, columns, rows, *_ in self._tables:
            await conn.copy_records_to_table(f"_stage_{table}", records=rows, columns=list(columns))
        merges = []
        for table, columns, _, on_conflict, computed in self._tables:
            names = ", ".join(columns)
            values = ", ".join(computed.get(c, c) for c in columns)
            merges.append(
                f"insert into {table} ({names}) select {values} from _stage_{table} {on_conflict};"
                f" truncate _stage_{table};"
            )
        await conn.execute("".join(merges))
