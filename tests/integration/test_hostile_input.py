"""Hostile text through the whole pipeline: stored and served exactly as posted, or refused with
a clear error naming the field; injection strings are data, never SQL."""

from typing import Any
from urllib.parse import quote

from litestar.testing import AsyncTestClient

from projections import Worker
from tests.integration.conftest import eventually

Client = AsyncTestClient[Any]

INJECTIONS = [
    "'; DROP TABLE comments; --",
    "1' OR '1'='1",
    "Robert'); DROP TABLE students;--",
    "'; SELECT pg_sleep(10); --",
    '" OR ""="',
    "$1 $2 %s %(x)s {0} ?",
    "\\'; TRUNCATE articles; --",
    "UNION SELECT key_hash FROM api_keys --",
]

BODIES = [
    "<script>alert(document.cookie)</script>",
    '<img src=x onerror="alert(1)"> & &amp; &lt;b&gt;',
    # Right-to-left override, marks, Hebrew and Arabic.
    "\u202eevil.exe\u202c and \u200f\u05e9\u05dc\u05d5\u05dd\u200e \u0639\u0631\u0628\u0649",
    "w" * 10_000,
    # A family (zero-width joiners), a flag sequence, a combining accent, a plain emoji.
    "\U0001f469\u200d\U0001f469\u200d\U0001f467 \U0001f1f7\U0001f1f8 e\u0301 \U0001f600",
    "line\nbreak\r\nand\ttab \u2028 \ufeff",
    *INJECTIONS,
]


def posted(index: int, body: str, name: str = "Mallory") -> dict[str, Any]:
    """CommentPosted number `index` on the article `hostile`, with `body` by `name`."""
    return {
        "id": f"e{index}",
        "type": "CommentPosted",
        "time": f"2024-01-01T10:{index:02d}:00Z",
        "data": {
            "article_id": "hostile",
            "comment_id": f"c{index}",
            "author_id": "mallory",
            "author_name": name,
            "body": body,
        },
    }


async def test_hostile_text_is_served_exactly_as_posted(
    ingest: Client, query: Client, worker: Worker
) -> None:
    """HTML, script, RTL overrides, a 10,000-character word, emoji sequences, control
    whitespace and SQL injection strings come back byte for byte from the thread and the
    timeline (clients must escape on render), and every table is still there afterwards."""
    title = "<h1>" + INJECTIONS[0] + "</h1>"
    article = {
        "id": "pub",
        "type": "ArticlePublished",
        "time": "2024-01-01T09:00:00Z",
        "data": {"article_id": "hostile", "title": title},
    }
    events = [article] + [posted(i, body, body[:200]) for i, body in enumerate(BODIES)]
    response = await ingest.post("/v1/events", json=events)
    assert response.status_code == 202, response.text

    async def all_served() -> bool:
        page = await query.get("/v1/articles/hostile/thread", params={"limit": 200})
        return page.status_code == 200 and len(page.json()["comments"]) == len(BODIES)

    await eventually(all_served, what="every hostile comment to be served")
    page = (await query.get("/v1/articles/hostile/thread", params={"limit": 200})).json()
    assert page["article"]["title"] == title
    assert [c["body"] for c in page["comments"]] == BODIES
    assert [c["author_name"] for c in page["comments"]] == [b[:200] for b in BODIES]
    timeline = (await query.get("/v1/authors/mallory/timeline", params={"limit": 200})).json()
    assert sorted(i["body"] for i in timeline["items"]) == sorted(BODIES)
    assert {i["article_title"] for i in timeline["items"]} == {title}


async def test_injection_strings_in_urls_are_data(
    ingest: Client, query: Client, worker: Worker
) -> None:
    """Injection strings as path parameters and cursors find nothing (404, empty page, 400
    invalid_cursor) and change nothing: a thread posted before is served the same after."""
    article = {"type": "ArticlePublished", "data": {"article_id": "safe", "title": "T"}}
    assert (await ingest.post("/v1/events", json=article)).status_code == 202

    async def published() -> bool:
        return (await query.get("/v1/articles/safe/thread")).status_code == 200

    await eventually(published, what="the article")
    before = (await query.get("/v1/articles/safe/thread")).json()
    for text in INJECTIONS:
        # Quoted, as a client must: unquoted, a "?" or "#" would end the path.
        quoted = quote(text, safe="")
        thread = await query.get(f"/v1/articles/{quoted}/thread")
        assert (thread.status_code, thread.json()["error"]["code"]) == (404, "article_not_found")
        timeline = await query.get(f"/v1/authors/{quoted}/timeline")
        assert (timeline.status_code, timeline.json()["items"]) == (200, [])
        cursor = await query.get("/v1/articles/safe/thread", params={"cursor": text})
        assert (cursor.status_code, cursor.json()["error"]["code"]) == (400, "invalid_cursor")
    assert (await query.get("/v1/articles/safe/thread")).json() == before


async def test_text_that_cannot_be_stored_is_refused_naming_the_field(ingest: Client) -> None:
    """NUL and a body over 10,000 characters are 422 naming data.body; a lone surrogate and
    invalid UTF-8 are 400 malformed_json; ids outside [A-Za-z0-9._:-] are 422 naming the id."""
    nul = await ingest.post("/v1/events", json=posted(0, "a\x00b"))
    too_long = await ingest.post("/v1/events", json=posted(0, "w" * 10_001))
    bad_id = await ingest.post("/v1/events", json=posted(0, "x") | {"id": "e'; drop table x; --"})
    for response, field in ((nul, "data.body"), (too_long, "data.body"), (bad_id, "id")):
        assert response.status_code == 422, response.text
        assert response.json()["error"]["code"] == "invalid_events"
        assert [d["field"] for d in response.json()["error"]["details"]] == [field]
    template = (
        b'{"type": "CommentPosted", "data": {"article_id": "a", "comment_id": "c",'
        b' "author_id": "u", "body": "%s"}}'
    )
    for raw in (b"\\ud800", b"\x80\xff"):
        response = await ingest.post(
            "/v1/events", content=template % raw, headers={"content-type": "application/json"}
        )
        assert response.status_code == 400, (raw, response.text)
        assert response.json()["error"]["code"] == "malformed_json"
