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


Hook = Callable[[Scope, Receive], Awaitable[None]]
"""Called with a request's scope; refuses it by raising an ApiError."""


class InflightLimit:
    """ASGI middleware: at most `gate.limit` HTTP requests in progress; probes are never refused.
    A request is first `admit`ted (keys, scopes, URL, rate limits), if given, then may `wait`
    (for a read model to catch up) without holding a slot, then takes one.

    Litestar builds one instance per route, hence the shared `gate`. Admission runs here rather
    than as a Litestar guard: a guard is called with a copy of the route handler, which cost a
    tenth of a single-event POST.
    """

    def __init__(
        self, app: ASGIApp, gate: Inflight, admit: Hook | None = None, wait: Hook | None = None
    ) -> None:
        self.app = app
        self.gate = gate
        self.admit = admit
        self.wait = wait

    def _check(self) -> None:
        if self.gate.count >= self.gate.limit:
            raise ApiError(
                503,
                "overloaded",
                f"{self.gate.limit} requests are already in progress; retry shortly.",
                headers={"Retry-After": "1"},
            )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request, or refuse it with 503 `overloaded` when the gate is full."""
        if scope["type"] != ScopeType.HTTP or scope["path"] in _PROBES:
            await self.app(scope, receive, send)
            return
        handler = scope.get("route_handler")
        # Long-lived routes (live streams) bound themselves; they would starve the gate. They
        # are admitted all the same: a slot is about load, admission about who may ask.
        exempt = handler is not None and bool(handler.opt.get("inflight_exempt"))
        if not exempt:
            self._check()  # before any work: an overloaded process refuses at the cheapest point
        if self.admit is not None:
            await self.admit(scope, receive)
        if self.wait is not None:
            # A wait lasts up to seconds and costs a future, not a request's work: it has its
            # own bound, so that waiting readers cannot take every slot.
            await self.wait(scope, receive)
        if exempt:
            await self.app(scope, receive, send)
            return
        self._check()
        gate = self.gate
        gate.count += 1
        try:
            await self.app(scope, receive, send)
        finally:
            gate.count -= 1
