"""One event no consumer can store stops none of them, and its status says what became of it."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer

from projections import Worker
from projections.verify import verify
from tests.integration.conftest import eventually, records_in
from tests.integration.test_lifecycle_api import Client, ev, get, post, send
from tests.integration.test_worker import read_all
from threadlog.settings import Settings

YEAR_ZERO = [
    ("ce_specversion", b"1.0"),
    ("ce_id", b"ev-year-zero"),
    ("ce_type", b"ArticlePublished"),
    ("ce_source", b"/raw"),
    # Year 1 at +14:00 is year 0 in UTC: no consumer can store or compare it.
    ("ce_time", b"0001-01-01T00:00:00+14:00"),
]


@pytest.mark.usefixtures("notifier")
async def test_an_event_no_one_can_store_is_parked_once_and_everyone_goes_on(
    settings: Settings,
    ingest: Client,
    query: Client,
    worker: Worker,
    producer: AIOKafkaProducer,
    db: asyncpg.Connection[Any],
) -> None:
    """A record written past ingest with a time UTC cannot hold: the worker parks it once (the
    notifier does not park it again), `GET /v1/events/{id}` answers `dead_lettered` with the
    reason, the notifier still stores the notifications of later events, and `verify` folds the
    log without failing and finds the tables equal."""
    refused = await ingest.post(
        "/v1/events",
        json={
            "id": "ev-via-ingest",
            "type": "ArticlePublished",
            "time": "0001-01-01T00:00:00+14:00",
            "data": {"article_id": "art", "title": "T"},
        },
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["details"][0]["field"] == "time"
    await producer.send_and_wait(
        settings.topic,
        key=b"art",
        value=b'{"article_id": "art", "title": "Year zero"}',
        headers=YEAR_ZERO,
    )
    reply = post("c2", 2, author="bob", parent="c1")
    await send(
        ingest,
        query,
        [ev("ArticlePublished", 0, article_id="art", title="T"), post("c1", 1), reply],
    )

    async def parked() -> bool:
        status = await get(query, "/v1/events/ev-year-zero")
        return bool(status["status"] == "dead_lettered")

    await eventually(parked, what="the year-zero event to be dead-lettered")
    status = await get(query, "/v1/events/ev-year-zero")
    assert status["type"] == "ArticlePublished"
    assert status["reason"].startswith("decode: time: 0001-01-01T00:00:00+14:00 is outside")

    async def notified() -> bool:
        page = await get(query, "/v1/authors/ann/notifications")
        return [item["id"] for item in page["items"]] == [reply["id"]]

    await eventually(notified, what="the notifier to go on past the poison event")
    # The notifier has read past the record too (it stored a later notification): had it parked
    # the record again, the dead-letter topic would hold two letters by now.
    assert await records_in(settings, settings.dlq_topic) == 1
    letters = await read_all(settings, settings.dlq_topic, 1)
    assert [dict(letter.headers)["ce_id"] for letter in letters] == [b"ev-year-zero"]
    assert dict(letters[0].headers)["threadlog.dlq.stage"] == b"decode"
    verdict = await verify(settings.worker(), db, "threads")
    assert verdict.differences == []
    assert verdict.events == 3
