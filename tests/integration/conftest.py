"""Fixtures on the real Kafka and PostgreSQL that `make test` starts (deploy/bin/up).

Each test gets its own topic, dead-letter topic, consumer group and Postgres schema, so tests
share nothing and can run in any order.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
import httpx
import msgspec
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from litestar.testing import AsyncTestClient

from eventlog.reading import READ_COMMITTED
from events import Envelope, encode_record
from projections import Worker
from projections.log_reader import partitions
from projections.store import migrate
from services.auth import create_key
from services.auth import migrate as migrate_keys
from services.ingest import create_app as create_ingest_app
from services.notifications import migrate as migrate_notifications
from services.notifications import run_notifier
from services.query import create_app as create_query_app
from tests.servers import ThreadedServer, environment_settings, isolated
from threadlog.log_end import caught_up_total
from threadlog.settings import Settings
from threadlog.topics import ensure_topics


@pytest.fixture(scope="session")
def base_settings() -> Settings:
    """The environment's settings; stops the run early, with the fix, when a server is down."""
    return environment_settings()


@pytest.fixture
async def settings(base_settings: Settings) -> AsyncIterator[Settings]:
    """Settings with a fresh topic, dead-letter topic, consumer group and schema for one test."""
    settings = isolated(base_settings)
    await ensure_topics(settings)
    conn = await asyncpg.connect(settings.database_url)
    try:
        await migrate(conn, settings.pg_schema)
        await migrate_keys(conn, settings.pg_schema)
    finally:
        await conn.close()
    yield settings
    # A new connection: the test may have restarted PostgreSQL (tests/integration/test_faults.py).
    conn = await asyncpg.connect(settings.database_url)
    try:
        await conn.execute(f'drop schema "{settings.pg_schema}" cascade')
        await conn.execute(f'drop schema if exists "{settings.key_store_schema}" cascade')
    finally:
        await conn.close()


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[asyncpg.Connection[Any]]:
    """A connection to the test's schema."""
    conn = await asyncpg.connect(
        settings.database_url, server_settings={"search_path": settings.pg_schema}
    )
    try:
        yield conn
    finally:
        await conn.close()


@pytest.fixture
async def worker(settings: Settings, request: pytest.FixtureRequest) -> AsyncIterator[Worker]:
    """A projection worker running in this process for the test's topic and schema; a test
    marked `@pytest.mark.worker_settings(name=value, ...)` gets those WorkerSettings."""
    marker = request.node.get_closest_marker("worker_settings")
    overrides = marker.kwargs if marker else {}
    worker = Worker(msgspec.structs.replace(settings.worker(), poll_timeout_ms=100, **overrides))
    await worker.start()
    task = asyncio.create_task(worker.run())
    try:
        yield worker
    finally:
        worker.request_stop()
        await asyncio.wait_for(task, 10)
        await worker.stop()


MakeKey = Callable[[str, list[str]], Awaitable[str]]
"""`await make_key(name, scopes)`: a new API key in the test's schema."""


@pytest.fixture
def make_key(settings: Settings) -> MakeKey:
    """Creates API keys in the test's schema; make them before the app that must know them."""

    async def make(name: str, scopes: list[str]) -> str:
        conn = await asyncpg.connect(
            settings.database_url, server_settings={"search_path": settings.pg_schema}
        )
        try:
            return await create_key(conn, name, scopes)
        finally:
            await conn.close()

    return make


@pytest.fixture
async def ingest(settings: Settings, make_key: MakeKey) -> AsyncIterator[AsyncTestClient[Any]]:
    """The ingest service, connected to Kafka, behind an HTTP test client with an admin key."""
    key = await make_key("test-admin", ["admin"])
    async with AsyncTestClient(create_ingest_app(settings.ingest())) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        await eventually(lambda: _ok(client, "/readyz"), what="ingest to connect to Kafka")
        yield client


