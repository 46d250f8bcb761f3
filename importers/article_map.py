"""`--map FILE`: which article id an old URL or source key becomes, for sites whose URLs changed.

A CSV of two columns, `old URL or source key,article id`; blank lines and lines starting with
`#` are left out. Read whole: a map has a line per article, not per comment.
"""

import csv
from pathlib import Path

from importers.ids import is_id


class BadMap(Exception):
    """The map file cannot be used; the message names the line and what is wrong."""


def read_map(path: Path) -> dict[str, str]:
    """Old URL or source key -> article id; BadMap naming the first bad line."""
    mapping: dict[str, str] = {}
    try:
        with path.open(newline="", encoding="utf-8") as file:
            rows = csv.reader(file)
            for row in rows:
                line = _entry(row, mapping, f"{path}: line {rows.line_num}")
                if line is not None:
                    old, article_id = line
                    mapping[old] = article_id
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise BadMap(f"{path}: cannot read it as a UTF-8 CSV: {error}") from error
    return mapping


def _entry(row: list[str], mapping: dict[str, str], line: str) -> tuple[str, str] | None:
    """One row's (old, article id), None for a blank or comment row; BadMap for a bad one."""
    if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
        return None
    where = f"{line} ({','.join(row)[:80]!r})"
    if len(row) != 2:
        raise BadMap(f"{where}: expected two columns, old URL or source key, then article id")
    old, article_id = row[0].strip(), row[1].strip()
    if not old:
        raise BadMap(f"{where}: the first column (old URL or source key) is empty")
    if not is_id(article_id):
        raise BadMap(f"{where}: {article_id!r} is not an article id (1-128 of A-Z a-z 0-9 . _ : -)")
    if mapping.get(old, article_id) != article_id:
        raise BadMap(f"{where}: {old!r} is mapped twice, to {mapping[old]!r} and {article_id!r}")
    return old, article_id
