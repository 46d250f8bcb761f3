"""`POST /v1/events` is served by a plain ASGI route ahead of Litestar, for speed
(services/ingest/events_route.py); these tests hold it to what Litestar's route answers.

Two apps with the same settings take the same requests in the same order: one as served, the
other with the plain route taken out, so that Litestar's route (`post_events`) answers. Every
status, header and body must be the same, but for the offsets Kafka gives each append.
"""

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import msgspec
from litestar import Litestar

from services.ingest import create_app
from services.ingest.events_route import EventsRoute
from tests.integration.conftest import MakeKey, eventually
from threadlog.settings import Settings

Message = dict[str, Any]
Request = tuple[str, str, list[tuple[bytes, bytes]], list[bytes]]
"""Method, path with query, headers, and the body as the chunks the client sends."""

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
ORIGIN = "https://news.example"


def _event(kind: str, n: int, **data: Any) -> dict[str, Any]:
    base = {"article_id": "art-route", "comment_id": f"c{n}"}
    return {"id": f"route-{kind}-{n}", "type": kind, "data": base | data}


def _post(n: int, **data: Any) -> dict[str, Any]:
    return _event("CommentPosted", n, **({"author_id": "ana", "body": f"comment {n}"} | data))


def _json(value: Any) -> bytes:
    return msgspec.json.encode(value)


def _corpus(admin: str, producer: str) -> list[Request]:
    """Every answer the route gives: each content mode, each refusal."""
    ct_json = (b"content-type", b"application/json")
    auth = (b"authorization", f"Bearer {admin}".encode())
    plain = [ct_json, auth]
    binary = [
        ct_json,
        auth,
        (b"ce-specversion", b"1.0"),
        (b"ce-type", b"CommentPosted"),
        (b"ce-id", b"route-binary-1"),
        (b"ce-source", b"/cms%20desk"),
        (b"ce-time", b"2019-06-05T10:12:00Z"),
    ]
    structured = {"specversion": "1.0", **_post(40)}
    anonymous = {k: v for k, v in _post(41).items() if k != "id"}
    return [
        ("POST", "/v1/events", plain, [_json(_post(1))]),
        ("POST", "/v1/events", plain, [_json([_post(2), _post(3), _post(4)])]),
        ("POST", "/v1/events", plain, [_json(anonymous)]),
        (
            "POST",
            "/v1/events",
            binary,
            [
                _json(
                    {
                        "article_id": "art-route",
                        "comment_id": "c5",
                        "author_id": "ana",
                        "body": "binary",
                    }
                )
            ],
        ),
        (
            "POST",
            "/v1/events",
            [(b"content-type", b"application/cloudevents+json"), auth],
            [_json(structured)],
        ),
        (
            "POST",
            "/v1/events",
            [(b"content-type", b"application/cloudevents-batch+json; charset=utf-8"), auth],
            [_json([structured | {"id": "route-batch-1"}])],
        ),
        ("POST", "/v1/events", [auth], [_json(_post(6))]),  # no content type
        ("POST", "/v1/events?x=1", plain, [b"[", _json(_post(7)), b"]"]),  # in chunks
        ("POST", "/v1/events", [(b"content-type", b"text/plain"), auth], [b"hello"]),
        ("POST", "/v1/events", plain, [b"{not json"]),
        ("POST", "/v1/events", plain, [b"[" * 5000 + b"]" * 5000]),
        ("POST", "/v1/events", plain, [b""]),
        ("POST", "/v1/events", plain, [_json({"type": "CommentPosted"})]),
        ("POST", "/v1/events", plain, [_json([_post(8), _post(9, body=""), {"type": "Nope"}])]),
        ("POST", "/v1/events", [*binary[:2], (b"ce-specversion", b"2.0")], [b"{}"]),
        ("POST", "/v1/events", [ct_json], [_json(_post(10))]),
        (
            "POST",
            "/v1/events",
            [ct_json, (b"authorization", b"Bearer tl_unknown")],
            [_json(_post(11))],
        ),
        ("POST", "/v1/events", [ct_json, (b"authorization", b"Basic abc")], [_json(_post(12))]),
        (
            "POST",
            "/v1/events",
            [ct_json, (b"authorization", f"Bearer {producer}".encode())],
            [
                _json(
                    [_post(13), _event("CommentModerated", 13, action="approve", moderator_id="m")]
                )
            ],
        ),
        (
            "POST",
            "/v1/events",
            [ct_json, (b"authorization", f"Bearer {producer}".encode())],
            [_json(_event("CommentDeleted", 13, deleted_by="m", moderator=True))],
        ),
        ("POST", "/v1/events", [*plain, (b"content-length", b"999999")], [b"[]"]),
        ("POST", "/v1/events", plain, [b"[" + b" " * 3000, b" " * 3000 + b"]"]),
        ("POST", "/v1/events", [*plain, (b"content-length", b"abc")], [b"[]"]),
        ("POST", "/v1/events?q=%00", plain, [_json(_post(14))]),
        ("POST", "/v1/events?q=" + "x" * 5000, plain, [_json(_post(15))]),
        ("POST", "/v1/events", plain, [_json(_post(16, body="x" * 1800))]),
        ("POST", "/v1/events", [*plain, (b"origin", ORIGIN.encode())], [_json(_post(17))]),
        ("POST", "/v1/events", [*plain, (b"origin", b"https://evil.example")], [b"{"]),
        ("POST", "/v1/events", [*plain, (b"origin", ORIGIN.encode())], [b"{"]),
        (
            "POST",
            "/v1/events",
            plain,
            [
                _json(
                    [
                        _event("CommentFlagged", 1, flagger_id="f1", reason="spam"),
                        _event("CommentFlagged", 2, flagger_id="f1", reason="spam"),
                    ]
                )
            ],
        ),
        (
            "POST",
            "/v1/events",
            plain,
            [_json(_event("CommentFlagged", 3, flagger_id="f1", reason="spam"))],
        ),
        ("POST", "/v1/events/", plain, [_json(_post(18))]),
        ("POST", "/v1/event", plain, [_json(_post(19))]),
        ("GET", "/v1/events", plain, [b""]),
        ("HEAD", "/v1/events", plain, [b""]),
        (
            "OPTIONS",
            "/v1/events",
            [(b"origin", ORIGIN.encode()), (b"access-control-request-method", b"POST")],
            [b""],
        ),
        ("OPTIONS", "/v1/events", [], [b""]),
        ("POST", "/healthz", plain, [b""]),
        *[("POST", "/v1/events", plain, [_json(_post(100 + n))]) for n in range(30)],
    ]


