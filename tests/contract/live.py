"""Live output for the contract tests: an event of every type (the data of each type's current
sample), and records read back from Kafka as the instances a validator is given."""

import json
import uuid
from typing import Any

from aiokafka.structs import ConsumerRecord

from events.upcast import dataschema
from threadlog.contract import DEFAULT_DIR

SAMPLES = sorted((DEFAULT_DIR / "samples").glob("*.json"))


def every_type() -> list[dict[str, Any]]:
    """One event of every current-version sample, with its data, its import mark when it has
    one (`ce_importedfrom`), and a fresh id."""
    events = []
    for path in SAMPLES:
        sample = json.loads(path.read_text())
        type_ = sample["headers"]["ce_type"]
        if sample["headers"].get("ce_dataschema") == dataschema(type_):
            event = {"id": f"live-{uuid.uuid4().hex[:12]}", "type": type_, "data": sample["value"]}
            if "ce_importedfrom" in sample["headers"]:
                event["importedfrom"] = sample["headers"]["ce_importedfrom"]
            events.append(event)
    return events


def instance(schema: str, label: str, data: Any) -> str:
    """One line of tests/contract/node/ajv.mjs's input."""
    return json.dumps({"schema": schema, "label": label, "data": data})


def record_headers(record: ConsumerRecord) -> dict[str, str]:
    """A record's headers as the text a consumer reads (all of ours are UTF-8)."""
    return {name: value.decode() for name, value in record.headers}
