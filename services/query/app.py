"""The query service: threads, comments, timelines and the moderation queue over HTTP."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import msgspec
import structlog
from litestar import Litestar
from litestar.datastructures import State
from litestar.params import QueryParameter

from eventlog.connection import Kafka, check
from projections.threads import queries
from services.auth import Admission, AuthSettings, query_rule
from services.cors import CorsPolicy, allow_cross_origin
from services.errors import EXCEPTION_HANDLERS
from services.health import health_router
from services.http_semantics import answer_head
from services.openapi_docs import QUERY_DESCRIPTION, document, openapi_config
from services.query.handlers import READ_ERROR_HANDLERS, ROUTES, pool
from services.query.log_end import LogEnd
from services.query.notifications import NOTIFICATION_ROUTES
from services.query.page_cache import PageCache
from services.query.positions import AppliedPositions, WaitPool, wait_for_after
from services.query.stream import get_stream
from services.query.stream_limits import OpenStreams, StreamLimits

log = structlog.get_logger("threadlog.query")

AFTER = QueryParameter(
    annotation=str | None,
    name="after",
    required=False,
    # What parse_positions takes: `<partition>:<offset>`, comma-separated; empty: no wait.
    pattern=r"^(\d{1,6}:\d{1,19}(,\d{1,6}:\d{1,19})*)?$",
    description="Position token(s) from the ingest answer (`3:1042`, comma-separated): answer"
    " only once the read model has applied them (503 + Retry-After past the wait).",
)


class QuerySettings(msgspec.Struct, frozen=True, kw_only=True):
    """Where the read models live."""

    database_url: str
    pg_schema: str
    database_read_url: str = ""
    """A streaming replica to read rows and positions from; empty: `database_url`."""
    topic: str
    kafka: Kafka
    auth: AuthSettings
    pool_size: int = 10
    statement_timeout_ms: int = 5000
    after_max_wait_s: float = 5.0
    max_after_waits: int = 1_000
    """Reads waiting with `?after=` at once; they hold no request slot, so they have this bound."""
    max_page_comments: int = 10_000
    """Most comments a page holds, inlined replies included (see page_bounds)."""
    streams: StreamLimits = StreamLimits()
    cors: CorsPolicy = CorsPolicy()
    """Origins whose scripts may read (and page through) threads cross-origin; off by default."""


async def _postgres_ready(state: State) -> None:
    async with pool(state).acquire(timeout=2) as conn:
        await conn.fetchval(queries.READY)


async def _pool(settings: QuerySettings, url: str) -> "asyncpg.Pool[Any]":
    made: asyncpg.Pool[Any] = await asyncpg.create_pool(
        url,
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
    return made


def create_app(settings: QuerySettings) -> Litestar:
    """The query ASGI app; one asyncpg pool per process, made at startup."""
    admission = Admission(
        settings.auth, query_rule(settings.auth.reads_require_key), wait=wait_for_after
    )
    log_end = LogEnd(settings.kafka, settings.topic)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        primary = await _pool(settings, settings.database_url)
        reads = primary
        try:
            if settings.database_read_url:
                reads = await _pool(settings, settings.database_read_url)
        except BaseException:
            await primary.close()
            raise
        app.state.pool = reads
        app.state.write_pool = primary
        # Positions are read where the rows are: that alone keeps `?after=` true on a replica.
        app.state.positions = AppliedPositions(
            reads,
            settings.topic,
            schema=settings.pg_schema,
            hints=primary if reads is not primary else None,
        )
        # The live feed and ?after= read Kafka later, on demand: a refusal is told now.
        await check(settings.kafka)
        app.state.positions.start()
        log.info("query ready", schema=settings.pg_schema, replica=reads is not primary)
        try:
            yield
        finally:
            if app.state.get("live_feed") is not None:
                await app.state.live_feed.stop()
            await app.state.positions.stop()
            await log_end.stop()
            if reads is not primary:
                await reads.close()
            await primary.close()

    app = Litestar(
        route_handlers=[
            *ROUTES,
            *NOTIFICATION_ROUTES,
            get_stream,
            health_router(_postgres_ready, "PostgreSQL"),
        ],
        lifespan=[lifespan, admission.lifespan],
        parameters={"after": AFTER},
        middleware=[admission.middleware],
        state=State(
            {
                "settings": settings,
                "page_cache": PageCache(),
                "log_end": log_end,
                "after_waits": WaitPool(settings.max_after_waits),
                "open_streams": OpenStreams(settings.streams),
            }
        ),
        exception_handlers={**EXCEPTION_HANDLERS, **READ_ERROR_HANDLERS},
        openapi_config=openapi_config("threadlog query", QUERY_DESCRIPTION),
        debug=False,
        # Logging is configured once per process by threadlog.logs; Litestar must not replace it.
        logging_config=None,
    )
    # Every admitted read may wait for `?after=` (services/query/positions.py).
    after = {400: ["unknown_position"], 503: ["not_yet_applied", "too_many_waits"]}
    documented = document(app, admission.rule, everywhere=after, admitted_only=frozenset({"after"}))
    return answer_head(allow_cross_origin(documented, settings.cors))
