"""Who may send the reader backend an action: a script of the pages' own origin (or of an origin
the operator named), sending JSON.

The backend acts with a key the browser never sees, so a request it accepts is one it vouches
for. A page on another site can make the reader's browser post to it; two checks refuse that:
- `application/json` only: a cross-site HTML form can send text/plain, urlencoded or multipart
  bodies but never JSON, and a cross-site script sending JSON must first pass a CORS preflight,
  which this process never grants.
- the `Origin` header, which browsers send with every POST and which a page cannot forge: the
  pages' own origin or one of `WebSettings.allowed_origins`. A request without it (not from a
  browser) is refused too: the backend exists for the pages.
"""

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from services.errors import ApiError, ErrorDetail


def _own_origin(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    return f"{connection.url.scheme}://{connection.headers.get('host', '')}"


def json_from_the_pages(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """A route guard (it runs before the body is read): 415 unless the body is JSON, 403 unless
    the request comes from the pages' origin or an allowed one."""
    media_type = connection.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise ApiError(
            415,
            "unsupported_media_type",
            f"Reader actions are JSON: send `Content-Type: application/json`, not"
            f" {media_type or 'no content type'!r}.",
            [ErrorDetail(field="content-type", message="must be application/json")],
        )
    origin = connection.headers.get("origin")
    allowed: tuple[str, ...] = connection.app.state.settings.allowed_origins
    if origin is None or (origin != _own_origin(connection) and origin not in allowed):
        raise ApiError(
            403,
            "forbidden_origin",
            f"Reader actions are taken only from the pages' own origin or an allowed one, not"
            f" from {origin or 'a request without an Origin header'!r}; an operator allows a"
            " site with THREADLOG_WEB_ALLOWED_ORIGINS.",
            [ErrorDetail(field="origin", message="not the pages' origin nor an allowed one")],
        )
