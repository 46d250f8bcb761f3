"""Records on Kafka are standard CloudEvents: any Kafka client and the CloudEvents SDK read them,
and the checked-in JSON Schemas validate them, with no threadlog code involved."""

import asyncio
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer
from cloudevents.core.bindings.kafka import KafkaMessage, from_binary
from cloudevents.core.formats.json import JSONFormat
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from events import decode_record, encode_json
from subject_keys import KeyStore, open_keys_for
from tests.contract.live import every_type
from tests.integration.test_lifecycle_api import Client, ev, post
from threadlog.contract import DEFAULT_DIR
from threadlog.settings import Settings

SCHEMAS = DEFAULT_DIR / "events"


_REGISTRY: Registry = Registry().with_resources(
    (str(r.id()), r)
    for r in (Resource.from_contents(json.loads(p.read_text())) for p in SCHEMAS.glob("*.json"))
)
"""Every published schema by its $id: a sealed variant refers to SealedField.v1.json."""


def _validate(data: Any, type_: str, dataschema: str) -> None:
    sealed = dataschema.endswith(":sealed")
    version = dataschema.removesuffix(":sealed").rsplit(":", 1)[-1]
    name = f"{type_}.v{version}{'.sealed' if sealed else ''}.json"
    schema = json.loads(Path(SCHEMAS / name).read_text())
    assert schema["$id"] == dataschema
    Draft202012Validator(schema, registry=_REGISTRY).validate(data)


async def test_plain_kafka_client_cloudevents_sdk_and_threadlog_agree(
    settings: Settings, ingest: Client
) -> None:
    """Every record ingest appends (one of every event type) reads back, through a plain
    consumer and the official `cloudevents` SDK's Kafka binding in binary mode, as the same event
    (id, type, source, time, data, key) our own decoder gives; its extension attributes have
    names the CloudEvents spec allows and say which key produced it and when ingest accepted it;
    and its value validates against the schema its `ce_dataschema` header names."""
    posted = [
        ev("ArticlePublished", 0, article_id="art", title="T"),
        post("c1", 1),
        post("c2", 2, parent="c1", author="bob"),
        ev("CommentVoted", 3, article_id="art", comment_id="c1", voter_id="v", vote="up"),
        ev("AuthorBanned", 4, author_id="troll", moderator_id="m"),
        *every_type(),
    ]
    answer = await ingest.post("/v1/events", json=posted)
    assert answer.status_code == 202, answer.text
    consumer = AIOKafkaConsumer(
        settings.topic,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    records: list[Any] = []
    try:
        async with asyncio.timeout(30):
            while len(records) < len(posted):
                batches = await consumer.getmany(timeout_ms=500)
                records += [r for batch in batches.values() for r in batch]
    finally:
        await consumer.stop()
    assert {dict(r.headers)["ce_id"].decode() for r in records} == {e["id"] for e in posted}
    async with KeyStore(settings.key_store()) as store:
        keys = await open_keys_for(store, (r.headers for r in records))
    for record in records:
        ours = decode_record(record.headers, record.value, keys)
        sdk = from_binary(
            KafkaMessage(headers=dict(record.headers), key=record.key, value=record.value),
            JSONFormat(),
        )
        attributes = sdk.get_attributes()
        assert attributes["id"] == ours.id
        assert attributes["type"] == ours.type
        assert attributes["source"] == ours.source
        assert attributes["specversion"] == "1.0"
        assert attributes["time"] == ours.time
        assert attributes["datacontenttype"] == "application/json"
        assert attributes["partitionkey"] == ours.key
        # CloudEvents 1.0: attribute names are lower-case ASCII letters and digits.
        assert all(re.fullmatch("[a-z0-9]+", name) for name in attributes), attributes
        assert attributes["producerkey"] == "test-admin"
        # An extension's value reaches the SDK as the header's text: RFC 3339, with its zone.
        assert datetime.fromisoformat(attributes["recordedtime"]) == ours.recordedtime
        # The SDK reads the value as it is: sealed fields as SealedField objects (#17).
        assert sdk.get_data() == json.loads(record.value)
        if "sealedwith" not in attributes:
            assert sdk.get_data() == json.loads(encode_json(ours.data))
        _validate(sdk.get_data(), ours.type, attributes["dataschema"])
