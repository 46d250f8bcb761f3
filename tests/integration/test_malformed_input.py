"""Malformed input through real HTTP: JSON nested thousands deep, forged cursors, times outside
the sane range, ids with a trailing newline, invisible bodies. Each is a 4xx in the shared error
shape naming what is wrong, and a refused request appends nothing."""

import base64
import json
from typing import Any

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from projections import Worker
from services.errors import ErrorResponse
from services.web import WebSettings
from services.web import create_app as create_web_app
from tests.integration.conftest import eventually

Client = AsyncTestClient[Any]

DEEP = b"[" * 5_000 + b"]" * 5_000
DEEP_OBJECT = b'{"a": ' * 5_000 + b"1" + b"}" * 5_000
JSON = {"content-type": "application/json"}


def error(response: Any, status: int, code: str) -> list[str]:
    """Assert the answer is `status` in the shared error shape with `code`; its details' fields."""
    assert response.status_code == status, response.text
    body = msgspec.json.decode(response.content, type=ErrorResponse)
    assert body.error.code == code, response.text
    return [detail.field for detail in body.error.details]


def forge(value: object) -> str:
    """A cursor token as any client can make one: base64 of JSON."""
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "body",
    [DEEP, b"[" + DEEP_OBJECT + b"]", b'{"type": "CommentPosted", "data": ' + DEEP_OBJECT + b"}"],
)
async def test_deep_json_posted_to_ingest_is_a_400(ingest: Client, body: bytes) -> None:
    """Nesting past the decoder's recursion limit is malformed JSON (400), not a 500."""
    response = await ingest.post("/v1/events", content=body, headers=JSON)
    error(response, 400, "malformed_json")


async def test_deep_json_marking_notifications_read_is_a_400(query: Client) -> None:
    """The query service's one JSON body refuses deep nesting in the error shape."""
    for body in (DEEP, DEEP_OBJECT, b'{"ids": ' + DEEP + b"}"):
        response = await query.post(
            "/v1/authors/ann/notifications/read", content=body, headers=JSON
        )
        assert error(response, 400, "malformed_json") == ["$"]


async def test_deep_json_to_the_reader_backend_is_a_400() -> None:
    """The pages' reader actions refuse deep nesting before anything reaches ingest (nothing is
    listening at the APIs' addresses here: a 400 proves the body was refused first)."""
    settings = WebSettings(query_url="http://127.0.0.1:9", ingest_url="http://127.0.0.1:9")
    async with AsyncTestClient(create_web_app(settings)) as web:
        headers = JSON | {"origin": str(web.base_url).rstrip("/")}
        for body in (DEEP, DEEP_OBJECT, b'{"action": "post", "body": ' + DEEP + b"}"):
            response = await web.post("/demo/actions", content=body, headers=headers)
            assert error(response, 400, "malformed_json") == ["$"]


async def _published(ingest: Client, query: Client, article_id: str) -> None:
    event = {"type": "ArticlePublished", "data": {"article_id": article_id, "title": "T"}}
    assert (await ingest.post("/v1/events", json=event)).status_code == 202

    async def served() -> bool:
        return (await query.get(f"/v1/articles/{article_id}/thread")).status_code == 200

    await eventually(served, what=f"article {article_id} to be served")


TIME = "2024-01-01T00:00:00Z"


@pytest.mark.usefixtures("worker", "notifier")
async def test_forged_cursors_are_a_400_on_every_listing(ingest: Client, query: Client) -> None:
    """A cursor that is valid base64 JSON but holds a non-number, a NUL, an unstorable time or a
    key no id could be is `400 invalid_cursor` naming `cursor`, on every paginated listing."""
    await _published(ingest, query, "forged")
    cases = [
        ("/v1/articles/forged/thread?sort=top", ["thread:top", TIME, ["1", "NaN", "c1"]]),
        ("/v1/articles/forged/thread?sort=top", ["thread:top", TIME, ["1", "9" * 30, "c1"]]),
        ("/v1/articles/forged/thread?sort=newest", ["thread:newest", TIME, ["c\u0000"]]),
        (
            "/v1/articles/forged/thread?sort=oldest",
            ["thread:oldest", "0001-01-01T00:00:00+14:00", ["c1"]],
        ),
        ("/v1/authors/mira/timeline?", ["timeline", TIME, ["a\u0000", "c1"]]),
        ("/v1/authors/mira/timeline?", ["timeline", TIME, ["a1", ["c1"]]]),
        ("/v1/authors/mira/timeline?", ["timeline", "9999-12-31T23:59:59-14:00", ["a", "c"]]),
        ("/v1/authors/mira/notifications?", ["notifications", TIME, ["e\u0000"]]),
        ("/v1/moderation/queue?status=flagged", ["queue:flagged", TIME, ["x", "a1", "c1"]]),
    ]
    for path, forged in cases:
        response = await query.get(f"{path}&cursor={forge(forged)}")
        assert error(response, 400, "invalid_cursor") == ["cursor"], (path, forged)
    deep = base64.urlsafe_b64encode(b"[" * 700 + b"]" * 700).decode()
    response = await query.get(f"/v1/authors/mira/timeline?cursor={deep}")
    assert error(response, 400, "invalid_cursor") == ["cursor"]


async def test_times_outside_the_sane_range_are_a_422_naming_time(
    ingest: Client, query: Client, worker: Worker
) -> None:
    """`"time": "0001-01-01T00:00:00+14:00"` (which PostgreSQL cannot hold and which stopped
    the notifier) and a time an hour ahead are refused with 422 on `time`; the valid event in the
    same batch is not appended (the article stays unknown)."""
    valid = {"type": "ArticlePublished", "data": {"article_id": "times", "title": "T"}}
    for time in ("0001-01-01T00:00:00+14:00", "1969-12-31T23:59:59Z", "2999-01-01T00:00:00Z"):
        batch = [valid, {**valid, "time": time}]
        response = await ingest.post("/v1/events", json=batch)
        assert error(response, 422, "invalid_events") == ["time"], time
        assert response.json()["error"]["details"][0]["index"] == 1
    response = await ingest.post("/v1/events", json={**valid, "id": "times-ok", "time": TIME})
    assert response.status_code == 202, response.text

    async def applied() -> bool:
        status: str = (await query.get("/v1/events/times-ok")).json()["status"]
        return status == "applied"

    await eventually(applied, what="the valid article to be applied")
    thread = (await query.get("/v1/articles/times/thread")).json()
    assert thread["article"]["published_at"].startswith("2024-01-01")


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"author_id": "mira\n"}, "data.author_id"),
        ({"comment_id": "c1\n"}, "data.comment_id"),
        ({"body": "\u200b\u200c\u200d\u2060\ufeff"}, "data.body"),
        ({"body": "\u2060 \u00ad\n"}, "data.body"),
    ],
)
async def test_trailing_newline_ids_and_invisible_bodies_are_a_422(
    ingest: Client, data: dict[str, str], field: str
) -> None:
    """An id "mira\\n" is refused, and a body of only zero-width or format characters is as empty as
    one of only whitespace: both are 422 naming the field."""
    base = {"article_id": "a1", "comment_id": "c1", "author_id": "mira", "body": "Hi"}
    event = {"type": "CommentPosted", "data": base | data}
    response = await ingest.post("/v1/events", json=event)
    assert error(response, 422, "invalid_events") == [field]