@pytest.fixture
async def query(settings: Settings, make_key: MakeKey) -> AsyncIterator[AsyncTestClient[Any]]:
    """The query service on the test's schema behind an HTTP test client with an admin key."""
    key = await make_key("test-admin-reader", ["admin"])
    async with AsyncTestClient(create_query_app(settings.query())) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        yield client


@pytest.fixture
async def producer(settings: Settings) -> AsyncIterator[AIOKafkaProducer]:
    """A plain Kafka producer, to write records as any client could (including bad ones)."""
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers, acks="all", enable_idempotence=True
    )
    await producer.start()
    try:
        yield producer
    finally:
        await producer.stop()


async def _ok(client: AsyncTestClient[Any] | httpx.AsyncClient, path: str) -> bool:
    return (await client.get(path)).status_code == 200


async def eventually(
    check: Callable[[], Awaitable[bool]], *, what: str, timeout_s: float = 30.0
) -> None:
    """Wait until `check` passes; fail naming `what` was awaited when it never does."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"timed out after {timeout_s:g} s waiting for {what}")
        await asyncio.sleep(0.05)


async def records_in(settings: Settings, topic: str | None = None) -> int:
    """How many offsets `topic` (the test's event topic by default) has used: its end offsets,
    records and transaction markers alike; a refused request adds none."""
    topic = topic or settings.topic
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers)
    await consumer.start()
    try:
        ends = await consumer.end_offsets(await partitions(consumer, topic))
        return sum(ends.values())
    finally:
        await consumer.stop()


async def committed_end(settings: Settings) -> int:
    """Where the test topic's readers stand once they applied every committed record: the sum
    over partitions of one past the last one (ingest's transaction markers lie beyond)."""
    return await caught_up_total(
        settings.kafka_bootstrap_servers, settings.topic, settings.topic_partitions
    )


async def produce(producer: AIOKafkaProducer, topic: str, events: list[Envelope]) -> None:
    """Append events to `topic` as ingest does, and wait for every acknowledgement."""
    pending = []
    for event in events:
        key, value, headers = encode_record(event)
        pending.append(await producer.send(topic, key=key, value=value, headers=headers))
    await asyncio.gather(*pending)


@pytest.fixture
async def notifier(settings: Settings) -> AsyncIterator[None]:
    """The reply-notification subscriber running in this process on the test's topic and schema."""
    conn = await asyncpg.connect(settings.database_url)
    try:
        # Created before the notifier starts, so the query service can serve the tables at once.
        await migrate_notifications(conn, settings.pg_schema)
    finally:
        await conn.close()
    task = asyncio.create_task(run_notifier(settings.notifier()))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@pytest.fixture
async def query_server(settings: Settings, make_key: MakeKey) -> AsyncIterator[httpx.AsyncClient]:
    """The query service on a real uvicorn in a thread of its own, behind an httpx client with an
    admin key. Unlike the in-process test client, a long request (a live stream, a read waiting
    with `?after=`) then never blocks this test's loop, where the worker runs."""
    key = await make_key("test-admin-server", ["admin"])
    server = ThreadedServer(create_query_app(settings.query()))
    await server.ready()
    async with httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=30
    ) as client:
        try:
            yield client
        finally:
            await server.stop()


async def committed_values(settings: Settings) -> dict[tuple[int, int], bytes]:
    """The value of every record of the test's topic a read_committed reader sees, by
    (partition, offset), in each partition's order."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        enable_auto_commit=False,
        isolation_level=READ_COMMITTED,
    )
    await consumer.start()
    try:
        tps = [TopicPartition(settings.topic, p) for p in range(settings.topic_partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        seen: dict[tuple[int, int], bytes] = {}
        todo = {tp for tp in tps if ends[tp] > 0}
        while todo:
            for tp, records in (await consumer.getmany(*todo, timeout_ms=500)).items():
                seen |= {(tp.partition, r.offset): r.value or b"" for r in records}
            todo = {tp for tp in todo if await consumer.position(tp) < ends[tp]}
        return seen
    finally:
        await consumer.stop()
