"""`threadlog keys create|list|revoke|demo`: manage the API keys both services accept.

A key is printed once, alone on the last line of `create`, and stored only as a hash; a revoked
key is refused by the running services within `THREADLOG_AUTH_REFRESH_S` seconds.
"""

import argparse
import asyncio
import os
import urllib.request
from pathlib import Path

import asyncpg

from services.auth import (
    SCOPES,
    DuplicateName,
    create_key,
    key_in_force,
    list_keys,
    migrate,
    revoke_key,
)
from threadlog.settings import Settings

DEMO_KEYS: dict[bool, tuple[str, list[str]]] = {
    False: ("demo", ["produce"]),
    True: ("demo-moderator", ["moderate"]),
}
"""`keys demo` (the pages' reader backend, which posts readers' content) and `keys demo
--moderator` (the console's, pasted by a person): name and scopes. Apart, so that a flaw in the
backend that acts for anonymous readers can never moderate."""
_WHEN = "%Y-%m-%d %H:%M:%S"


def add_parser(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add `keys` and its subcommands to the `threadlog` parser."""
    keys = commands.add_parser("keys", help="create, list and revoke API keys")
    actions = keys.add_subparsers(dest="keys_command", required=True)
    create = actions.add_parser("create", help="make a key; prints it once, on the last line")
    create.add_argument("--name", required=True, help="who holds it; shown in logs and events")
    create.add_argument(
        "--scope", action="append", required=True, choices=SCOPES, help="repeat for several"
    )
    actions.add_parser("list", help="every key's name, scopes, creation and revocation")
    revoke = actions.add_parser("revoke", help="revoke the key in force with that name")
    revoke.add_argument("name")
    demo = actions.add_parser(
        "demo",
        help="make sure FILE holds the demo's key in force: `demo` (scope produce, for the"
        " pages' reader backend) or with --moderator `demo-moderator` (scope moderate)",
    )
    demo.add_argument("--moderator", action="store_true", help="the moderation console's key")
    demo.add_argument("file", type=Path)


async def _connect(settings: Settings) -> "asyncpg.Connection[asyncpg.Record]":
    conn: asyncpg.Connection[asyncpg.Record] = await asyncpg.connect(
        settings.database_url, timeout=settings.db_timeout_s
    )
    await migrate(conn, settings.pg_schema)
    await conn.execute(f'set search_path to "{settings.pg_schema}"')
    return conn


async def _create(settings: Settings, name: str, scopes: list[str]) -> None:
    conn = await _connect(settings)
    try:
        key = await create_key(conn, name, scopes)
    except DuplicateName as error:
        raise SystemExit(
            f"threadlog: a key named {name!r} is in force already; revoke it first"
            f" (`threadlog keys revoke {name}`) or choose another name"
        ) from error
    except asyncpg.CheckViolationError as error:
        raise SystemExit(
            f"threadlog: {name!r} is not a key name: use 1-64 of A-Z a-z 0-9 . _ -"
        ) from error
    finally:
        await conn.close()
    print(f"key {name!r} with scopes {', '.join(sorted(set(scopes)))}; it is shown only now:")
    print(key)


async def _list(settings: Settings) -> None:
    conn = await _connect(settings)
    try:
        rows = await list_keys(conn)
    finally:
        await conn.close()
    print(f"{'name':<24} {'scopes':<28} {'created (UTC)':<20} revoked")
    for row in rows:
        revoked = f"{row.revoked_at:{_WHEN}}" if row.revoked_at else "-"
        print(f"{row.name:<24} {','.join(row.scopes):<28} {row.created_at:{_WHEN}} {revoked}")


async def _revoke(settings: Settings, name: str) -> None:
    conn = await _connect(settings)
    try:
        revoked = await revoke_key(conn, name)
    finally:
        await conn.close()
    if not revoked:
        raise SystemExit(f"threadlog: no key named {name!r} is in force; `threadlog keys list`")
    print(f"key {name!r} revoked; services refuse it within {settings.auth_refresh_s:g} s")


async def _rotate_demo(settings: Settings, held: str, name: str, scopes: list[str]) -> str | None:
    """None if `held` is the key in force named `name` with exactly `scopes`; else a new key,
    the old one revoked (a demo key from before with more scopes is replaced too)."""
    conn = await _connect(settings)
    try:
        current = await key_in_force(conn, held) if held else None
        if current is not None and (current.name, current.scopes) == (name, frozenset(scopes)):
            return None
        await revoke_key(conn, name)
        return await create_key(conn, name, scopes)
    finally:
        await conn.close()


def _demo(settings: Settings, path: Path, moderator: bool) -> None:
    held = path.read_text().strip() if path.exists() else ""
    key = asyncio.run(_rotate_demo(settings, held, *DEMO_KEYS[moderator]))
    if key is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    # Created readable by its owner only: the file holds a secret.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(key + "\n")


def run(settings: Settings, args: argparse.Namespace) -> None:
    """Carry out `threadlog keys ...` as parsed by `add_parser`."""
    match args.keys_command:
        case "create":
            asyncio.run(_create(settings, args.name, args.scope))
        case "list":
            asyncio.run(_list(settings))
        case "revoke":
            asyncio.run(_revoke(settings, args.name))
        case "demo":
            _demo(settings, args.file, args.moderator)


def send_key_from_env(variable: str = "THREADLOG_API_KEY") -> None:
    """Make every urllib request of this process carry the key in `variable`, if set.

    `threadlog demo` talks to the services through urllib; this gives it a key without it
    having to know about keys.
    """
    key = os.environ.get(variable)
    if key:
        opener = urllib.request.build_opener()
        opener.addheaders = [("Authorization", f"Bearer {key}")]
        urllib.request.install_opener(opener)
