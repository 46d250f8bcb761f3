"""What the integration and browser suites share: settings isolated per test, and services on a
real uvicorn in a thread of their own."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import uuid
from typing import Any
from urllib.parse import urlparse

import httpx
import msgspec
import pytest
import uvicorn
from litestar import Litestar

from threadlog.settings import Settings, from_env


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def environment_settings() -> Settings:
    """The environment's settings; stops the run early, with the fix, when a server is down."""
    settings = from_env()
    host, _, port = settings.kafka_bootstrap_servers.split(",")[0].rpartition(":")
    pg = urlparse(settings.database_url)
    for name, h, p in (
        ("Kafka", host, int(port)),
        ("PostgreSQL", pg.hostname or "127.0.0.1", pg.port or 5432),
    ):
        if not _reachable(h, p):
            pytest.exit(
                f"{name} at {h}:{p} is not reachable; `make up` starts it (or `make test`)", 2
            )
    return settings


def isolated(base: Settings, **overrides: Any) -> Settings:
    """`base` with a fresh topic, dead-letter topic, consumer group and schema, 3 partitions,
    and no rate or flag limit to speak of (tests post as fast as they can; each limit has its
    own test)."""
    tag = uuid.uuid4().hex[:10]
    fields: dict[str, Any] = {
        "topic": f"test.{tag}.events",
        "dlq_topic": f"test.{tag}.events.dlq",
        "topic_partitions": 3,
        "consumer_group": f"test-{tag}",
        "pg_schema": f"test_{tag}",
        "key_store_schema": f"test_{tag}_keys",
        "rate_limit_per_s": 100_000.0,
        "rate_limit_burst": 100_000.0,
        "flag_limit_per_min": 0.0,
    }
    return msgspec.structs.replace(base, **(fields | overrides))


class ThreadedServer:
    """An ASGI app on a real uvicorn, on a free port, in a thread of its own: a long request (a
    live stream, a read waiting with `?after=`) never blocks the test's loop."""

    def __init__(self, app: Litestar) -> None:
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        host, port = self._sock.getsockname()
        self.url = f"http://{host}:{port}"
        self._server = uvicorn.Server(
            uvicorn.Config(app, log_config=None, access_log=False, timeout_graceful_shutdown=1)
        )
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )
        self._thread.start()

    async def ready(self, path: str = "/readyz") -> None:
        """Return once `path` answers 200 (within 30 s)."""
        async with httpx.AsyncClient(timeout=5) as client:
            for _ in range(600):
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get(self.url + path)).status_code == 200:
                        return
                await asyncio.sleep(0.05)
        pytest.fail(f"{self.url}{path} did not answer 200 within 30 s")

    async def stop(self) -> None:
        """Stop serving and free the port."""
        self._server.should_exit = True
        await asyncio.to_thread(self._thread.join, 10)
        self._sock.close()
