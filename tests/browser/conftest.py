"""A whole threadlog in this process for the browser tests, and a headless Chromium to drive.

The worker and the ingest, query and web services run on the real Kafka and PostgreSQL (`make
test` starts them) with a topic and schema of their own, each in a thread with its own event
loop, so the browser's traffic never waits on the test's loop. The browser is Debian's
`chromium`, driven by Playwright; nothing is downloaded.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import msgspec
import pytest
from playwright.async_api import Browser, async_playwright

from projections import Worker
from projections.store import migrate
from services.auth import create_key
from services.auth import migrate as migrate_keys
from services.ingest import create_app as create_ingest_app
from services.query import create_app as create_query_app
from services.web import WebSettings
from services.web import create_app as create_web_app
from tests.servers import ThreadedServer, environment_settings, isolated
from threadlog.demo_thread import demo_events
from threadlog.settings import Settings
from threadlog.topics import ensure_topics

HELD_WORD = "bannedword"
"""A comment containing it is held for a moderator (THREADLOG_BANNED_PATTERNS)."""
CHROMIUM = os.environ.get("THREADLOG_CHROMIUM", "/usr/bin/chromium")


@dataclass(frozen=True)
class Stack:
    """The running services and the keys a test acts with."""

    web_url: str
    ingest_url: str
    query_url: str
    moderator_key: str
    """Scopes moderate and produce: the console's key, and the tests' own writes."""

    async def post(self, *events: dict[str, Any]) -> None:
        """Append events through ingest and wait until the worker decided the last one."""
        async with httpx.AsyncClient(timeout=30) as client:
            answer = await client.post(
                f"{self.ingest_url}/v1/events",
                json=list(events),
                headers={"Authorization": f"Bearer {self.moderator_key}"},
            )
            assert answer.status_code == 202, answer.text
            last = answer.json()["accepted"][-1]
            status = await client.get(
                f"{self.query_url}/v1/events/{last['id']}", params={"after": last["position"]}
            )
            assert status.json()["status"] == "applied", status.text

    async def article(self, *bodies: str) -> tuple[str, list[str]]:
        """A new article with a comment per body; its id and the comments' ids."""
        article_id = f"art-{uuid.uuid4().hex[:10]}"
        ids = [f"{article_id}-c{n}" for n in range(len(bodies))]
        await self.post(
            {"type": "ArticlePublished", "data": {"article_id": article_id, "title": article_id}},
            *(
                {
                    "type": "CommentPosted",
                    "data": {
                        "article_id": article_id,
                        "comment_id": comment_id,
                        "author_id": "writer",
                        "author_name": "Writer",
                        "body": body,
                    },
                }
                for comment_id, body in zip(ids, bodies, strict=True)
            ),
        )
        return article_id, ids


class _WorkerThread:
    """The projection worker with an event loop of its own."""

    def __init__(self, settings: Settings) -> None:
        self._worker = Worker(msgspec.structs.replace(settings.worker(), poll_timeout_ms=50))
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_until_complete, args=[self._run()])
        self._thread.start()

    async def _run(self) -> None:
        async with self._worker:
            await self._worker.run()

    async def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._worker.request_stop)
        await asyncio.to_thread(self._thread.join, 15)
        self._loop.close()


async def _keys(settings: Settings) -> tuple[str, str]:
    conn = await asyncpg.connect(settings.database_url)
    try:
        await migrate(conn, settings.pg_schema)
        await migrate_keys(conn, settings.pg_schema)
        await conn.execute(f'set search_path to "{settings.pg_schema}"')
        reader_key = await create_key(conn, "web-demo", ["produce"])
        moderator_key = await create_key(conn, "moderator", ["moderate", "produce"])
    finally:
        await conn.close()
    return reader_key, moderator_key


@pytest.fixture(scope="session")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    """Worker, ingest, query and web on a fresh topic and schema, with the demo thread loaded."""
    settings = isolated(environment_settings(), banned_patterns=f'["{HELD_WORD}"]')
    await ensure_topics(settings)
    reader_key, moderator_key = await _keys(settings)
    key_file = tmp_path_factory.mktemp("web") / "demo-key"
    key_file.write_text(reader_key)
    worker = _WorkerThread(settings)
    ingest = ThreadedServer(create_ingest_app(settings.ingest()))
    query = ThreadedServer(create_query_app(settings.query()))
    web = ThreadedServer(
        create_web_app(
            WebSettings(query_url=query.url, ingest_url=ingest.url, demo_key_file=str(key_file))
        )
    )
    servers = [web, query, ingest]  # stopped in this order: web relays query's streams
    try:
        await ingest.ready("/readyz")
        await query.ready("/readyz")
        await web.ready("/healthz")
        stack = Stack(web.url, ingest.url, query.url, moderator_key)
        await stack.post(*demo_events())
        yield stack
    finally:
        for server in servers:
            await server.stop()
        await worker.stop()
        conn = await asyncpg.connect(settings.database_url)
        try:
            await conn.execute(f'drop schema "{settings.pg_schema}" cascade')
        finally:
            await conn.close()


@pytest.fixture(scope="session")
async def browser(stack: Stack) -> AsyncIterator[Browser]:
    """Debian's headless Chromium under Playwright; closed before the stack stops, so that no
    open stream holds a server's shutdown."""
    if not shutil.which(CHROMIUM):
        message = f"no Chromium at {CHROMIUM}; `deploy/bin/ensure-system --browser` installs it"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        try:
            yield browser
        finally:
            await browser.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """Where the tests save the screenshots the README shows (committed)."""
    path = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path
