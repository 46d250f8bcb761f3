"""The web process's one HTTP client to the query and ingest services."""

import httpx
from litestar.datastructures import State

from services.errors import ApiError


def client(state: State) -> httpx.AsyncClient:
    """The process's HTTP client, made at startup."""
    made: httpx.AsyncClient = state.client
    return made


def _unavailable(request: httpx.Request, error: httpx.TransportError) -> ApiError:
    return ApiError(
        502,
        "upstream_unavailable",
        f"{request.url.scheme}://{request.url.netloc.decode()} did not answer"
        f" ({type(error).__name__}); is it running? `make services` starts it.",
        headers={"Retry-After": "1"},
    )


async def send(state: State, request: httpx.Request, *, stream: bool = False) -> httpx.Response:
    """Send `request` upstream; a service that does not answer is a 502 naming it."""
    try:
        return await client(state).send(request, stream=stream)
    except httpx.TransportError as error:
        raise _unavailable(request, error) from error


async def read_raw(upstream: httpx.Response) -> bytes:
    """The whole body of a streamed response as it was sent (still gzipped if it was: it is
    relayed with its Content-Encoding), then the connection back to the pool."""
    try:
        return b"".join([chunk async for chunk in upstream.aiter_raw()])
    except httpx.TransportError as error:
        raise _unavailable(upstream.request, error) from error
    finally:
        await upstream.aclose()
