"""The pages' process (`threadlog web`) in front of a real query service: its relay of `/v1/...`
passes the caching and encoding headers both ways, so a client gets the same ETag, 304 and gzip
bytes through it as from the query service; its own pages and modules are gzipped, with ETags."""

import gzip
from collections.abc import AsyncIterator
from typing import Any, NamedTuple

import httpx
import pytest

from projections import Worker
from services.query import create_app as create_query_app
from services.web import WebSettings
from services.web import create_app as create_web_app
from tests.integration.conftest import MakeKey
from tests.integration.test_lifecycle_api import Client, ev, post
from tests.servers import ThreadedServer
from threadlog.settings import Settings

THREAD = "/v1/articles/art/thread"
CACHING = ("etag", "vary", "cache-control", "content-encoding", "content-type")


class Pair(NamedTuple):
    """The query service and the web process relaying it, each behind a client of its own."""

    query: httpx.AsyncClient
    web: httpx.AsyncClient


@pytest.fixture
async def pair(settings: Settings, make_key: MakeKey) -> AsyncIterator[Pair]:
    """A real query service and a real web process in front of it, on uvicorn in threads."""
    query = ThreadedServer(create_query_app(settings.query()))
    web = ThreadedServer(
        create_web_app(WebSettings(query_url=query.url, ingest_url="http://127.0.0.1:9"))
    )
    try:
        await query.ready()
        await web.ready("/healthz")
        async with (
            httpx.AsyncClient(base_url=query.url, timeout=30) as to_query,
            httpx.AsyncClient(base_url=web.url, timeout=30) as to_web,
        ):
            yield Pair(to_query, to_web)
    finally:
        await web.stop()
        await query.stop()


async def raw_get(client: httpx.AsyncClient, path: str, **headers: str) -> tuple[int, Any, bytes]:
    """Status, headers and the body's bytes as sent (not decoded, whatever the encoding)."""
    async with client.stream("GET", path, headers=headers) as response:
        body = b"".join([chunk async for chunk in response.aiter_raw()])
        return response.status_code, response.headers, body


async def test_the_relay_serves_etags_304_and_gzip_like_the_query_service(
    ingest: Client, worker: Worker, pair: Pair
) -> None:
    """Through the relay, a thread page comes with the query service's ETag, Vary,
    Cache-Control and Content-Encoding, gzipped byte for byte as the query service sent it when
    the client takes gzip (and plain when it does not); If-None-Match with that ETag is a 304."""
    events = [ev("ArticlePublished", 0, article_id="art", title="A thread to relay")]
    events += [post(f"c{n}", n + 1, body=f"Comment {n}: " + "words " * 30) for n in range(12)]
    answer = await ingest.post("/v1/events", json=events)
    assert answer.status_code == 202, answer.text
    last = answer.json()["accepted"][-1]["position"]
    assert (await pair.query.get(THREAD, params={"after": last})).status_code == 200

    direct = await raw_get(pair.query, THREAD, **{"accept-encoding": "gzip"})
    relayed = await raw_get(pair.web, THREAD, **{"accept-encoding": "gzip"})
    assert direct[1]["content-encoding"] == "gzip"
    assert relayed[0] == 200
    assert {h: relayed[1].get(h) for h in CACHING} == {h: direct[1].get(h) for h in CACHING}
    assert relayed[2] == direct[2], "the compressed bytes are relayed as they are"
    print(f"thread page: {len(direct[2])} bytes gzipped, relayed {len(relayed[2])}")

    plain = await raw_get(pair.web, THREAD, **{"accept-encoding": "identity"})
    assert plain[0] == 200
    assert "content-encoding" not in plain[1]
    assert plain[2] == gzip.decompress(direct[2])
    print(f"thread page plain: {len(plain[2])} bytes")

    etag = direct[1]["etag"]
    not_modified = await raw_get(pair.web, THREAD, **{"if-none-match": etag})
    assert not_modified[0] == 304
    assert not_modified[1]["etag"] == etag
    assert not_modified[2] == b""


PAGES = ("/static/thread.js", "/static/threadlog.css", "/embed.js", "/articles/art", "/moderation")


async def test_pages_and_modules_are_gzipped_with_etags(pair: Pair) -> None:
    """Each page and module is served gzipped to a client that takes gzip (the same bytes once
    unzipped), plain to one that does not, with an ETag that If-None-Match turns into a 304."""
    for path in PAGES:
        status, plain_headers, plain = await raw_get(
            pair.web, path, **{"accept-encoding": "identity"}
        )
        assert status == 200, path
        assert "content-encoding" not in plain_headers, path
        status, headers, zipped = await raw_get(pair.web, path, **{"accept-encoding": "gzip, br"})
        assert (status, headers.get("content-encoding")) == (200, "gzip"), path
        assert "accept-encoding" in headers["vary"].lower()
        assert gzip.decompress(zipped) == plain
        assert len(zipped) < len(plain)
        etag = headers["etag"]
        status, again, body = await raw_get(pair.web, path, **{"if-none-match": etag})
        assert (status, again["etag"], body) == (304, etag, b""), path
        refused = await raw_get(pair.web, path, **{"accept-encoding": "gzip;q=0, identity"})
        assert "content-encoding" not in refused[1], "gzip;q=0 refuses gzip"
    head = await pair.web.head("/static/thread.js")
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["etag"] == (await pair.web.get("/static/thread.js")).headers["etag"]
