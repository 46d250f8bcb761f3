"""The key store: one data key per subject (author, flagger, moderator), wrapped by the KEK, in
a PostgreSQL schema of its own; a short-lived cache in each process in front of it.

Ingest gets or creates the keys of a request's subjects (one round trip for those not cached);
readers load the keys a poll batch names (one query). Erasure deletes the data key and keeps
the row, marked destroyed: a destroyed key and an unreachable key store are different things,
and only the first makes text read as erased.
"""

import asyncio
import secrets
import time
from collections.abc import Iterable
from typing import Any, Final

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from events.sealing import DataKey, new_data_key
from subject_keys.kek import load_kek, unwrap, wrap
from subject_keys.settings import KeyStoreSettings

_DDL: Final = """
create table if not exists subject_keys (
    kid         text primary key,
    subject_id  text not null unique,
    dek_wrapped bytea,
    created_at  timestamptz not null default now(),
    destroyed_at timestamptz,
    check ((dek_wrapped is null) = (destroyed_at is not null))
);
"""


class KeyStoreUnavailable(Exception):
    """The key store did not answer (down, unreachable, timed out): retry, never erase."""


_UNAVAILABLE = (
    OSError,
    TimeoutError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
)


async def migrate_key_store(
    conn: "asyncpg.Connection[Any] | PoolConnectionProxy[Any]", schema: str
) -> None:
    """Create the key store's schema and table if missing."""
    async with conn.transaction():
        await conn.execute("select pg_advisory_xact_lock(hashtext('threadlog.migrate'))")
        await conn.execute(f'create schema if not exists "{schema}"')
        await conn.execute(f'set local search_path to "{schema}"')
        await conn.execute(_DDL)


def _new_kid() -> str:
    return f"k{secrets.token_hex(12)}"


