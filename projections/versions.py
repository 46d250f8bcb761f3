"""Projection versions: a worker never writes into tables built for another version of its code.

Each projection declares `version` (registry.py); `projection_versions` records the version of the
tables in a schema. A mismatch stops the worker with what to do: rebuild beside the live copy.
"""

from collections.abc import Mapping

from projections.sql_rows import Conn


class ProjectionVersionMismatch(Exception):
    """The tables were built by another version of a projection than this code's."""


def mismatches(code: Mapping[str, int], tables: Mapping[str, int], schema: str) -> list[str]:
    """What is wrong, one line per projection whose stored version differs from the code's."""
    problems = []
    for name, version in sorted(code.items()):
        stored = tables.get(name, version)
        if stored < version:
            problems.append(
                f"projection {name}: the tables in schema {schema} are version {stored}, this"
                f" code writes version {version}; run `threadlog rebuild {name}` to build version"
                f" {version} beside the live copy and switch to it, then start this worker"
            )
        elif stored > version:
            problems.append(
                f"projection {name}: the tables in schema {schema} are version {stored}, newer"
                f" than this code's {version} (a rebuild by newer code switched them); deploy"
                " the newer code"
            )
    return problems


async def stored_versions(conn: Conn, names: list[str] | None = None) -> dict[str, int]:
    """Projection name -> version of its tables, in the connection's schema."""
    rows = await conn.fetch("select projection, version from projection_versions")
    return {
        r["projection"]: r["version"] for r in rows if names is None or r["projection"] in names
    }


async def check_versions(conn: Conn, code: Mapping[str, int], schema: str) -> None:
    """Raise ProjectionVersionMismatch, saying what to run, unless the tables match the code."""
    problems = mismatches(code, await stored_versions(conn, list(code)), schema)
    if problems:
        raise ProjectionVersionMismatch("; ".join(problems))
