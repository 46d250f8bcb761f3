"""Cross-origin reads (and, where configured, writes) from front ends on other origins: CORS.

Off unless origins are configured (THREADLOG_CORS_ORIGINS: `https://news.example,https://x.org`
or `*`). Credentials (cookies, TLS client certificates) are never allowed, with `*` or without:
our APIs take a key in `Authorization`, which a page's script sets itself, so no browser
credential is ever needed, and none can be ridden by another site.

Litestar's CORSConfig was not used: it replaces a response's `Vary` (our cached pages vary on
`Accept-Encoding`, which a cache must keep seeing) and refuses a preflight from another origin
with a text/plain 400 outside our error shape. Here a preflight from an allowed origin is
answered before routing, so before admission (no key needed); any other passes on to the app,
whose OPTIONS answer carries no CORS header, which is how a browser learns the origin is refused.
"""

import msgspec
from litestar import Litestar
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

_METHODS = "GET, HEAD, POST, OPTIONS"
_EXPOSED = "ETag, Retry-After, WWW-Authenticate, Content-Encoding"
"""Headers a script may read beyond the safelisted ones: revalidation, backoff, auth errors."""


class CorsPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """Which origins' scripts may call a service, and how long a browser keeps a preflight."""

    origins: tuple[str, ...] = ()
    """Exact origins (`https://news.example`), or `*` for any; empty turns CORS off."""
    max_age_s: int = 600

    @property
    def enabled(self) -> bool:
        """Whether any origin is allowed."""
        return bool(self.origins)

    @property
    def any_origin(self) -> bool:
        """Whether every origin is allowed (`*`)."""
        return "*" in self.origins

    def allows(self, origin: str) -> bool:
        """Whether a script from `origin` may read our answers."""
        return self.any_origin or origin in self.origins


def parse_origins(value: str) -> tuple[str, ...]:
    """`THREADLOG_CORS_ORIGINS` as a tuple: comma-separated, blanks and trailing `/` dropped."""
    return tuple(o.strip().rstrip("/") for o in value.split(",") if o.strip())


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


class CrossOrigin:
    """ASGI: answer allowed preflights, and label answers to allowed origins."""

    def __init__(self, app: ASGIApp, policy: CorsPolicy) -> None:
        self.app = app
        self.policy = policy

    def _origin_headers(self, origin: str) -> list[tuple[bytes, bytes]]:
        if self.policy.any_origin:
            return [(b"access-control-allow-origin", b"*")]
        return [(b"access-control-allow-origin", origin.encode("latin-1"))]

    async def _preflight(self, scope: Scope, origin: str, send: Send) -> None:
        headers = [
            *self._origin_headers(origin),
            (b"access-control-allow-methods", _METHODS.encode()),
            (b"access-control-max-age", str(self.policy.max_age_s).encode()),
            (b"content-length", b"0"),
        ]
        requested = _header(scope, b"access-control-request-headers")
        if requested:
            # Any header may be asked for: admission decides what a request may do, not CORS.
            headers.append((b"access-control-allow-headers", requested.encode("latin-1")))
        if not self.policy.any_origin:
            headers.append((b"vary", b"Origin"))
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a preflight from an allowed origin; pass everything else on, labelled."""
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        origin = _header(scope, b"origin")
        allowed = origin is not None and self.policy.allows(origin)
        is_preflight = scope["method"] == "OPTIONS" and _header(
            scope, b"access-control-request-method"
        )
        if allowed and origin is not None and is_preflight:
            await self._preflight(scope, origin, send)
            return
        policy = self.policy

        async def labelled(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if allowed and origin is not None:
                    headers += self._origin_headers(origin)
                    headers.append((b"access-control-expose-headers", _EXPOSED.encode()))
                if not policy.any_origin:
                    # The answer depends on Origin, so a shared cache must key on it too.
                    headers.append((b"vary", b"Origin"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, labelled)


def allow_cross_origin(app: Litestar, policy: CorsPolicy) -> Litestar:
    """`app`, answering cross-origin requests as `policy` allows (unchanged when it is off)."""
    if policy.enabled:
        # Outside routing, as Litestar's own CORS is, so that a preflight needs no route or key.
        app.asgi_handler = CrossOrigin(app.asgi_handler, policy)
    return app
