"""Who may call which route, and how often: admission, the per-key rate limit, the in-flight bound.

Each service names its routes' needs with a rule function, (method, path) -> Rule:
    "open"      no key looked at (probes, the OpenAPI document)
    "optional"  public read: no key needed, but a key sent must be valid (and is rate limited)
    "key"       any valid key; the handler may ask for more (ingest checks each event's scope)
    a Scope     a valid key holding that scope (or admin)
"""

import re
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, Literal

import structlog
from litestar import Litestar, Request
from litestar.connection import ASGIConnection
from litestar.middleware import DefineMiddleware
from litestar.types import Receive
from litestar.types import Scope as AsgiScope

from services.auth.api_keys import ApiKey, bearer_token
from services.auth.inflight import Hook, Inflight, InflightLimit
from services.auth.key_cache import AuthSettings, KeyCache, KeysUnavailable
from services.auth.scopes import IMPORT, SCOPES, Scope, grants, missing_event_scopes
from services.auth.token_bucket import RateLimiter, retry_after
from services.errors import ApiError, ErrorDetail

log = structlog.get_logger("threadlog.auth")

Rule = Literal["open", "optional", "key"] | Scope
RuleFor = Callable[[str, str], Rule]
"""(HTTP method, path) -> what the route needs."""

_OPEN_PATHS = frozenset({"/healthz", "/readyz"})
_CHALLENGE = 'Bearer realm="threadlog"'
_NOTIFICATIONS = re.compile(r"/v1/authors/[^/]+/notifications(?:/read)?")


def _is_open(path: str) -> bool:
    return path in _OPEN_PATHS or path == "/schema" or path.startswith("/schema/")


def _is_notifications(path: str) -> bool:
    # An author's notifications are theirs alone: the widget's backend, which signed its reader
    # in, lists and marks them for that reader with its key (a write, but not an operator's).
    return _NOTIFICATIONS.fullmatch(path) is not None


def _asks_nothing(method: str, path: str) -> bool:
    # OPTIONS only asks which methods a route has (and, with CORS, whether a script may call
    # it): no data is served, so no key is looked at (a browser's preflight never sends one).
    return method == "OPTIONS" or _is_open(path)


def ingest_rule(method: str, path: str) -> Rule:
    """Ingest: every write needs a key; which scope depends on the events (see the handler)."""
    return "open" if _asks_nothing(method, path) else "key"


def query_rule(reads_require_key: bool) -> RuleFor:
    """Query: reads are public unless `reads_require_key`; the moderation queue needs `moderate`;
    an author's notifications (read or marked read) need `produce`; anything else but a read is
    an operator's action."""

    def rule(method: str, path: str) -> Rule:
        if _asks_nothing(method, path):
            return "open"
        if path == "/v1/moderation" or path.startswith("/v1/moderation/"):
            return "moderate"
        if _is_notifications(path):
            return "produce"
        if method in ("GET", "HEAD"):
            return "key" if reads_require_key else "optional"
        return "operate"

    return rule


def _refuse(
    connection: ASGIConnection[Any, Any, Any, Any],
    error: ApiError,
    key: ApiKey | None,
) -> ApiError:
    # The key's name, never the key: logs are read by more people than keys are shown to.
    log.warning(
        "request refused",
        status=error.status,
        code=error.code,
        key=key.name if key else None,
        method=connection.scope.get("method"),
        # Cut: a refused URL can be megabytes long, and a log line should not be.
        path=connection.scope["path"][:200],
    )
    return error


