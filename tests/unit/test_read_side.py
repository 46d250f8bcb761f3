"""The threads tables are read through the read model's read side: no service names them."""

import re
from pathlib import Path

from projections.threads.columns import TABLES

ROOT = Path(__file__).resolve().parents[2]
_NAMES_A_TABLE = re.compile(
    r"\b(from|join|update|into)\s+(" + "|".join(t.name for t in TABLES) + r")\b", re.I
)


def test_no_service_names_a_threads_table_in_sql() -> None:
    """SQL over the threads tables lives in projections/threads/ (queries.py), next to the
    model that writes them; a service that named a table or a column would break silently when
    the model changes."""
    offenders = [
        f"{path.relative_to(ROOT)}: {line.strip()}"
        for path in sorted((ROOT / "services").rglob("*.py"))
        for line in path.read_text().splitlines()
        if _NAMES_A_TABLE.search(line)
    ]
    assert offenders == []
