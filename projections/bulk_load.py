"""A rebuild's copy loaded in bulk, then finished in one go before the switch.

Nobody reads the copy until the switch, so while it loads it need not pay, row by row, for what
only readers use:
- the indexes only readers use (schema.sql, below READER_INDEXES) are dropped when the copy is
  created, and built after the load, each by one sort instead of an insert per row;
- its worker takes LOAD_BATCH records per transaction and commits without waiting for the WAL
  flush (`synchronous_commit = off`): a crash loses a few last batches whole, their offsets with
  them, and they are read again;
- every table is ANALYZEd before the switch: fresh tables have no statistics, and the first
  reads after the switch would be planned blind.

Not done: loading UNLOGGED tables and making them LOGGED before the switch. Measured on 200,000
posts, `set logged` took 1.7-2.0 s (a rewrite of every table) and the load without WAL saved no
more than that; and a crash of PostgreSQL would empty the copy.

Each step is idempotent: a rebuild killed during any of them and run again resumes the load and
finishes whatever is still missing (a CREATE INDEX killed midway leaves no index at all).
"""

import re
import time
from dataclasses import dataclass
from importlib.resources import files
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import msgspec
import structlog

from projections.registry import BOOKKEEPING, TABLES
from projections.sql_rows import Conn
from projections.worker import WorkerSettings

log = structlog.get_logger("threadlog.rebuild")

READER_INDEXES = "-- readers' indexes "
"""The line of schema.sql after which come only the indexes a rebuild builds after its load."""

LOAD_BATCH = 20_000
"""Records per transaction while a rebuild loads: fewer commits and round trips, and a comment
and its replies more often written once per batch rather than once per batch each."""

MAINTENANCE_WORK_MEM = "512MB"
"""Sort memory for building an index: a million comments' keys sort in memory, in one pass."""

_STATEMENT = re.compile(r"(create index if not exists|drop index if exists) (\w+)\b.*", re.DOTALL)


@dataclass(frozen=True)
class Finished:
    """What finishing a loaded copy cost, in seconds: its readers' indexes, then ANALYZE."""

    indexes_s: float
    analyze_s: float


def index_statements(ddl: str) -> list[tuple[str, str]]:
    """(index name, statement) for each statement after the READER_INDEXES line of `ddl`.

    Raises ValueError when the line is missing or anything but index statements follows it: a
    table created there would be missing from a rebuild's copy until its switch.
    """
    _, marker, section = ddl.partition(READER_INDEXES)
    if not marker:
        raise ValueError(f"schema.sql has no line {READER_INDEXES!r}")
    code = "\n".join(
        line for line in section.splitlines()[1:] if not line.lstrip().startswith("--")
    )
    statements = []
    for statement in (s.strip() for s in code.split(";")):
        if not statement:
            continue
        match = _STATEMENT.fullmatch(statement)
        if match is None:
            raise ValueError(
                f"schema.sql: only index statements may follow {READER_INDEXES!r},"
                f" found: {statement[:80]!r}"
            )
        statements.append((match[2], statement))
    return statements


def reader_index_statements(name: str) -> list[tuple[str, str]]:
    """The readers' index statements of projection `name`'s schema.sql, in order."""
    return index_statements(files(f"projections.{name}").joinpath("schema.sql").read_text())


def loader_settings(settings: WorkerSettings, copy: str, name: str, batch: int) -> WorkerSettings:
    """The settings of the worker that loads `copy`: standalone, `batch` records per transaction,
    and commits that do not wait for the WAL flush (asyncpg passes a DSN's unknown parameters
    to the server as settings of each connection)."""
    url = urlsplit(settings.database_url)
    query = urlencode([*parse_qsl(url.query), ("synchronous_commit", "off")])
    return msgspec.structs.replace(
        settings,
        pg_schema=copy,
        projections=(name,),
        standalone=True,
        max_batch=batch,
        database_url=urlunsplit(url._replace(query=query)),
    )


async def strip_for_load(conn: Conn, copy: str, name: str) -> None:
    """Make a new, empty copy cheap to load: drop its readers' indexes."""
    async with conn.transaction():
        for index, statement in reader_index_statements(name):
            if statement.startswith("create"):
                await conn.execute(f'drop index if exists "{copy}".{index}')


async def finish(conn: Conn, copy: str, name: str) -> Finished:
    """Make a loaded copy what `migrate` creates: with every index, and analyzed."""
    started = time.monotonic()
    for index, statement in reader_index_statements(name):
        # One transaction each: a kill keeps the indexes already built.
        async with conn.transaction():
            await conn.execute(f'set local search_path to "{copy}"')
            await conn.execute(f"set local maintenance_work_mem = '{MAINTENANCE_WORK_MEM}'")
            await conn.execute(statement)
        log.info("index built", copy=copy, index=index)
    indexed = time.monotonic()
    for table in (*TABLES[name], *BOOKKEEPING):
        await conn.execute(f'analyze "{copy}".{table}')
    done = time.monotonic()
    return Finished(indexed - started, done - indexed)
