"""A per-key limit on flags at the real ingest: a produce key may assert any flagger id, so one
leaked key could hide every comment of a thread with invented flaggers; the limit bounds how
fast any one key can flag, and refuses the excess whole."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar.testing import AsyncTestClient

from services.ingest import create_app as create_ingest_app
from tests.integration.conftest import MakeKey, eventually, records_in
from threadlog.settings import Settings


def flag(comment_id: str, flagger: str) -> dict[str, Any]:
    """A reader's flag, as a producer backend posts it."""
    data = {"article_id": "art", "comment_id": comment_id, "flagger_id": flagger, "reason": "spam"}
    return {"type": "CommentFlagged", "data": data}


POST = {
    "type": "CommentPosted",
    "data": {"article_id": "art", "comment_id": "c9", "author_id": "ann", "body": "hi"},
}


async def test_flags_past_a_keys_limit_are_429_naming_each_and_appending_nothing(
    settings: Settings, make_key: MakeKey
) -> None:
    """With THREADLOG_FLAG_LIMIT_PER_MIN=3, a key's first three flags are accepted; a request
    whose flags go past its allowance is refused whole with 429 `flag_limited`, Retry-After and
    the index of each flag over it; other events of that key, and another key's flags, pass."""
    settings = msgspec.structs.replace(settings, flag_limit_per_min=3.0)
    leaked, other = await make_key("leaked", ["produce"]), await make_key("other", ["produce"])
    async with AsyncTestClient(create_ingest_app(settings.ingest())) as client:

        async def ready() -> bool:
            return (await client.get("/readyz")).status_code == 200

        await eventually(ready, what="ingest to connect to Kafka")

        async def send(key: str, events: list[dict[str, Any]]) -> Any:
            headers = {"Authorization": f"Bearer {key}"}
            return await client.post("/v1/events", json=events, headers=headers)

        first = await send(leaked, [flag("c1", "f1"), POST, flag("c1", "f2")])
        assert first.status_code == 202, first.text
        before = await records_in(settings)
        over = await send(leaked, [POST, flag("c2", "f1"), flag("c2", "f2"), flag("c2", "f3")])
        assert over.status_code == 429, over.text
        error = over.json()["error"]
        assert error["code"] == "flag_limited"
        assert "'leaked'" in error["message"]
        assert [(d["index"], d["field"]) for d in error["details"]] == [(2, "type"), (3, "type")]
        assert int(over.headers["retry-after"]) >= 1
        assert await records_in(settings) == before
        assert (await send(leaked, [POST])).status_code == 202
        assert (await send(leaked, [flag("c2", "f1")])).status_code == 202
        assert (await send(leaked, [flag("c2", "f2")])).status_code == 429
        assert (await send(other, [flag("c2", "f2"), flag("c2", "f3")])).status_code == 202
