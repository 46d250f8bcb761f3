"""POST /v1/events as a plain ASGI route, ahead of Litestar's routing; every other request
(and every other method on that path) still goes to Litestar.

Why: a single-event POST cost about 300 µs of CPU, half of it in Litestar and the server, and
a bare Litestar endpoint alone measured 67-187 µs against 32-39 µs for a plain ASGI one. This
route skips Litestar's router, its handler signature parsing and its response machinery, and
keeps everything that decides the answer by calling the same code Litestar's route runs:

- the in-flight bound and admission (`InflightLimit` with the app's own gate and `admit`);
- the body limit as Litestar applies it (the announced Content-Length, then the bytes read);
- `accept` (services/ingest/accept.py), the body of Litestar's route handler;
- errors answered by the app's exception handlers (services/errors.py) through Litestar's own
  Response, so their bytes are Litestar's; CORS labels through the same `CrossOrigin`.

Litestar's route stays: it documents the operation (OpenAPI) and answers when this route is
taken out, which is how tests/integration/test_ingest_events_route.py holds the two to the same
answers.
"""

import math
from typing import Any, Final

import msgspec
from litestar import Litestar, Request
from litestar.enums import ScopeType
from litestar.exceptions import ClientException, InternalServerException
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.types import ASGIApp, Receive, Scope, Send

from services.auth.inflight import InflightLimit
from services.cors import CrossOrigin
from services.errors import EXCEPTION_HANDLERS
from services.ingest.accept import AcceptedEvents, accept
from services.ingest.settings import IngestSettings

PATH: Final = "/v1/events"

_encode = msgspec.json.Encoder().encode
_JSON: Final = (b"content-type", b"application/json")


async def read_body(scope: Scope, receive: Receive, max_bytes: int) -> bytes:
    """The request's body, refused as Litestar's `Request.stream` refuses it: 413 when the
    announced Content-Length or the bytes received pass `max_bytes` (0: no limit), 400 for a
    Content-Length that is not a number, 500 when the client leaves before the end."""
    limit: float = max_bytes or math.inf
    for name, value in scope["headers"]:
        if name == b"content-length":
            announced = value.decode("latin-1")
            try:
                length = int(announced)
            except ValueError:
                raise ClientException(f"Invalid content-length: {announced!r}") from None
            if length > limit:
                raise RequestEntityTooLarge
            break
    chunks: list[bytes] = []
    received = 0
    while message := await receive():
        if message["type"] == "http.request":
            chunk = message["body"]
            if chunk:
                received += len(chunk)
                if received > limit:
                    raise RequestEntityTooLarge
                chunks.append(chunk)
            if not message.get("more_body", False):
                break
        if message["type"] == "http.disconnect":
            raise InternalServerException("client disconnected prematurely")
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


class _Endpoint:
    """The route itself, behind the in-flight bound and admission: read, accept, answer 202."""

    def __init__(self, app: Litestar, settings: IngestSettings) -> None:
        self.state = app.state
        self.max_body_bytes = settings.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await read_body(scope, receive, self.max_body_bytes)
        accepted: AcceptedEvents = await accept(Request(scope, receive), body, self.state)
        content = _encode(accepted)
        await send(
            {
                "type": "http.response.start",
                "status": 202,
                "headers": [_JSON, (b"content-length", str(len(content)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": content, "more_body": False})


class _Answered:
    """Errors answered as Litestar's exception middleware answers them: the app's handler for
    the exception's class, its Response rendered by Litestar."""

    def __init__(self, app: Litestar, route: ASGIApp) -> None:
        self.app = app
        self.route = route

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.route(scope, receive, send)
        except Exception as error:
            # Nothing is sent before the route is done: the error is always the whole answer.
            handler = next(
                EXCEPTION_HANDLERS[cls] for cls in type(error).__mro__ if cls in EXCEPTION_HANDLERS
            )
            request: Request[Any, Any, Any] = Request(scope, receive, send)
            response = handler(request, error)
            asgi = response.to_asgi_response(
                app=None, request=request, type_encoders=self.app.type_encoders
            )
            await asgi(scope, receive, send)


class EventsRoute:
    """ASGI: POST /v1/events to the plain route, anything else to `fallback` (Litestar)."""

    def __init__(self, route: ASGIApp, fallback: ASGIApp) -> None:
        self.route = route
        self.fallback = fallback

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Dispatch on the method and the exact path."""
        if scope["type"] != ScopeType.HTTP:
            await self.fallback(scope, receive, send)
        elif scope["method"] == "POST" and scope["path"] == PATH:
            await self.route(scope, receive, send)
        else:
            await self.fallback(scope, receive, send)


def serve_events_plainly(app: Litestar, settings: IngestSettings, gate: dict[str, Any]) -> Litestar:
    """`app`, with POST /v1/events served by the plain route; `gate` holds the keyword arguments
    of the app's `InflightLimit` (its shared gate and its `admit`)."""
    route: ASGIApp = _Answered(app, InflightLimit(_Endpoint(app, settings), **gate))
    if settings.cors.enabled:
        route = CrossOrigin(route, settings.cors)
    app.asgi_handler = EventsRoute(route, app.asgi_handler)
    return app
