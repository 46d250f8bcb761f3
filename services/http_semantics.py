"""HTTP as RFC 9110 has it, for every Litestar app we serve: HEAD wherever GET works, and the
conditional-request rule the cached pages answer by.

Litestar routes HEAD only to handlers declared for it, so a GET route answers HEAD with 405.
`answer_head` wraps the app's ASGI handler, outside routing: a HEAD request is routed and served
as the GET it mirrors (same status, same headers, Content-Length included) and its body dropped.
Each `Allow` header that lists GET lists HEAD too, so 405 and OPTIONS answers say what is true.
"""

import asyncio
from typing import Any

from litestar import Litestar
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, ReceiveMessage, Scope, Send


def none_match(if_none_match: str | None, etag: str) -> bool:
    """Whether `If-None-Match` matches `etag` (RFC 9110 13.1.2): `*` matches any current
    representation; otherwise a list of entity tags, compared weakly (`"x"` and `W/"x"` match)."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    ours = _opaque(etag)
    return any(_opaque(tag) == ours for tag in _entity_tags(if_none_match))


def _opaque(tag: str) -> str:
    tag = tag.strip()
    return tag[2:] if tag.startswith("W/") else tag


def _entity_tags(header: str) -> list[str]:
    # An opaque tag may hold a comma (RFC 9110 8.8.3: any character but `"`), so the list is cut
    # on the quotes rather than on commas.
    tags: list[str] = []
    rest = header
    while True:
        start = rest.find('"')
        if start < 0:
            return tags
        end = rest.find('"', start + 1)
        if end < 0:
            return tags
        prefix = rest[:start].rstrip().rsplit(",", 1)[-1].strip()
        tags.append(("W/" if prefix == "W/" else "") + rest[start : end + 1])
        rest = rest[end + 1 :]


def _with_head(allow: bytes) -> bytes:
    methods = [m.strip() for m in allow.decode("latin-1").split(",") if m.strip()]
    if "GET" in methods and "HEAD" not in methods:
        methods.append("HEAD")
    return ", ".join(sorted(methods)).encode("latin-1")


def _allow_lists_head(message: Message) -> Message:
    if message["type"] != "http.response.start":
        return message
    headers = [
        (name, _with_head(value) if name.lower() == b"allow" else value)
        for name, value in message.get("headers", [])
    ]
    return {**message, "headers": headers}


class HeadAsGet:
    """ASGI: serve HEAD as GET without the body; list HEAD beside GET in `Allow`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Route a HEAD as its GET, send only its status and headers."""
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        if scope["method"] != "HEAD":

            async def send_allow(message: Message) -> None:
                await send(_allow_lists_head(message))

            await self.app(scope, receive, send_allow)
            return
        done = asyncio.Event()

        async def send_head(message: Message) -> None:
            if done.is_set():
                return  # the body of the GET, or the rest of an endless stream: not sent
            if message["type"] == "http.response.start":
                # The head is complete with the status and headers: a stream that would send
                # its first event only later must not hold the HEAD open until then.
                done.set()
                await send(_allow_lists_head(message))
                await send({"type": "http.response.body", "body": b"", "more_body": False})

        async def receive_head() -> ReceiveMessage:
            # Once the head is sent, the client has what it asked for: a response that goes on
            # (a live stream) is told the client left, so that it ends and releases what it holds.
            if done.is_set():
                return {"type": "http.disconnect"}
            waiting = asyncio.ensure_future(receive())
            finished = asyncio.ensure_future(done.wait())
            await asyncio.wait({waiting, finished}, return_when=asyncio.FIRST_COMPLETED)
            if waiting.done():
                finished.cancel()
                message: ReceiveMessage = waiting.result()
                return message
            waiting.cancel()
            return {"type": "http.disconnect"}

        get_scope: Any = {**scope, "method": "GET"}
        await self.app(get_scope, receive_head, send_head)


def answer_head(app: Litestar) -> Litestar:
    """`app`, answering HEAD wherever it answers GET (see the module's docstring)."""
    # Outside Litestar's own handler (routing, CORS, exception handling), since routing is what
    # refuses HEAD; Litestar has no hook before routing but this attribute.
    app.asgi_handler = HeadAsGet(app.asgi_handler)
    return app
