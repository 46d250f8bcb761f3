"""Liveness and readiness routes, the same on both services."""

from collections.abc import Awaitable, Callable

import msgspec
from litestar import Router, get
from litestar.datastructures import State

from services.errors import ApiError
from services.openapi_docs import errors


class Health(msgspec.Struct, frozen=True):
    """`ok` when the process (healthz) or its dependencies (readyz) are fine."""

    status: str


def health_router(check: Callable[[State], Awaitable[None]], dependency: str) -> Router:
    """`/healthz` answers while the process runs; `/readyz` only when `check` passes."""

    @get("/healthz", sync_to_thread=False)
    def healthz() -> Health:
        return Health("ok")

    @get("/readyz", responses=errors({503: ["not_ready"]}))
    async def readyz(state: State) -> Health:
        try:
            await check(state)
        except Exception as error:
            raise ApiError(
                503,
                "not_ready",
                f"{dependency} is not reachable: {error or type(error).__name__}",
                headers={"Retry-After": "1"},
            ) from error
        return Health("ok")

    # In the document, so that clients and probes see them; they need no key (security: []).
    return Router(path="/", route_handlers=[healthz, readyz])
