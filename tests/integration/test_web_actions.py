"""The pages' reader backend (`POST /demo/actions`) on the real ingest: it takes JSON from the
pages' own origin (or a configured one) only, so that a cross-site form or script cannot act as
a reader; and the key `make demo` gives it can produce, not moderate."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from services.auth import create_key, key_in_force
from services.ingest import create_app as create_ingest_app
from services.web import WebSettings
from services.web import create_app as create_web_app
from tests.integration.conftest import MakeKey, records_in
from tests.servers import ThreadedServer
from threadlog.settings import ENVIRONMENT, Settings

PAGES = "http://testserver.local"
"""The origin the test client's requests are addressed to: the pages' own."""
SITE = "https://news.example"
VOTE = {
    "action": "vote",
    "article_id": "art",
    "reader_id": "mira",
    "comment_id": "c1",
    "vote": "up",
}


@pytest.fixture
async def web(settings: Settings, make_key: MakeKey, tmp_path: Path) -> AsyncIterator[Any]:
    """The web process with a produce key, in front of a real ingest; `SITE` is allowed too."""
    key_file = tmp_path / "demo-key"
    key_file.write_text(await make_key("web-demo", ["produce"]))
    ingest = ThreadedServer(create_ingest_app(settings.ingest()))
    await ingest.ready("/readyz")
    app = create_web_app(
        WebSettings(
            query_url="http://127.0.0.1:9",
            ingest_url=ingest.url,
            demo_key_file=str(key_file),
            allowed_origins=(SITE,),
        )
    )
    try:
        async with AsyncTestClient(app, base_url=PAGES) as client:
            yield client
    finally:
        await ingest.stop()


def _error(response: Any) -> tuple[int, str, list[str]]:
    error = response.json()["error"]
    return response.status_code, error["code"], [d["field"] for d in error["details"]]


async def test_only_json_from_the_pages_or_a_configured_origin_is_acted_on(
    web: Any, settings: Settings
) -> None:
    """JSON from the pages' origin or a configured one is posted (202); a body that is not
    `application/json` (what a cross-site form can send) is 415, and another origin, `null` or
    none is 403, each in the error shape naming the header, with nothing appended."""
    before = await records_in(settings)
    refused = [
        await web.post("/demo/actions", content=body, headers=headers)
        for body, headers in [
            (b'{"action": "vote"}', {"content-type": "text/plain", "origin": PAGES}),
            (b"action=vote", {"content-type": "application/x-www-form-urlencoded"}),
            (b"{}", {"content-type": "multipart/form-data; boundary=x", "origin": PAGES}),
        ]
    ]
    assert [_error(r) for r in refused] == [(415, "unsupported_media_type", ["content-type"])] * 3
    for origin in ("https://evil.example", "null", None, f"{PAGES}.evil.example"):
        headers = {"origin": origin} if origin else {}
        answer = await web.post("/demo/actions", json=VOTE, headers=headers)
        assert _error(answer) == (403, "forbidden_origin", ["origin"]), origin
    assert await records_in(settings) == before
    for origin in (PAGES, SITE):
        answer = await web.post(
            "/demo/actions",
            json=VOTE,
            headers={"origin": origin, "content-type": "application/json; charset=utf-8"},
        )
        assert answer.status_code == 202, answer.text
    assert await records_in(settings) == before + 2


def test_the_demo_key_can_produce_and_not_moderate(settings: Settings, tmp_path: Path) -> None:
    """`threadlog keys demo FILE` (what `make demo` runs for the pages' backend) leaves FILE
    holding a key with the `produce` scope only, replacing an older demo key with more scopes;
    `--moderator` makes the console's key (scope `moderate`) in another file."""
    env = dict(os.environ) | {var: str(getattr(settings, n)) for n, var in ENVIRONMENT.items()}

    async def old_key() -> str:
        conn = await asyncpg.connect(
            settings.database_url, server_settings={"search_path": settings.pg_schema}
        )
        try:
            return await create_key(conn, "demo", ["produce", "moderate"])
        finally:
            await conn.close()

    async def scopes(key: str) -> frozenset[str] | None:
        conn = await asyncpg.connect(
            settings.database_url, server_settings={"search_path": settings.pg_schema}
        )
        try:
            found = await key_in_force(conn, key)
            return None if found is None else found.scopes
        finally:
            await conn.close()

    pages, console = tmp_path / "demo-key", tmp_path / "moderator-key"
    old = asyncio.run(old_key())
    pages.write_text(old + "\n")
    for args in (["demo", str(pages)], ["demo", "--moderator", str(console)]):
        done = subprocess.run(
            [sys.executable, "-m", "threadlog", "keys", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
    assert asyncio.run(scopes(old)) is None
    assert asyncio.run(scopes(pages.read_text().strip())) == frozenset({"produce"})
    assert asyncio.run(scopes(console.read_text().strip())) == frozenset({"moderate"})
    assert oct(console.stat().st_mode & 0o777) == "0o600"
