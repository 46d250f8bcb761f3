"""The APIs on the pages' own origin: GET /v1/... to the query service (live streams included)
and POST /v1/events to ingest, passed through as they are.

The browser then calls the public API by its documented paths and never needs CORS; a
deployment with a reverse proxy in front may route /v1 to the services instead and drop this.
Only the headers the API reads and answers with cross; the caller's key (the console's) passes
through untouched and is never stored here. Caching and encoding headers cross both ways
(If-None-Match and Accept-Encoding up; ETag, Vary, Cache-Control and Content-Encoding back), and
bodies are relayed as sent, compressed or not: a client gets the query service's 304s and gzip.
"""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import structlog
from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.params import FromPath
from litestar.response import Stream

from services.errors import ApiError
from services.web.upstream import client, read_raw, send

log = structlog.get_logger("threadlog.web")
_REQUEST_HEADERS = (
    "authorization",
    "accept",
    "content-type",
    "content-encoding",
    "last-event-id",
    "if-none-match",
    "if-modified-since",
)
_RESPONSE_HEADERS = (
    "content-type",
    "content-encoding",
    "retry-after",
    "www-authenticate",
    "cache-control",
    "etag",
    "last-modified",
    "vary",
)
_STREAM_TIMEOUT = httpx.Timeout(10.0, read=None)
"""A stream is idle between changes (the query service sends a keep-alive every 15 s)."""


def _request_headers(request: Request[Any, Any, Any]) -> dict[str, str]:
    headers = {name: value for name in _REQUEST_HEADERS if (value := request.headers.get(name))}
    # The client's codings, or none: httpx would otherwise ask for gzip itself, and the bytes,
    # relayed as they come, would reach a client that never said it takes gzip.
    headers["accept-encoding"] = request.headers.get("accept-encoding") or "identity"
    return headers


def _response_headers(upstream: httpx.Response) -> dict[str, str]:
    return {name: value for name in _RESPONSE_HEADERS if (value := upstream.headers.get(name))}


async def _relay(upstream: httpx.Response, state: State) -> AsyncIterator[bytes]:
    state.streams += 1
    try:
        async for chunk in upstream.aiter_raw():
            yield chunk
    except httpx.TransportError as error:
        # The query process went away (a restart): end this stream; the browser's EventSource
        # reconnects with its Last-Event-ID and resumes.
        log.info("stream upstream closed", error=repr(error))
    finally:
        state.streams -= 1
        await upstream.aclose()


@get("/v1/{path:path}", include_in_schema=False)
async def read_api(request: Request[Any, Any, Any], state: State, path: FromPath[str]) -> Any:
    """Any read of the query service; a thread's live stream is relayed as it arrives."""
    url = f"{state.settings.query_url}/v1/{path.lstrip('/')}"
    is_stream = path.endswith("/stream")
    if is_stream and state.streams >= state.settings.max_streams:
        raise ApiError(
            503,
            "too_many_streams",
            f"This web process already relays {state.streams} streams; retry shortly.",
            headers={"Retry-After": "5"},
        )
    upstream = await send(
        state,
        client(state).build_request(
            "GET",
            url,
            params=request.url.query,
            headers=_request_headers(request),
            timeout=_STREAM_TIMEOUT if is_stream else httpx.USE_CLIENT_DEFAULT,
        ),
        stream=True,
    )
    if is_stream and upstream.status_code == 200:
        return Stream(
            _relay(upstream, state),
            headers={**_response_headers(upstream), "X-Accel-Buffering": "no"},
        )
    return Response(
        await read_raw(upstream),
        status_code=upstream.status_code,
        headers=_response_headers(upstream),
    )


@post("/v1/events", include_in_schema=False)
async def write_api(request: Request[Any, Any, Any], state: State) -> Response[bytes]:
    """Events to the ingest service, with the caller's own key (the console's)."""
    upstream = await send(
        state,
        client(state).build_request(
            "POST",
            f"{state.settings.ingest_url}/v1/events",
            content=await request.body(),
            headers=_request_headers(request),
        ),
        stream=True,
    )
    return Response(
        await read_raw(upstream),
        status_code=upstream.status_code,
        headers=_response_headers(upstream),
    )


PASSTHROUGH_ROUTES = [read_api, write_api]
