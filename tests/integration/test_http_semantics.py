"""RFC 9110 on the real services: HEAD wherever GET works, conditional requests, OPTIONS without
a key, and CORS when configured, on a thread the worker applied."""

from typing import Any

import httpx
import msgspec
from litestar.testing import AsyncTestClient

from projections import Worker
from tests.integration.conftest import MakeKey, eventually
from tests.integration.served import served_query
from tests.integration.test_lifecycle_api import ev, post, send
from threadlog.settings import Settings

Client = AsyncTestClient[Any]
THREAD = "/v1/articles/art/thread"


async def _seed(ingest: Client, query: Client) -> None:
    await send(ingest, query, [ev("ArticlePublished", article_id="art", title="T"), post("c1")])


async def test_head_answers_like_get_on_query_and_ingest(
    ingest: Client, query_server: httpx.AsyncClient, query: Client, worker: Worker
) -> None:
    """HEAD on a thread, a stream, the probes and the OpenAPI document: the GET's status and
    headers (ETag, Content-Length), no body; a stream's HEAD does not stay open."""
    await _seed(ingest, query)
    got = await query_server.get(THREAD)
    head = await query_server.head(THREAD)
    assert got.status_code == head.status_code == 200
    assert head.content == b""
    for name in ("etag", "content-length", "content-type", "cache-control", "vary"):
        assert head.headers[name] == got.headers[name], name
    stream = await query_server.head("/v1/articles/art/stream", timeout=5)
    assert stream.status_code == 200
    assert stream.headers["content-type"].startswith("text/event-stream")
    for path in ("/healthz", "/readyz", "/schema/openapi.json"):
        assert (await query_server.head(path)).status_code == 200, path
        assert (await ingest.head(path)).status_code == 200, path
    assert (await query_server.head("/v1/counts", params={"article_id": "art"})).status_code == 200


async def test_if_none_match_follows_rfc_9110(
    ingest: Client, query: Client, worker: Worker
) -> None:
    """`*` answers 304 for an existing page, the strong form of our weak tag 304s (weak
    comparison), a list holding our tag 304s, other tags 200; `*` on no article is a 404."""
    await _seed(ingest, query)
    etag = (await query.get(THREAD)).headers["etag"]
    assert etag.startswith('W/"')
    strong = etag.removeprefix("W/")
    for header in ("*", etag, strong, f'"other", {strong}', f'W/"x",{etag}'):
        answer = await query.get(THREAD, headers={"If-None-Match": header})
        assert answer.status_code == 304, header
        assert answer.headers["etag"] == etag
        assert answer.content == b""
    assert (await query.get(THREAD, headers={"If-None-Match": '"other"'})).status_code == 200
    missing = await query.get("/v1/articles/none/thread", headers={"If-None-Match": "*"})
    assert missing.status_code == 404


async def test_options_needs_no_key_even_where_reads_do(
    settings: Settings, make_key: MakeKey
) -> None:
    """OPTIONS on a read answers 204 with Allow, without a key, even when reads need one."""
    locked = msgspec.structs.replace(settings, reads_require_key=True)
    async with served_query(locked) as served:
        options = await served.client.options(THREAD)
        read = await served.client.get(THREAD)
    assert options.status_code == 204
    assert {m.strip() for m in options.headers["allow"].split(",")} >= {"GET", "HEAD", "OPTIONS"}
    assert read.status_code == 401


async def test_cors_on_the_query_service(
    settings: Settings, ingest: Client, query: Client, worker: Worker
) -> None:
    """With THREADLOG_CORS_ORIGINS set, a front end of that origin is answered a preflight
    without a key, and reads (304 and gzip included) carry its origin and keep Vary."""
    await _seed(ingest, query)
    origin = "https://news.example"
    cors = msgspec.structs.replace(settings, cors_origins=f"{origin}, https://b.example")
    async with served_query(cors) as served:
        preflight = await served.client.options(
            THREAD,
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "if-none-match",
            },
        )
        read = await served.client.get(THREAD, headers={"Origin": origin})
        again = await served.client.get(
            THREAD, headers={"Origin": origin, "If-None-Match": read.headers["etag"]}
        )
        other = await served.client.get(THREAD, headers={"Origin": "https://evil.example"})
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == origin
    assert "access-control-allow-credentials" not in preflight.headers
    for answer in (read, again):
        assert answer.headers["access-control-allow-origin"] == origin
        assert {"Accept-Encoding", "Origin"} <= set(
            v.strip() for v in ",".join(answer.headers.get_list("vary")).split(",")
        )
    assert again.status_code == 304
    assert "access-control-allow-origin" not in other.headers


async def test_cors_is_off_by_default_and_opt_in_for_ingest(
    settings: Settings, make_key: MakeKey
) -> None:
    """Without configuration neither service sends CORS headers; ingest answers a preflight
    only when THREADLOG_INGEST_CORS_ORIGINS names the origin."""
    from services.ingest import create_app as create_ingest_app

    preflight = {"Origin": "https://cms.example", "Access-Control-Request-Method": "POST"}
    off = AsyncTestClient(create_ingest_app(settings.ingest()))
    on_settings = msgspec.structs.replace(settings, ingest_cors_origins="https://cms.example")
    on = AsyncTestClient(create_ingest_app(on_settings.ingest()))
    async with off as client_off, on as client_on:
        await eventually(lambda: _ready(client_on), what="ingest to connect to Kafka", timeout_s=30)
        refused = await client_off.options("/v1/events", headers=preflight)
        allowed = await client_on.options("/v1/events", headers=preflight)
    assert "access-control-allow-origin" not in refused.headers
    assert refused.status_code == 204  # OPTIONS itself needs no key
    assert allowed.headers["access-control-allow-origin"] == "https://cms.example"
    async with served_query(settings) as served:
        read = await served.client.get("/healthz", headers={"Origin": "https://cms.example"})
    assert "access-control-allow-origin" not in read.headers


async def _ready(client: Client) -> bool:
    return (await client.get("/readyz")).status_code == 200
