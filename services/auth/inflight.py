"""A bound on the requests a process serves at once: past it, 503 at once instead of a queue.

A slow Kafka or Postgres makes requests wait; without a bound they pile up in memory (each with
its body, up to the size limit). With it, memory stays under `limit` requests' worth, and clients
are told to come back.
"""

from collections.abc import Awaitable, Callable

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from services.errors import ApiError

_PROBES = frozenset({"/healthz", "/readyz"})


class Inflight:
    """The count of requests in progress in one app, shared by the middleware of every route."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.count = 0


class InflightLimit:
    """ASGI middleware: at most `gate.limit` HTTP requests in progress; probes are never refused.
    A request let in is then `admit`ted (keys, scopes, rate limits), if given.

    Litestar builds one instance per route, hence the shared `gate`. Admission runs here rather
    than as a Litestar guard: a guard is called with a copy of the route handler, which cost a
    tenth of a single-event POST.
    """

    def __init__(
        self,
        app: ASGIApp,
        gate: Inflight,
        admit: Callable[[Scope, Receive], Awaitable[None]] | None = None,
    ) -> None:
        self.app = app
        self.gate = gate
        self.admit = admit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request, or refuse it with 503 `overloaded` when the gate is full."""
        handler = scope.get("route_handler")
        if (
            scope["type"] != ScopeType.HTTP
            or scope["path"] in _PROBES
            # Long-lived routes (live streams) bound themselves; they would starve the gate.
            or (handler is not None and handler.opt.get("inflight_exempt"))
        ):
            await self.app(scope, receive, send)
            return
        gate = self.gate
        if gate.count >= gate.limit:
            raise ApiError(
                503,
                "overloaded",
                f"{gate.limit} requests are already in progress; retry shortly.",
                headers={"Retry-After": "1"},
            )
        gate.count += 1
        try:
            if self.admit is not None:
                await self.admit(scope, receive)
            await self.app(scope, receive, send)
        finally:
            gate.count -= 1