async def _call(app: Litestar, request: Request) -> list[Message]:
    """Send one request to the ASGI app as a server would; the messages it answers with."""
    method, target, headers, chunks = request
    path, _, query = target.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"ingest.test"), *headers],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8001),
        "state": {},
    }
    messages = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks)
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(dict(message))

    await app(scope, receive, send)  # type: ignore[arg-type]
    return sent


def _normal(messages: list[Message]) -> list[Message]:
    """The messages with what Kafka decides (offsets) and what is generated (ids) masked; the
    body's length checked against its Content-Length."""
    out = []
    start = next(m for m in messages if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    headers = [(bytes(k), bytes(v)) for k, v in start["headers"]]
    for name, value in headers:
        if name == b"content-length" and start["status"] != 204:
            assert int(value) == len(body) or not body
    headers = [(k, v) for k, v in headers if k != b"content-length"]
    if start["status"] == 202:
        accepted = msgspec.json.decode(body)["accepted"]
        for item in accepted:
            assert item["position"] == f"{item['partition']}:{item['offset']}"
            item["offset"] = item["position"] = "<kafka>"
            item["id"] = _UUID.sub("<uuid>", item["id"])
        body = _json(accepted)
    out.append({"status": start["status"], "headers": headers})
    out.append({"body": body, "trailers": start.get("trailers", False)})
    return out


@asynccontextmanager
async def _running(app: Litestar) -> AsyncIterator[None]:
    """`app` started (its lifespan run) on this test's own loop, where the requests run too,
    until it answers /readyz; shut down after."""
    inbox: asyncio.Queue[Message] = asyncio.Queue()
    outbox: asyncio.Queue[Message] = asyncio.Queue()
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    lifespan = asyncio.create_task(app(scope, inbox.get, outbox.put))  # type: ignore[arg-type]
    await inbox.put({"type": "lifespan.startup"})
    assert (await outbox.get())["type"] == "lifespan.startup.complete"

    async def ready() -> bool:
        answer = await _call(app, ("GET", "/readyz", [], [b""]))
        return bool(answer[0]["status"] == 200)

    try:
        await eventually(ready, what="ingest to connect to Kafka")
        yield
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        await lifespan


def _litestar_only(app: Litestar) -> Litestar:
    """`app` with its plain route taken out: Litestar's route answers POST /v1/events."""
    route = app.asgi_handler
    assert isinstance(route, EventsRoute)
    app.asgi_handler = route.fallback
    return app


async def _compare(settings: Settings, corpus: list[Request], **limits: Any) -> list[int]:
    """Each request's status, once both apps (the ingest settings with `limits`) answered it
    alike."""
    ingest = msgspec.structs.replace(settings.ingest(), **limits)
    served, reference = create_app(ingest), _litestar_only(create_app(ingest))
    statuses = []
    async with _running(served), _running(reference):
        for request in corpus:
            ours = _normal(await _call(served, request))
            theirs = _normal(await _call(reference, request))
            assert ours == theirs, request[:3]
            statuses.append(ours[0]["status"])
    return statuses


def _configured(settings: Settings, **overrides: Any) -> Settings:
    return msgspec.structs.replace(
        settings,
        ingest_cors_origins=ORIGIN,
        ingest_instance_id=f"route-{uuid.uuid4().hex[:8]}",
        **overrides,
    )


async def test_plain_route_answers_as_litestar_route(settings: Settings, make_key: MakeKey) -> None:
    """Every content mode, and every refusal (400, 401, 403, 413, 414, 415, 422 of the codec and
    of the record size, 429 of the flag and of the request rate), answers the same status,
    headers (CORS included) and body through the plain route as through Litestar's."""
    admin = await make_key("route-admin", ["admin"])
    producer = await make_key("route-producer", ["produce"])
    configured = _configured(
        settings, flag_limit_per_min=1.0, rate_limit_per_s=0.001, rate_limit_burst=30.0
    )
    # A body over 5,000 bytes is refused (announced, or streamed), and so is a record over
    # 1,500 bytes (the 1,800-character comment), though its request is under the body limit.
    statuses = await _compare(
        configured, _corpus(admin, producer), max_body_bytes=5000, max_request_bytes=1500
    )
    assert {202, 400, 401, 403, 404, 405, 413, 414, 415, 422, 429} <= set(statuses), statuses
    assert statuses[-1] == 429  # the request rate's burst, spent by the corpus


async def test_plain_route_refuses_when_overloaded_as_litestar_route(
    settings: Settings, make_key: MakeKey
) -> None:
    """With no request slot free, both routes answer 503 `overloaded` with Retry-After."""
    admin = await make_key("route-admin", ["admin"])
    full = _configured(settings, max_inflight_requests=0)
    plain = [(b"content-type", b"application/json"), (b"authorization", f"Bearer {admin}".encode())]
    statuses = await _compare(full, [("POST", "/v1/events", plain, [_json(_post(1))])])
    assert statuses == [503]