class KeyStore:
    """The key store as one process uses it: a small pool and a TTL cache.

    `start()` connects lazily-safe: a process whose log holds no sealed record never queries.
    """

    def __init__(self, settings: KeyStoreSettings) -> None:
        self.settings = settings
        self._pool: asyncpg.Pool[Any] | None = None
        self._connecting = asyncio.Lock()
        self._by_subject: dict[str, tuple[float, DataKey]] = {}
        self._by_kid: dict[str, tuple[float, bytes | None]] = {}
        self._kek: bytes | None = None
        self._pending: dict[str, asyncio.Future[DataKey]] = {}
        """Subjects whose keys the next flush fetches, each with the requests waiting on it."""
        self._flush: asyncio.Task[None] | None = None
        self.queries = 0
        """Round trips made to the key store (the cache's effect, for tests and /metrics)."""

    async def __aenter__(self) -> "KeyStore":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def stop(self) -> None:
        """Close the pool, if one was opened."""
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def _conn_pool(self) -> "asyncpg.Pool[Any]":
        async with self._connecting:
            if self._pool is None:
                s = self.settings
                pool = await asyncpg.create_pool(
                    s.database_url,
                    min_size=0,
                    max_size=4,
                    timeout=s.timeout_s,
                    command_timeout=s.timeout_s,
                    server_settings={"search_path": s.schema},
                )
                async with pool.acquire() as conn:
                    await migrate_key_store(conn, s.schema)
                self._kek = load_kek(s.kek, s.kek_file)
                self._pool = pool
            return self._pool

    def _unavailable(self, error: BaseException) -> KeyStoreUnavailable:
        return KeyStoreUnavailable(
            f"the key store ({self.settings.schema} at {self.settings.database_url})"
            f" did not answer: {error!r}"
        )

    async def _ready_kek(self) -> bytes:
        """The KEK, once the key store answered (its table created if missing)."""
        try:
            async with asyncio.timeout(self.settings.timeout_s * 2):
                await self._conn_pool()
        except _UNAVAILABLE as error:
            raise self._unavailable(error) from error
        assert self._kek is not None
        return self._kek

    async def _fetch(self, sql: str, *args: object) -> list[asyncpg.Record]:
        try:
            async with asyncio.timeout(self.settings.timeout_s * 2):
                pool = await self._conn_pool()
                async with pool.acquire() as conn:
                    self.queries += 1
                    return list(await conn.fetch(sql, *args))
        except _UNAVAILABLE as error:
            raise self._unavailable(error) from error

    def _fresh(self, at: float, destroyed: bool) -> bool:
        return destroyed or time.monotonic() - at < self.settings.ttl_s

    def _unwrap(self, row: asyncpg.Record) -> bytes | None:
        wrapped = row["dek_wrapped"]
        assert self._kek is not None  # read with the pool, before any row
        return None if wrapped is None else unwrap(self._kek, row["kid"], wrapped)

    async def sealing_keys(self, subjects: Iterable[str]) -> dict[str, DataKey]:
        """The data key of each subject, created if they have none (one round trip for those
        not cached). A destroyed subject's key has `dek` None."""
        found: dict[str, DataKey] = {}
        wanted: list[str] = []
        for subject in set(subjects):
            cached = self._by_subject.get(subject)
            if cached and self._fresh(cached[0], cached[1].dek is None):
                found[subject] = cached[1]
            else:
                wanted.append(subject)
        if wanted:
            found |= await self._joined(wanted)
        return found

    async def _joined(self, wanted: list[str]) -> dict[str, DataKey]:
        """`wanted`'s keys, fetched with those every other request of this moment misses: the
        requests in flight share one round trip (one ingest process, 32 clients, 1,000 new
        authors: one query per turn of the loop rather than one per request)."""
        futures = []
        for subject in wanted:
            future = self._pending.get(subject)
            if future is None:
                future = self._pending[subject] = asyncio.get_running_loop().create_future()
            futures.append(future)
        if self._flush is None:
            self._flush = asyncio.create_task(self._flush_pending())
        # Shielded: a request given up (its client gone) must not cancel the others' waits.
        keys = await asyncio.gather(*(asyncio.shield(future) for future in futures))
        return dict(zip(wanted, keys, strict=True))

    async def _flush_pending(self) -> None:
        await asyncio.sleep(0)  # let the requests of this turn of the loop add theirs
        pending, self._pending, self._flush = self._pending, {}, None
        found: dict[str, DataKey] = {}
        try:
            # Twice at most: a subject another process created in the same instant is not in
            # this statement's snapshot, and is read by the second pass.
            for _ in range(2):
                wanted = [subject for subject in pending if subject not in found]
                if wanted:
                    await self._get_or_create(wanted, found)
        except BaseException as error:
            for future in pending.values():
                if not future.done():
                    future.set_exception(error)
            if not isinstance(error, Exception):
                raise
            return
        for subject, future in pending.items():
            if future.done():
                continue
            if subject in found:
                future.set_result(found[subject])
            else:
                future.set_exception(self._unavailable(LookupError(f"no key row for {subject}")))

    async def _get_or_create(self, wanted: list[str], found: dict[str, DataKey]) -> None:
        if wanted:
            kids = [_new_kid() for _ in wanted]
            deks = [new_data_key() for _ in wanted]
            kek = await self._ready_kek()
            wrapped = [wrap(kek, k, d) for k, d in zip(kids, deks, strict=True)]
            rows = await self._fetch(
                "with new as (insert into subject_keys (kid, subject_id, dek_wrapped)"
                " select * from unnest($1::text[], $2::text[], $3::bytea[])"
                " on conflict (subject_id) do nothing returning kid)"
                " select kid, subject_id, dek_wrapped from subject_keys"
                " where subject_id = any($2::text[])"
                " union all select kid, null, null from new",
                kids,
                wanted,
                wrapped,
            )
            # Rows this statement inserted are not visible to its own select: they are the
            # `new` ones, whose keys are those generated above.
            mine = dict(zip(kids, zip(wanted, deks, strict=True), strict=True))
            now = time.monotonic()
            for row in rows:
                if row["subject_id"] is None:
                    subject, dek = mine[row["kid"]]
                    key = DataKey(row["kid"], dek)
                else:
                    subject, key = row["subject_id"], DataKey(row["kid"], self._unwrap(row))
                found[subject] = key
                self._by_subject[subject] = (now, key)
                self._by_kid[key.kid] = (now, key.dek)

    async def opening_keys(self, kids: Iterable[str]) -> dict[str, bytes | None]:
        """The data keys of `kids` (None: destroyed), one query for those not cached; a kid the
        store does not hold is left out (the reader decides: never read it as erased)."""
        found: dict[str, bytes | None] = {}
        wanted: list[str] = []
        for kid in set(kids):
            cached = self._by_kid.get(kid)
            if cached and self._fresh(cached[0], cached[1] is None):
                found[kid] = cached[1]
            else:
                wanted.append(kid)
        if wanted:
            now = time.monotonic()
            for row in await self._fetch(
                "select kid, dek_wrapped from subject_keys where kid = any($1::text[])", wanted
            ):
                found[row["kid"]] = dek = self._unwrap(row)
                self._by_kid[row["kid"]] = (now, dek)
        return found

    async def destroy(self, subject: str) -> str:
        """Delete `subject`'s data key (kept as a destroyed row, so that their later text is
        shredded at once); return its key id. Idempotent."""
        rows = await self._fetch(
            "insert into subject_keys (kid, subject_id, dek_wrapped, destroyed_at)"
            " values ($1, $2, null, now()) on conflict (subject_id) do update"
            " set dek_wrapped = null,"
            " destroyed_at = coalesce(subject_keys.destroyed_at, excluded.destroyed_at)"
            " returning kid",
            _new_kid(),
            subject,
        )
        kid: str = rows[0]["kid"]
        now = time.monotonic()
        self._by_subject[subject] = (now, DataKey(kid, None))
        self._by_kid[kid] = (now, None)
        return kid
