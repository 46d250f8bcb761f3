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
