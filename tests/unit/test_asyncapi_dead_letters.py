"""The AsyncAPI document describes the dead-letter topic as it is written: a message of its own,
not the event messages, declaring every `threadlog.dlq.*` header."""

from typing import Any

import jsonschema

from events.contract import asyncapi

DEAD_LETTER_HEADERS = ("stage", "error", "topic", "partition", "offset", "time")


def _resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        found: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            found = found[part]
        node = found
    return node


def _dead_letter_message(document: dict[str, Any]) -> dict[str, Any]:
    messages = list(document["channels"]["deadLetters"]["messages"].values())
    assert len(messages) == 1, "the dead-letter channel carries one message: the dead letter"
    return _resolve(document, messages[0])


def test_the_dead_letter_channel_has_a_message_of_its_own() -> None:
    """No event message is reused on the dead-letter channel: a parked record is not an event
    (it may not even be JSON), and its headers are the dead letter's."""
    document = asyncapi()
    event_messages = {
        id(_resolve(document, ref)) for ref in document["channels"]["events"]["messages"].values()
    }
    assert id(_dead_letter_message(document)) not in event_messages


def test_the_dead_letter_message_declares_every_dlq_header() -> None:
    """Each of the six headers every reader writes is declared and required; the original
    record's headers may come along; a header set like the worker's validates, one without its
    partition does not."""
    headers = _dead_letter_message(asyncapi())["headers"]
    names = [f"threadlog.dlq.{name}" for name in DEAD_LETTER_HEADERS]
    assert set(names) <= set(headers["properties"])
    assert set(names) <= set(headers["required"])
    written = {
        "ce_id": "e1",
        "threadlog.dlq.stage": "decode",
        "threadlog.dlq.error": "data: Malformed JSON",
        "threadlog.dlq.topic": "threadlog.events",
        "threadlog.dlq.partition": "3",
        "threadlog.dlq.offset": "1042",
        "threadlog.dlq.time": "2026-11-25T14:20:03.120000+00:00",
    }
    jsonschema.validate(written, headers, format_checker=jsonschema.FormatChecker())
    missing = {k: v for k, v in written.items() if k != "threadlog.dlq.partition"}
    assert not jsonschema.Draft202012Validator(headers).is_valid(missing)


def test_a_dead_letter_can_be_received() -> None:
    """A code generator gets a receive operation for the dead-letter channel, as for events."""
    operations = asyncapi()["operations"].values()
    assert any(op["channel"] == {"$ref": "#/channels/deadLetters"} for op in operations)
