"""Comment statuses and what a public read shows are named once, in the threads read model."""

import re
from importlib.resources import files
from pathlib import Path

from projections.threads import sql
from projections.threads.statuses import DELETED, PENDING, REJECTED, SHOWN, VISIBLE

ROOT = Path(__file__).resolve().parents[2]
STATUSES = (VISIBLE, PENDING, REJECTED, DELETED)
_SQL_STATUS = re.compile(r"'(" + "|".join(STATUSES) + r")'")
_COMPARED = re.compile(r"""\[["']status["']\]\s*[!=]=\s*["']""")


def _schema() -> str:
    return files("projections.threads").joinpath("schema.sql").read_text()


def test_no_status_literal_outside_the_read_model() -> None:
    """A comment status written as an SQL literal, or compared by hand, outside
    projections/threads/ would drift from the rules: every other module uses the constants."""
    offenders = [
        f"{path.relative_to(ROOT)}:{n}"
        for package in ("services", "projections", "eventlog")
        for path in sorted((ROOT / package).rglob("*.py"))
        if "threads" not in path.relative_to(ROOT).parts
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if _SQL_STATUS.search(line) or _COMPARED.search(line)
    ]
    assert offenders == []


def test_the_sql_fragments_come_from_the_constants() -> None:
    """What a public read shows in SQL is SHOWN, and the queue's statuses are the rules' own."""
    assert "status in (" + ", ".join(f"'{s}'" for s in SHOWN) + ")" == sql.SHOWN_SQL
    assert f"status = '{VISIBLE}'" == sql.VISIBLE_SQL
    assert f"status = '{PENDING}'" == sql.PENDING_SQL
    assert sql.status_is(*SHOWN, column="c.status") == "c." + sql.SHOWN_SQL


def test_the_ddl_agrees_with_the_constants() -> None:
    """schema.sql's defaults and the moderation queue's partial index name the same statuses
    as the rules and the queue's query (else the planner could no longer use the index)."""
    ddl = _schema()
    assert f"status text not null default '{VISIBLE}'" in ddl
    assert f"own_status text not null default '{VISIBLE}'" in ddl
    assert f"where {sql.TO_MODERATE_SQL};" in ddl
    assert set(_SQL_STATUS.findall(ddl)) <= set(STATUSES)
