"""The web process: pages and static assets, a same-origin pass-through to the APIs, and the
demo's key-holding reader backend."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import msgspec
import structlog
from litestar import Litestar
from litestar.datastructures import State

from services.errors import EXCEPTION_HANDLERS
from services.http_semantics import answer_head
from services.web.assets import static_assets
from services.web.pages import PAGE_ROUTES
from services.web.passthrough import PASSTHROUGH_ROUTES
from services.web.reader import READER_ROUTES

log = structlog.get_logger("threadlog.web")


class WebSettings(msgspec.Struct, frozen=True, kw_only=True):
    """Where the APIs are, and where the demo reader backend finds its key."""

    query_url: str
    ingest_url: str
    demo_key_file: str = ""
    """A file holding an API key with scope `produce`; empty turns the demo backend off."""
    allowed_origins: tuple[str, ...] = ()
    """Origins besides the pages' own whose pages may post reader actions (`https://host`)."""
    max_streams: int = 2_000
    """Live streams passed through at once; each holds one upstream connection."""


def create_app(settings: WebSettings) -> Litestar:
    """The web ASGI app; one HTTP client to the APIs per process, made at startup."""
    static_assets()  # read and compress the pages and modules once, before the first request

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        limits = httpx.Limits(
            max_connections=settings.max_streams + 100, max_keepalive_connections=50
        )
        async with httpx.AsyncClient(timeout=httpx.Timeout(10.0), limits=limits) as client:
            app.state.client = client
            log.info(
                "web ready",
                query=settings.query_url,
                ingest=settings.ingest_url,
                demo_backend=bool(settings.demo_key_file),
            )
            yield

    app = Litestar(
        route_handlers=[*PAGE_ROUTES, *PASSTHROUGH_ROUTES, *READER_ROUTES],
        lifespan=[lifespan],
        state=State({"settings": settings, "streams": 0}),
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=None,
        debug=False,
        logging_config=None,
    )
    return answer_head(app)  # HEAD wherever GET works (RFC 9110)
