"""The pages and their assets: the thread at /articles/{id} (also the widget's frame), the
moderation console at /moderation, the widget's loader at /embed.js, and /static/*.

Pages are HTML shells, filled in by small hand-written ES modules; bodies are only ever set
as text. The Content-Security-Policy allows scripts and styles from this origin alone, so even
markup that slipped into the page could run nothing.
"""

import html
from importlib.resources import files
from string import Template

from litestar import Response, get
from litestar.datastructures import State
from litestar.params import FromPath
from litestar.response import Redirect
from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler

from services.health import health_router
from services.web.upstream import client

STATIC = files("services.web") / "static"
_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self';"
    " img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors {ancestors}"
)


def _page(name: str, ancestors: str, **values: str) -> Response[str]:
    text = Template((STATIC / name).read_text()).substitute(
        {key: html.escape(value, quote=True) for key, value in values.items()}
    )
    return Response(
        text,
        media_type="text/html",
        headers={
            "Content-Security-Policy": _CSP.format(ancestors=ancestors),
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin",
        },
    )


@get("/articles/{article_id:str}", include_in_schema=False, sync_to_thread=False)
def thread_page(article_id: FromPath[str]) -> Response[str]:
    """The article's live thread: a page of its own, and the frame the widget embeds."""
    # Embeddable anywhere: that is what the widget is for.
    return _page("thread.html", "*", article_id=article_id)


@get("/moderation", include_in_schema=False, sync_to_thread=False)
def console_page() -> Response[str]:
    """The moderation console; never framed by another page (it acts with a moderator's key)."""
    return _page("moderation.html", "'none'")


@get("/embed.js", include_in_schema=False, sync_to_thread=False)
def embed_script() -> Response[bytes]:
    """The widget's loader: `<script src=".../embed.js" data-article-id="..."></script>`."""
    return Response(
        (STATIC / "embed.js").read_bytes(),
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"},
    )


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
    home,
    create_static_files_router(
        path="/static",
        directories=[str(STATIC)],
        cache_control=None,
        include_in_schema=False,
        send_as_attachment=False,
    ),
    health_router(_query_ready, "the query service"),
]
