"""The installation's secrets (threadlog/installation_secret.sql): made once, kept in PostgreSQL.

Every machine of one installation shares the database, so every `threadlog import` of it
derives the same author ids, whichever machine runs it.
"""

import secrets
from importlib.resources import files
from typing import Final

from projections.sql_rows import Conn

IMPORT_AUTHORS: Final = "import_authors"
"""The secret keying imported authors' ids (importers/ids.py)."""


async def migrate(conn: Conn, schema: str) -> None:
    """Create the secrets table in `schema` if missing; safe to run from several processes."""
    async with conn.transaction():
        await conn.execute("select pg_advisory_xact_lock(hashtext('threadlog.migrate'))")
        await conn.execute(f'create schema if not exists "{schema}"')
        await conn.execute(f'set local search_path to "{schema}"')
        await conn.execute(files("threadlog").joinpath("installation_secret.sql").read_text())


async def secret(conn: Conn, schema: str, name: str = IMPORT_AUTHORS) -> bytes:
    """The secret called `name`, made now (32 random bytes) if this is its first use. Two
    processes making it at once agree: the first insert wins and both read it back."""
    table = f'"{schema}".installation_secrets'
    await conn.execute(
        f"insert into {table} (name, secret) values ($1, $2) on conflict (name) do nothing",
        name,
        secrets.token_bytes(32),
    )
    value: bytes = await conn.fetchval(f"select secret from {table} where name = $1", name)
    return value
