"""Ingest speaks the CloudEvents HTTP binding as the official SDK writes it: binary mode (the
SDK's default), structured mode and batches, each event landing applied like a JSON post."""

from typing import Any

from cloudevents.core.bindings import http as binding
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from cloudevents.v1 import http as classic

from projections import Worker
from tests.integration.conftest import eventually
from tests.integration.test_lifecycle_api import Client, ev, send

_counter = iter(range(1_000_000))


def _comment(comment_id: str, **attributes: Any) -> CloudEvent:
    data = {"article_id": "art", "comment_id": comment_id, "author_id": "ann", "body": "hi"}
    return CloudEvent(
        {"type": "CommentPosted", "source": "/cms", "id": f"ce-{next(_counter)}", **attributes},
        data,
    )


async def _applied(query: Client, event_id: str) -> None:
    async def decided() -> bool:
        answer = await query.get(f"/v1/events/{event_id}")
        return bool(answer.json()["status"] == "applied")

    await eventually(decided, what=f"the worker to apply {event_id}")


def _error(answer: Any) -> tuple[int, str, list[str]]:
    body = answer.json()["error"]
    return answer.status_code, body["code"], [d["field"] for d in body["details"]]


async def test_binary_structured_and_batch_modes_from_the_sdk_are_applied(
    ingest: Client, query: Client, worker: Worker
) -> None:
    """Events the SDK writes in binary mode (both its APIs), in structured mode, and a batch
    of structured events, are each accepted and applied, with the id, source and time given."""
    await send(ingest, query, [ev("ArticlePublished", 0, article_id="art", title="T")])
    posted: list[str] = []

    message = binding.to_binary(_comment("c1"), JSONFormat())
    answer = await ingest.post("/v1/events", headers=message.headers, content=message.body)
    assert answer.status_code == 202, answer.text
    posted.append(answer.json()["accepted"][0]["id"])

    headers, body = classic.to_binary(
        classic.CloudEvent({"type": "CommentPosted", "source": "https://cms.example/desk"},
                           {"article_id": "art", "comment_id": "c2", "author_id": "bob",
                            "body": "classic"})
    )  # fmt: skip
    answer = await ingest.post("/v1/events", headers=headers, content=body)
    assert answer.status_code == 202, answer.text
    posted.append(headers["ce-id"])

    message = binding.to_structured(_comment("c3"), JSONFormat())
    assert message.headers["content-type"] == "application/cloudevents+json"
    answer = await ingest.post("/v1/events", headers=message.headers, content=message.body)
    assert answer.status_code == 202, answer.text
    posted.append(answer.json()["accepted"][0]["id"])

    batch = [binding.to_structured(_comment(c), JSONFormat()).body for c in ("c4", "c5")]
    answer = await ingest.post(
        "/v1/events",
        headers={"content-type": "application/cloudevents-batch+json"},
        content=b"[" + b",".join(batch) + b"]",
    )
    assert answer.status_code == 202, answer.text
    posted += [a["id"] for a in answer.json()["accepted"]]

    for event_id in posted:
        await _applied(query, event_id)
    thread = (await query.get("/v1/articles/art/thread")).json()
    assert [c["comment_id"] for c in thread["comments"]] == ["c1", "c2", "c3", "c4", "c5"]
    c2 = (await query.get("/v1/comments/c2")).json()["comment"]
    assert (c2["body"], c2["posted_at"][:19]) == ("classic", headers["ce-time"][:19])


async def test_binary_mode_errors_name_the_header(ingest: Client) -> None:
    """A bad attribute in binary mode is a 422 naming its header (`ce-time`, `ce-source`, an
    unknown extension), a bad data field keeps its path, a percent-escape that is not one is
    refused, and a body that is not JSON data is 415 or 400; nothing is appended."""
    message = binding.to_binary(_comment("c1"), JSONFormat())

    async def post(headers: dict[str, str], body: bytes = message.body) -> Any:
        return await ingest.post("/v1/events", headers=headers, content=body)

    cases = [
        ({**message.headers, "ce-time": "yesterday"}, (422, "invalid_events", ["ce-time"])),
        ({**message.headers, "ce-source": "not%20a%20uri"}, (422, "invalid_events", ["ce-source"])),
        ({**message.headers, "ce-source": "not a uri"}, (422, "invalid_events", ["ce-source"])),
        ({**message.headers, "ce-id": "%zz"}, (422, "invalid_events", ["ce-id"])),
        ({**message.headers, "ce-color": "blue"}, (422, "invalid_events", ["ce-color"])),
        ({**message.headers, "ce-type": "CommentSung"}, (422, "invalid_events", ["ce-type"])),
        ({**message.headers, "ce-partitionkey": "other"},
            (422, "invalid_events", ["ce-partitionkey"])),
        ({k: v for k, v in message.headers.items() if k != "ce-specversion"},
            (422, "invalid_events", ["ce-specversion"])),
        ({**message.headers, "content-type": "text/plain"},
            (415, "unsupported_media_type", ["content-type"])),
    ]  # fmt: skip
    for headers, expected in cases:
        assert _error(await post(headers)) == expected, headers
    answer = await post(message.headers, b'{"article_id": "art", "comment_id": "c1", "body": "x"}')
    assert _error(answer) == (422, "invalid_events", ["data.author_id"]), answer.text
    assert _error(await post(message.headers, b"{nope"))[:2] == (400, "malformed_json")


async def test_structured_mode_checks_source_and_shape(ingest: Client) -> None:
    """A structured event whose `source` is no URI-reference is 422 naming `source`; a
    structured body must hold one event and a batch body an array (400 otherwise)."""
    event = {**ev("CommentPosted", 1, article_id="art", comment_id="c1", author_id="a",
                  body="b"), "source": "not a uri"}  # fmt: skip
    answer = await ingest.post("/v1/events", json=event)
    assert _error(answer) == (422, "invalid_events", ["source"]), answer.text
    structured = {"content-type": "application/cloudevents+json"}
    answer = await ingest.post("/v1/events", headers=structured, content=b"[]")
    assert _error(answer)[:2] == (400, "malformed_json")
    batch = {"content-type": "application/cloudevents-batch+json"}
    answer = await ingest.post("/v1/events", headers=batch, content=b'{"type": "x"}')
    assert _error(answer)[:2] == (400, "malformed_json")
