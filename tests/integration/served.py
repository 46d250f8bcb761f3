"""The query service with settings of a test's own, on a real uvicorn in a thread."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, NamedTuple

import httpx

from services.query import create_app as create_query_app
from tests.servers import ThreadedServer
from threadlog.settings import Settings


class Served(NamedTuple):
    """The app (to look at its state), its URL, and an anonymous client to it."""

    app: Any
    url: str
    client: httpx.AsyncClient


@asynccontextmanager
async def served_query(settings: Settings) -> AsyncIterator[Served]:
    """The query app made from `settings`, served until the block ends."""
    app = create_query_app(settings.query())
    server = ThreadedServer(app)
    await server.ready()
    limits = httpx.Limits(max_connections=500)
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30, limits=limits) as client:
            yield Served(app, server.url, client)
    finally:
        await server.stop()
