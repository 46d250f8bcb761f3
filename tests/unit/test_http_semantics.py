"""HTTP semantics every service shares: HEAD, If-None-Match by RFC 9110's rules, CORS."""

import asyncio
from typing import Any

import pytest
from litestar import Litestar, get
from litestar.testing import AsyncTestClient

from projections.metrics import WorkerStats, render, serve_metrics
from services.cors import CorsPolicy, allow_cross_origin, parse_origins
from services.http_semantics import answer_head, none_match
from services.web import WebSettings
from services.web import create_app as create_web_app


@pytest.mark.parametrize(
    ("header", "matches"),
    [
        ('W/"7-ab"', True),
        ('"7-ab"', True),  # the strong form of our weak tag: weak comparison (13.1.2)
        ("*", True),
        (' "x", W/"7-ab" ', True),
        ('"x","7-ab"', True),
        ('"x", W/"y"', False),
        ('W/"7-a"', False),
        ('"7-abc"', False),  # not a substring match
        ("", False),
        (None, False),
    ],
)
def test_if_none_match_compares_entity_tags_weakly(header: str | None, matches: bool) -> None:
    """`*` matches, a list of tags matches if any does, weak and strong forms match alike, and a
    tag is compared whole (a longer tag holding ours is another tag)."""
    assert none_match(header, 'W/"7-ab"') is matches


@get("/page", sync_to_thread=False)
def _page() -> dict[str, str]:
    return {"page": "yes"}


def _app(policy: CorsPolicy | None = None) -> Litestar:
    return answer_head(allow_cross_origin(Litestar([_page]), policy or CorsPolicy()))


async def test_head_answers_as_get_without_a_body() -> None:
    """HEAD on a GET route: 200 with the GET's headers (Content-Length too) and no body."""
    async with AsyncTestClient(_app()) as client:
        got = await client.get("/page")
        head = await client.head("/page")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == got.headers["content-length"]
    assert head.headers["content-type"] == got.headers["content-type"]


async def test_allow_lists_head_beside_get() -> None:
    """A 405 and an OPTIONS answer list HEAD wherever they list GET."""
    async with AsyncTestClient(_app()) as client:
        refused = await client.post("/page")
        options = await client.options("/page")
    assert refused.status_code == 405
    assert {m.strip() for m in refused.headers["allow"].split(",")} >= {"GET", "HEAD"}
    assert options.status_code == 204
    assert {m.strip() for m in options.headers["allow"].split(",")} >= {"GET", "HEAD", "OPTIONS"}


def test_cors_origins_are_parsed() -> None:
    """THREADLOG_CORS_ORIGINS: comma-separated, blanks and a trailing slash dropped."""
    assert parse_origins(" https://a.example/, ,https://b.example") == (
        "https://a.example",
        "https://b.example",
    )
    assert parse_origins("") == ()


async def test_cors_is_off_by_default() -> None:
    """Without configured origins, no answer carries a CORS header."""
    async with AsyncTestClient(_app()) as client:
        answer = await client.get("/page", headers={"Origin": "https://news.example"})
    assert "access-control-allow-origin" not in answer.headers


async def test_cors_allows_the_configured_origins_only() -> None:
    """An allowed origin's preflight is answered (no credentials), its reads are labelled and
    keep Vary; another origin gets no CORS header."""
    policy = CorsPolicy(origins=("https://news.example",))
    preflight = {
        "Origin": "https://news.example",
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization, if-none-match",
    }
    async with AsyncTestClient(_app(policy)) as client:
        allowed = await client.options("/page", headers=preflight)
        read = await client.get("/page", headers={"Origin": "https://news.example"})
        other = await client.get("/page", headers={"Origin": "https://evil.example"})
        other_preflight = await client.options(
            "/page", headers={**preflight, "Origin": "https://evil.example"}
        )
    assert allowed.status_code == 204
    assert allowed.headers["access-control-allow-origin"] == "https://news.example"
    assert "GET" in allowed.headers["access-control-allow-methods"]
    assert allowed.headers["access-control-allow-headers"] == "authorization, if-none-match"
    assert "access-control-allow-credentials" not in allowed.headers
    assert read.headers["access-control-allow-origin"] == "https://news.example"
    assert "ETag" in read.headers["access-control-expose-headers"]
    assert "Origin" in read.headers.get_list("vary")
    assert "access-control-allow-origin" not in other.headers
    assert "access-control-allow-origin" not in other_preflight.headers


async def test_cors_with_any_origin_never_allows_credentials() -> None:
    """`*`: every origin may read, answered `*`, never with credentials."""
    async with AsyncTestClient(_app(CorsPolicy(origins=("*",)))) as client:
        read = await client.get("/page", headers={"Origin": "https://a.example", "Cookie": "x=1"})
        preflight = await client.options(
            "/page",
            headers={"Origin": "https://a.example", "Access-Control-Request-Method": "GET"},
        )
    for answer in (read, preflight):
        assert answer.headers["access-control-allow-origin"] == "*"
        assert "access-control-allow-credentials" not in answer.headers


async def test_the_pages_answer_head() -> None:
    """The web process answers HEAD on its pages and assets as GET, without the body."""
    app = create_web_app(WebSettings(query_url="http://127.0.0.1:9", ingest_url="http://x:9"))
    async with AsyncTestClient(app) as client:
        got = await client.get("/embed.js")
        head = await client.head("/embed.js")
        page = await client.head("/articles/a1")
    assert got.status_code == head.status_code == page.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == got.headers["content-length"]


async def _ask(port: int, request: str) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request.encode())
    answer = await reader.read()
    writer.close()
    return answer


async def test_the_metrics_server_answers_head() -> None:
    """HEAD /metrics and /healthz: the GET's status and Content-Length, no body; other methods
    405 with Allow."""
    server = await serve_metrics("127.0.0.1", 0, lambda: render(WorkerStats(), "t"))
    port: Any = server.sockets[0].getsockname()[1]
    try:
        got = await _ask(port, "GET /metrics HTTP/1.1\r\nhost: x\r\n\r\n")
        head = await _ask(port, "HEAD /metrics HTTP/1.1\r\nhost: x\r\n\r\n")
        health = await _ask(port, "HEAD /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        post = await _ask(port, "POST /metrics HTTP/1.1\r\nhost: x\r\n\r\n")
    finally:
        server.close()
    head_lines, _, head_body = head.partition(b"\r\n\r\n")
    got_body = got.partition(b"\r\n\r\n")[2]
    assert head.startswith(b"HTTP/1.1 200 OK")
    assert health.startswith(b"HTTP/1.1 200 OK")
    assert head_body == b""
    assert got_body
    assert f"content-length: {len(got_body)}".encode() in head_lines
    assert post.startswith(b"HTTP/1.1 405")
    assert b"allow: GET, HEAD" in post
