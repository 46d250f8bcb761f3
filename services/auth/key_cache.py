"""The keys in force, held in memory and re-read from Postgres every few seconds.

Each request is checked against memory, not the database: a key lookup costs a hash and a dict
lookup. Reading the whole table every `refresh_s` is what makes a revocation take effect within
seconds without a restart. If Postgres cannot be read, the last table read stays in use for
`max_stale_s`; after that every key is refused (fail closed), because a revoked key must not
work for longer than an operator can be told.
"""

import asyncio
import time
from collections.abc import Callable
from contextlib import suppress
from typing import Any

import asyncpg
import msgspec
import structlog

from services.auth.api_keys import ApiKey, key_hash
from services.auth.key_store import keys_in_force
from services.transient import PG_TRANSIENT

log = structlog.get_logger("threadlog.auth")


class AuthSettings(msgspec.Struct, frozen=True, kw_only=True):
    """Where the keys are, how fresh they must be, and how much each key may ask."""

    database_url: str
    pg_schema: str
    refresh_s: float = 2.0
    max_stale_s: float = 30.0
    db_timeout_s: float = 5.0
    rate_per_s: float = 50.0
    burst: float = 200.0
    reads_require_key: bool = False
    max_inflight: int = 100
    max_url_chars: int = 4096


class KeysUnavailable(Exception):
    """The key table has not been read recently enough to trust it."""


class KeyCache:
    """The api_keys table in memory; `start()` reads it and keeps re-reading it until `stop()`."""

    def __init__(self, settings: AuthSettings, clock: Callable[[], float] = time.monotonic):
        self.settings = settings
        self._clock = clock
        self._keys: dict[str, ApiKey] = {}
        self._read_at: float | None = None
        self._pool: asyncpg.Pool[Any] | None = None
        self._task: asyncio.Task[None] | None = None

    def lookup(self, key: str) -> ApiKey | None:
        """The key in force that `key` is, or None; KeysUnavailable when the table is too old."""
        if self._read_at is None or self._clock() - self._read_at > self.settings.max_stale_s:
            raise KeysUnavailable(
                f"the API keys have not been read from PostgreSQL for over"
                f" {self.settings.max_stale_s:g} s"
            )
        return self._keys.get(key_hash(key))

    async def refresh(self) -> None:
        """Read the keys in force now."""
        if self._pool is None:
            # min_size=0: no connection at creation, so the service starts before Postgres does.
            self._pool = await asyncpg.create_pool(
                self.settings.database_url,
                min_size=0,
                max_size=1,
                timeout=self.settings.db_timeout_s,
                command_timeout=self.settings.db_timeout_s,
                server_settings={
                    "search_path": self.settings.pg_schema,
                    "statement_timeout": str(int(self.settings.db_timeout_s * 1000)),
                    "application_name": "threadlog-keys",
                },
            )
        async with self._pool.acquire(timeout=self.settings.db_timeout_s) as conn:
            keys = await keys_in_force(conn)
        self._keys, self._read_at = keys, self._clock()

    async def _refresh_or_warn(self) -> None:
        try:
            await self.refresh()
        except PG_TRANSIENT as error:
            # Transient (Postgres restarting) or to be fixed by an operator (`threadlog init` not
            # run); either way, keep the last keys until they are stale and try again.
            log.warning(
                "cannot read the API keys; retrying",
                error=repr(error),
                schema=self.settings.pg_schema,
                in_s=self.settings.refresh_s,
            )

    async def _refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(self.settings.refresh_s)
            await self._refresh_or_warn()

    async def start(self) -> None:
        """Read the keys once (so the first requests find them) and keep them fresh."""
        await self._refresh_or_warn()
        self._task = asyncio.create_task(self._refresh_forever())

    async def stop(self) -> None:
        """Stop refreshing and close the connection."""
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
        if self._pool is not None:
            await self._pool.close()
