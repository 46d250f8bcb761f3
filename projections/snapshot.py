"""A read model as comparable data: table name to its rows, sorted, timestamps in UTC.

The in-memory fold and the Postgres tables are both taken to this shape, so tests, `verify` and
`digest` compare them whatever the read model.
"""

from collections.abc import Iterable
from datetime import UTC, datetime

Snapshot = dict[str, list[tuple[object, ...]]]
"""Table name to its rows, as tuples in a fixed column order, sorted."""


def _normal(value: object) -> object:
    # Postgres hands timestamps back in UTC; events may carry any offset for the same instant.
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return tuple(value) if isinstance(value, list) else value


def normalized(rows: Iterable[tuple[object, ...]]) -> list[tuple[object, ...]]:
    """Rows with timestamps in UTC, in a total order that tolerates NULLs."""
    normal = [tuple(_normal(v) for v in row) for row in rows]
    return sorted(normal, key=lambda row: tuple((v is None, str(v)) for v in row))
