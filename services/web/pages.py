"""The pages and their assets: the thread at /articles/{id} (also the widget's frame), the
moderation console at /moderation, the widget's loader at /embed.js, and /static/*.

Pages are HTML shells, filled in by small hand-written ES modules; bodies are only ever set
as text. The Content-Security-Policy allows scripts and styles from this origin alone, so even
markup that slipped into the page could run nothing.
"""

import html
from string import Template
from typing import Any

from litestar import HttpMethod, Request, Response, get, route
from litestar.datastructures import State
from litestar.params import FromPath
from litestar.response import Redirect
from litestar.types import ControllerRouterHandler

from services.errors import ApiError
from services.health import health_router
from services.web.assets import Asset, static_assets
from services.web.upstream import client

_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self';"
    " img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors {ancestors}"
)


def _page(
    request: Request[Any, Any, Any], name: str, ancestors: str, **values: str
) -> Response[bytes]:
    # A page differs by its values only; filling and compressing 2-3 KB costs microseconds.
    text = Template(static_assets()[name].body.decode()).substitute(
        {key: html.escape(value, quote=True) for key, value in values.items()}
    )
    return Asset.of(text.encode(), "text/html").response(
        request.headers,
        {
            "Content-Security-Policy": _CSP.format(ancestors=ancestors),
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin",
        },
    )


@get("/articles/{article_id:str}", include_in_schema=False, sync_to_thread=False)
def thread_page(request: Request[Any, Any, Any], article_id: FromPath[str]) -> Response[bytes]:
    """The article's live thread: a page of its own, and the frame the widget embeds."""
    # Embeddable anywhere: that is what the widget is for.
    return _page(request, "thread.html", "*", article_id=article_id)


@get("/moderation", include_in_schema=False, sync_to_thread=False)
def console_page(request: Request[Any, Any, Any]) -> Response[bytes]:
    """The moderation console; never framed by another page (it acts with a moderator's key)."""
    return _page(request, "moderation.html", "'none'")


@get("/embed.js", include_in_schema=False, sync_to_thread=False)
def embed_script(request: Request[Any, Any, Any]) -> Response[bytes]:
    """The widget's loader: `<script src=".../embed.js" data-article-id="..."></script>`."""
    # Other sites' pages load it: let their readers' browsers keep it 5 minutes unasked.
    return static_assets()["embed.js"].response(
        request.headers,
        {"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"},
    )


# HEAD too, as Litestar's static files router answered it; the server sends HEAD no body.
@route(
    "/static/{name:str}",
    http_method=[HttpMethod.GET, HttpMethod.HEAD],
    include_in_schema=False,
    sync_to_thread=False,
)
def static_file(request: Request[Any, Any, Any], name: FromPath[str]) -> Response[bytes]:
    """A module, style sheet or page template of services/web/static, by its file name."""
    asset = static_assets().get(name)
    if asset is None:
        raise ApiError(404, "not_found", f"No file {name!r} under /static.")
    return asset.response(request.headers, {"X-Content-Type-Options": "nosniff"})


@get("/", include_in_schema=False, sync_to_thread=False)
def home() -> Redirect:
    """The console is the one page without an article to name."""
    return Redirect("/moderation")


async def _query_ready(state: State) -> None:
    answer = await client(state).get(f"{state.settings.query_url}/readyz", timeout=2)
    answer.raise_for_status()


PAGE_ROUTES: list[ControllerRouterHandler] = [
    thread_page,
    console_page,
    embed_script,
    static_file,
    home,
    health_router(_query_ready, "the query service"),
]
