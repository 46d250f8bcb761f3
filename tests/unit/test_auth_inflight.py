"""The in-flight bound: past its limit a request is refused at once, and probes always pass."""

import asyncio
from typing import Any

import pytest

from services.auth.inflight import Inflight, InflightLimit
from services.errors import ApiError


async def test_requests_past_the_limit_are_refused_with_503_and_probes_pass() -> None:
    """With one request in progress and a limit of one, the next gets 503 `overloaded` at once;
    /healthz still answers; once the first finishes, a request passes again."""
    release = asyncio.Event()
    served: list[str] = []

    async def slow_app(scope: Any, receive: Any, send: Any) -> None:
        served.append(scope["path"])
        if scope["path"] == "/slow":
            await release.wait()

    gate = Inflight(1)
    limit = InflightLimit(slow_app, gate)
    nothing: Any = None

    def http(path: str) -> Any:
        return {"type": "http", "path": path}

    first = asyncio.create_task(limit(http("/slow"), nothing, nothing))
    await asyncio.sleep(0)
    with pytest.raises(ApiError) as refused:
        await limit(http("/v1/events"), nothing, nothing)
    assert (refused.value.status, refused.value.code) == (503, "overloaded")
    assert refused.value.headers == {"Retry-After": "1"}
    await limit(http("/healthz"), nothing, nothing)
    release.set()
    await first
    await limit(http("/v1/events"), nothing, nothing)
    assert served == ["/slow", "/healthz", "/v1/events"]
    assert gate.count == 0


class _Handler:
    """A route handler as the middleware sees it: only its `opt`."""

    def __init__(self, **opt: Any) -> None:
        self.opt = opt


async def test_an_exempt_route_is_admitted_but_takes_no_slot() -> None:
    """A long-lived route (a live stream) skips the slot count, not admission: a refused key is
    refused there too, and it is served while every slot is taken."""
    refused: list[str] = []

    async def admit(scope: Any, receive: Any) -> None:
        if scope.get("key") == "made-up":
            refused.append(scope["path"])
            raise ApiError(401, "unauthorized", "unknown key")

    async def app(scope: Any, receive: Any, send: Any) -> None:
        pass

    gate = Inflight(0)  # every slot taken
    limit = InflightLimit(app, gate, admit=admit)
    nothing: Any = None
    stream: Any = {"type": "http", "path": "/v1/articles/a/stream", "route_handler": _Handler(
        inflight_exempt=True)}  # fmt: skip
    made_up: Any = {**stream, "key": "made-up"}
    with pytest.raises(ApiError) as error:
        await limit(made_up, nothing, nothing)
    assert error.value.status == 401
    await limit(stream, nothing, nothing)
    assert refused == ["/v1/articles/a/stream"]


async def test_a_wait_holds_no_slot() -> None:
    """A request waiting (for a read model to catch up) does not count against the slots: with
    one slot and a request waiting, another request is served."""
    release = asyncio.Event()

    async def wait(scope: Any, receive: Any) -> None:
        if scope["path"] == "/waits":
            await release.wait()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        pass

    gate = Inflight(1)
    limit = InflightLimit(app, gate, wait=wait)
    nothing: Any = None
    waits: Any = {"type": "http", "path": "/waits"}
    other: Any = {"type": "http", "path": "/v1/counts"}
    waiting = asyncio.create_task(limit(waits, nothing, nothing))
    await asyncio.sleep(0)
    assert gate.count == 0
    await limit(other, nothing, nothing)
    release.set()
    await waiting
    assert gate.count == 0
