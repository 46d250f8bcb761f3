"""The query service: threads and timelines over HTTP, read from the projections' tables."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import asyncpg
import msgspec
import structlog
from litestar import Litestar, get
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig
from litestar.params import FromPath, FromQuery, QueryParameter

from services.auth import Admission, AuthSettings, query_rule
from services.errors import EXCEPTION_HANDLERS, ApiError
from services.health import health_router
from services.query.reads import Sort, read_thread, read_timeline
from services.query.views import ThreadPage, TimelinePage

log = structlog.get_logger("threadlog.query")

Limit = Annotated[int, QueryParameter(ge=1, le=200, description="Items per page, 1-200")]


class QuerySettings(msgspec.Struct, frozen=True, kw_only=True):
    """Where the read models live."""

    database_url: str
    auth: AuthSettings
    pg_schema: str = "public"
    pool_size: int = 10
    statement_timeout_ms: int = 5000


def _pool(state: State) -> "asyncpg.Pool[Any]":
    pool: asyncpg.Pool[Any] = state.pool
    return pool


@get("/v1/articles/{article_id:str}/thread", summary="A page of an article's comment thread")
async def get_thread(
    state: State,
    article_id: FromPath[str],
    sort: FromQuery[Sort] = "oldest",
    limit: Limit = 50,
    cursor: FromQuery[str | None] = None,
) -> ThreadPage:
    """Top-level comments by limit and cursor, each with all its replies nested, oldest first."""
    async with _pool(state).acquire() as conn:
        page = await read_thread(conn, article_id, sort, limit, cursor)
    if page is None:
        raise ApiError(
            404,
            "article_not_found",
            f"No article {article_id!r} has been published (or the worker has not applied it yet).",
        )
    return page


@get("/v1/authors/{author_id:str}/timeline", summary="An author's comments, newest first")
async def get_timeline(
    state: State,
    author_id: FromPath[str],
    limit: Limit = 50,
    cursor: FromQuery[str | None] = None,
) -> TimelinePage:
    """Every comment of the author across articles, keyset-paginated."""
    async with _pool(state).acquire() as conn:
        return await read_timeline(conn, author_id, limit, cursor)


async def _postgres_ready(state: State) -> None:
    async with _pool(state).acquire(timeout=2) as conn:
        await conn.fetchval("select 1 from articles limit 1")


def create_app(settings: QuerySettings) -> Litestar:
    """The query ASGI app; one asyncpg pool per process, made at startup."""
    admission = Admission(settings.auth, query_rule(settings.auth.reads_require_key))

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        pool = await asyncpg.create_pool(
            settings.database_url,
            min_size=1,
            max_size=settings.pool_size,
            # Every call has a bound: connecting, and each statement on the client's side too
            # (statement_timeout alone cannot fire when the server or the network is gone).
            timeout=settings.auth.db_timeout_s,
            command_timeout=settings.statement_timeout_ms / 1000 + 1,
            server_settings={
                "search_path": settings.pg_schema,
                "statement_timeout": str(settings.statement_timeout_ms),
                "application_name": "threadlog-query",
            },
        )
        app.state.pool = pool
        log.info("query ready", schema=settings.pg_schema)
        try:
            yield
        finally:
            await pool.close()

    return Litestar(
        route_handlers=[get_thread, get_timeline, health_router(_postgres_ready, "PostgreSQL")],
        lifespan=[lifespan, admission.lifespan],
        guards=[admission.guard],
        middleware=[admission.middleware],
        state=State({"settings": settings}),
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=OpenAPIConfig(title="threadlog query", version="1.0.0"),
        debug=False,
        # Logging is configured once per process by threadlog.logs; Litestar must not replace it.
        logging_config=None,
    )
