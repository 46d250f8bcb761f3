"""The api_keys table: create it, add, list and revoke keys, read the keys in force."""

from datetime import datetime
from typing import Any, Final, TypeAlias

import asyncpg
import msgspec
from asyncpg.pool import PoolConnectionProxy

from services.auth.api_keys import ApiKey, key_hash, new_key
from services.auth.scopes import SCOPES

Conn: TypeAlias = "asyncpg.Connection[Any] | PoolConnectionProxy[Any]"

NAME_PATTERN: Final = "^[A-Za-z0-9._-]{1,64}$"

_scope_list = ", ".join(f"'{s}'" for s in SCOPES)
_scope_patterns = ", ".join(f"'%''{s}''%'" for s in SCOPES)

_DDL: Final = f"""
create table if not exists api_keys (
    key_hash   text primary key,
    name       text not null check (name ~ '{NAME_PATTERN}'),
    scopes     text[] not null
               check (cardinality(scopes) > 0
                      and scopes <@ array[{_scope_list}]::text[]),
    created_at timestamptz not null default now(),
    revoked_at timestamptz
);
-- A table made before a scope existed keeps the check it was made with: make it name every
-- scope of this code (once; a key's scopes are only ever added to, so no row breaks it).
do $$ begin
    if not exists (
        select 1 from pg_constraint
        where conrelid = 'api_keys'::regclass and conname = 'api_keys_scopes_check'
            and pg_get_constraintdef(oid) like all (array[{_scope_patterns}])
    ) then
        alter table api_keys drop constraint if exists api_keys_scopes_check;
        alter table api_keys add constraint api_keys_scopes_check
            check (cardinality(scopes) > 0 and scopes <@ array[{_scope_list}]::text[]);
    end if;
end $$;
-- One key in force per name, so that a name in a log or an event points at one key; a revoked
-- key keeps its row (and its name) for the record, and the name can be given to a new key.
create unique index if not exists api_keys_name_in_force on api_keys (name)
    where revoked_at is null;
"""


class KeyRow(msgspec.Struct, frozen=True):
    """One key as `threadlog keys list` shows it; never the key itself, which is not stored."""

    name: str
    scopes: list[str]
    created_at: datetime
    revoked_at: datetime | None


class DuplicateName(Exception):
    """A key in force already has that name."""


async def migrate(conn: Conn, schema: str) -> None:
    """Create the schema and the api_keys table if missing; safe to run from several processes."""
    async with conn.transaction():
        # The same lock as the projections' migration: concurrent `create if not exists` collide.
        await conn.execute("select pg_advisory_xact_lock(hashtext('threadlog.migrate'))")
        await conn.execute(f'create schema if not exists "{schema}"')
        await conn.execute(f'set local search_path to "{schema}"')
        await conn.execute(_DDL)


async def create_key(conn: Conn, name: str, scopes: list[str]) -> str:
    """Store a new key's hash under `name` with `scopes`; return the key, to be shown once."""
    key = new_key()
    try:
        await conn.execute(
            "insert into api_keys (key_hash, name, scopes) values ($1, $2, $3::text[])",
            key_hash(key),
            name,
            sorted(set(scopes)),
        )
    except asyncpg.UniqueViolationError as error:
        raise DuplicateName(name) from error
    return key


async def list_keys(conn: Conn) -> list[KeyRow]:
    """Every key, in force or revoked, oldest first."""
    rows = await conn.fetch(
        "select name, scopes, created_at, revoked_at from api_keys order by created_at, name"
    )
    return [KeyRow(r["name"], list(r["scopes"]), r["created_at"], r["revoked_at"]) for r in rows]


async def revoke_key(conn: Conn, name: str) -> bool:
    """Revoke the key in force named `name`; False when there is none."""
    revoked = await conn.fetchval(
        "update api_keys set revoked_at = now() where name = $1 and revoked_at is null"
        " returning name",
        name,
    )
    return revoked is not None


async def keys_in_force(conn: Conn) -> dict[str, ApiKey]:
    """Key hash -> key, for every key not revoked."""
    rows = await conn.fetch("select key_hash, name, scopes from api_keys where revoked_at is null")
    return {r["key_hash"]: ApiKey(r["name"], frozenset(r["scopes"])) for r in rows}


async def key_in_force(conn: Conn, key: str) -> ApiKey | None:
    """The key in force that `key` is, or None."""
    row = await conn.fetchrow(
        "select name, scopes from api_keys where key_hash = $1 and revoked_at is null",
        key_hash(key),
    )
    return None if row is None else ApiKey(row["name"], frozenset(row["scopes"]))