class Admission:
    """The key cache, the rate limiter and the in-flight bound of one app, and its middleware."""

    def __init__(
        self,
        settings: AuthSettings,
        rule: RuleFor,
        clock: Callable[[], float] = time.monotonic,
        wait: Hook | None = None,
    ) -> None:
        """`wait`, if given, runs after admission and before a request takes its slot."""
        self.settings = settings
        self.rule = rule
        self.clock = clock
        self.keys = KeyCache(settings, clock)
        self.limiter = RateLimiter(settings.rate_per_s, settings.burst)
        self.middleware = DefineMiddleware(
            InflightLimit, gate=Inflight(settings.max_inflight), admit=self.admit, wait=wait
        )

    @asynccontextmanager
    async def lifespan(self, _: Litestar) -> AsyncIterator[None]:
        """Read the keys at startup and keep them fresh while the app runs."""
        await self.keys.start()
        try:
            yield
        finally:
            await self.keys.stop()

    def _authenticate(
        self, connection: ASGIConnection[Any, Any, Any, Any], rule: Rule
    ) -> ApiKey | None:
        token = bearer_token(connection.headers.get("authorization"))
        if token is None:
            if rule == "optional":
                return None
            raise _refuse(
                connection,
                ApiError(
                    401,
                    "unauthorized",
                    "This endpoint needs an API key: send `Authorization: Bearer <key>`."
                    " An operator makes one with `threadlog keys create`.",
                    headers={"WWW-Authenticate": _CHALLENGE},
                ),
                None,
            )
        try:
            key = self.keys.lookup(token)
        except KeysUnavailable as error:
            raise _refuse(
                connection,
                ApiError(
                    503,
                    "auth_unavailable",
                    f"Cannot check API keys: {error}. Retry shortly.",
                    headers={"Retry-After": "1"},
                ),
                None,
            ) from error
        if key is None:
            raise _refuse(
                connection,
                ApiError(
                    401,
                    "unauthorized",
                    "The API key is unknown or revoked; ask an operator for a valid one.",
                    headers={"WWW-Authenticate": _CHALLENGE + ', error="invalid_token"'},
                ),
                None,
            )
        return key

    async def admit(self, scope: AsgiScope, receive: Receive) -> None:
        """Refuse with 400, 401, 403, 414 or 429, or let the request through with its key in
        `connection.state.api_key` (None for an anonymous public read)."""
        connection: ASGIConnection[Any, Any, Any, Any] = ASGIConnection(scope, receive)
        path = connection.scope["path"]
        rule = self.rule(str(connection.scope.get("method", "GET")), path)
        if rule == "open":
            return
        url_chars = len(connection.scope.get("raw_path", b"")) + len(
            connection.scope.get("query_string", b"")
        )
        if url_chars > self.settings.max_url_chars:
            raise _refuse(
                connection,
                ApiError(
                    414,
                    "uri_too_long",
                    f"The URL is {url_chars} characters long; at most"
                    f" {self.settings.max_url_chars} are accepted.",
                ),
                None,
            )
        if "\x00" in path or b"%00" in connection.scope.get("query_string", b""):
            # PostgreSQL text cannot hold NUL: refused here once for every route and parameter,
            # rather than as a database error (a 500) in whichever query meets it first.
            raise _refuse(
                connection,
                ApiError(
                    400,
                    "invalid_parameter",
                    "NUL characters (%00) are not allowed in the path or the query string.",
                    [ErrorDetail(field="url", message="NUL characters are not allowed")],
                ),
                None,
            )
        key = self._authenticate(connection, rule)
        connection.state.api_key = key
        if key is None:
            return
        if rule in SCOPES and not grants(key.scopes, rule):
            raise _refuse(
                connection,
                ApiError(
                    403,
                    "forbidden",
                    f"Key {key.name!r} lacks the {rule!r} scope this endpoint needs.",
                    [ErrorDetail(field="scope", message=f"needs scope {rule!r}")],
                ),
                key,
            )
        wait = self.limiter.admit(key.name, self.clock())
        if wait:
            raise _refuse(
                connection,
                ApiError(
                    429,
                    "rate_limited",
                    f"Key {key.name!r} is over its rate limit of {self.settings.rate_per_s:g}"
                    f" requests/s (bursts of {self.settings.burst:g}); retry after the"
                    " Retry-After seconds.",
                    headers={"Retry-After": retry_after(wait)},
                ),
                key,
            )


def require_event_scopes(
    request: Request[Any, Any, Any], types: Sequence[str], imported: Sequence[bool] = ()
) -> ApiKey:
    """The request's key, if it may post events of these types (`imported[i]`: event i carries
    the import mark, which needs `import`); else 403 naming each event and the field at fault."""
    key: ApiKey | None = request.state.get("api_key")
    if key is None:
        # Admission puts a key there on every route with the "key" rule; no key means the app
        # was wired without it, which must not silently accept events.
        raise RuntimeError("require_event_scopes on a route without Admission's middleware")
    missing = missing_event_scopes(key.scopes, types, imported)
    if missing:
        needed = sorted({scope for _, scope in missing})
        raise _refuse(
            request,
            ApiError(
                403,
                "forbidden",
                f"Key {key.name!r} lacks the scope(s) {', '.join(needed)} that {len(missing)}"
                " event(s) of the request need; nothing was appended.",
                [
                    ErrorDetail(
                        field="importedfrom" if scope == IMPORT else "type",
                        index=index,
                        message=f"{types[index]} marked as imported needs scope {scope!r}"
                        if scope == IMPORT
                        else f"{types[index]} needs scope {scope!r}",
                    )
                    for index, scope in missing
                ],
            ),
            key,
        )
    return key
