"""Marks every test by the directory it sits in, so `-m` selects what it says.

`pytestmark` in a conftest file marks nothing (pytest reads it from test modules only), so the
directories' marks are applied here, at collection: `pytest -m "not integration"` runs what
needs no server, `pytest -m integration` what needs the real Kafka and PostgreSQL.
"""

from pathlib import Path

import pytest

_HERE = Path(__file__).parent
_MARKS = {
    "unit": ("unit",),
    "integration": ("integration",),
    "browser": ("browser", "integration"),
    # Only some fuzz modules need the servers; they mark themselves `integration`.
    "fuzz": ("fuzz",),
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Add each item's directory marks (tests/<directory>/...)."""
    for item in items:
        parts = item.path.relative_to(_HERE).parts
        for mark in _MARKS.get(parts[0], ()) if len(parts) > 1 else ():
            item.add_marker(mark)
