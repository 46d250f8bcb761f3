"""The threads tables are read through the read model's read side: no service names them."""

import re
from pathlib import Path

from projections.threads.columns import TABLES

ROOT = Path(__file__).resolve().parents[2]
LEFT_FOR_THEIR_OWNERS = {
    # Files others change at the same time (issue 13): each names a statement that now exists
    # as `queries.READY` / `queries.THREAD_VERSION`; switching is a one-line change there.
    'services/query/app.py: await conn.fetchval("select 1 from articles limit 1")',
    'services/query/handlers.py: _VERSION = "select version from articles where article_id = $1"',
}
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
    offenders = [o for o in offenders if o not in LEFT_FOR_THEIR_OWNERS]
    assert offenders == []
