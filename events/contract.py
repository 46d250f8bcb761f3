"""The published contract, generated from the msgspec definitions: JSON Schemas and AsyncAPI.

`contract_files()` is pure: it returns the text of every generated file by its path under
schemas/. `threadlog schema` writes them; tests/unit/test_schema_contract.py fails when the
checked-in copies differ, so the files a consumer reads are always those the code enforces.
A schema file is named for its type and version and is never rewritten once that version is
published: a new version adds a file beside it.
"""

import json
from typing import Any, Final

import msgspec

from events.catalog import EVENT_TYPES
from events.codec import CONTENT_TYPE
from events.imported import IMPORT_SOURCES
from events.sealing import PERSONAL_FIELDS, SEALED_FORM
from events.upcast import SEALED_SUFFIX, dataschema

JSON_SCHEMA_DRAFT: Final = "https://json-schema.org/draft/2020-12/schema"
KAFKA_BINDING_VERSION: Final = "0.5.0"
DEFAULT_TOPIC: Final = "threadlog.events"
DEFAULT_DLQ_TOPIC: Final = "threadlog.events.dlq"

DLQ_HEADER_PREFIX: Final = "threadlog.dlq."
DEAD_LETTER_STAGES: Final = ("decode", "apply", "subscribe")
"""Where a record was found undecodable or unappliable: the worker's decoding, its apply, a
subscriber (`events.subscribe`)."""
_DIGITS = {"type": "string", "pattern": "^[0-9]+$"}
DEAD_LETTER_HEADERS: Final[dict[str, dict[str, Any]]] = {
    "stage": {"enum": list(DEAD_LETTER_STAGES), "description": "Which reader parked it."},
    "error": {
        "type": "string",
        "description": "Why, as the reader said it (at most 4,000 bytes of UTF-8).",
    },
    "topic": {"type": "string", "minLength": 1, "description": "The topic it was read from."},
    "partition": {**_DIGITS, "description": "Its partition there, in decimal."},
    "offset": {**_DIGITS, "description": "Its offset there, in decimal."},
    "time": {"type": "string", "format": "date-time", "description": "When it was parked."},
}
"""The headers every reader adds to a record it parks (after the record's own), by the name
after `DLQ_HEADER_PREFIX`. Declared here, with the contract, so that the document says exactly
what the readers write; a test compares a real worker's dead letters with it."""

_ID_HEADER = {"type": "string", "minLength": 1, "maxLength": 128, "pattern": "^[A-Za-z0-9._:-]+$"}


def _text(document: object) -> str:
    return json.dumps(document, indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def schema_path(type_: str, version: int) -> str:
    """Where the JSON Schema of one version of one type lives, relative to schemas/."""
    return f"events/{type_}.v{version}.json"


def event_schema(type_: str) -> dict[str, Any]:
    """The JSON Schema (2020-12) of the current version of `type_`'s data."""
    cls = EVENT_TYPES[type_]
    generated = msgspec.json.schema(cls)
    return {
        "$schema": JSON_SCHEMA_DRAFT,
        # The record's `ce_dataschema` header names this id: a consumer finds its schema by it.
        "$id": dataschema(type_),
        **generated,
    }


def _headers(type_: str) -> dict[str, Any]:
    """The Kafka headers of a record of `type_`: CloudEvents binary mode."""
    return {
        "type": "object",
        "description": "CloudEvents 1.0 context attributes, binary content mode (ce_* headers).",
        "properties": {
            "ce_specversion": {"const": "1.0"},
            "ce_id": {**_ID_HEADER, "description": "Idempotency key: apply an id once."},
            "ce_type": {"const": type_},
            "ce_source": {"type": "string", "minLength": 1, "maxLength": 512},
            "ce_time": {"type": "string", "format": "date-time"},
            "ce_dataschema": {
                **(
                    {"enum": [dataschema(type_), dataschema(type_) + SEALED_SUFFIX]}
                    if type_ in PERSONAL_FIELDS
                    else {"const": dataschema(type_)}
                ),
                "description": "Names the version of the data (`:sealed` appended when its"
                " personal fields are sealed); absent on version 1 records written before"
                " 2026-11-25.",
            },
            "ce_producerkey": {
                "type": "string",
                "description": "Extension: the name of the API key that produced the event.",
            },
            "ce_recordedtime": {
                "type": "string",
                "format": "date-time",
                "description": "Extension (CloudEvents `recordedtime`): when ingest accepted the"
                " event into the log. Bans and the edit window go by it; `ce_time` is the"
                " producer's and is the one shown. Absent on records written before 2026-12-01,"
                " which go by `ce_time`.",
            },
            "ce_importedfrom": {
                "enum": list(IMPORT_SOURCES),
                "description": "Extension: on imported history only, the format it was imported"
                " from. The worker decides such an event by the source's history: no holds, edit"
                " window, closed-thread refusal or ban; bans and the edit window go by `ce_time`."
                " Only a key with the `import` scope may post it.",
            },
            "content-type": {"const": CONTENT_TYPE},
            **(
                {
                    "ce_sealedwith": {
                        "type": "string",
                        "description": "Extension: present when personal fields are sealed;"
                        " the ids of the data keys used, comma separated. Each sealed field"
                        f" ({', '.join(f for f, _ in PERSONAL_FIELDS[type_])}) then holds a"
                        " SealedField object instead of its text.",
                    }
                }
                if type_ in PERSONAL_FIELDS
                else {}
            ),
        },
        "required": ["ce_specversion", "ce_id", "ce_type", "ce_source", "ce_time"],
    }


SEALED_FIELD_SCHEMA: Final[dict[str, Any]] = {
    "$schema": JSON_SCHEMA_DRAFT,
    "$id": f"urn:threadlog:SealedField:{SEALED_FORM}",
    "title": "SealedField",
    "description": "A personal field sealed with AES-256-GCM under the data key of the person"
    " the text belongs to (crypto-shredding: erasing them destroys the key). Associated data:"
    " the event id, a NUL byte, the field's name, as UTF-8. Nonce and ciphertext (with its"
    " 16-byte tag) in unpadded base64url. Opening it needs the key store (README, Security).",
    "type": "object",
    "properties": {
        "enc": {"const": SEALED_FORM},
        "kid": {"type": "string", "minLength": 1, "description": "The data key's id."},
        "n": {"type": "string", "description": "The 12-byte nonce."},
        "ct": {"type": "string", "description": "Ciphertext and tag."},
    },
    "required": ["enc", "kid", "n", "ct"],
    "additionalProperties": False,
}
"""The form of a sealed field on Kafka (events/sealing.py)."""


def sealed_schema(type_: str) -> dict[str, Any]:
    """The JSON Schema of `type_`'s data as a sealed record holds it: each personal field its
    text or a SealedField (the record's `dataschema` ends in `:sealed`)."""
    schema = json.loads(json.dumps(event_schema(type_)))
    schema["$id"] = dataschema(type_) + SEALED_SUFFIX
    properties = schema["$defs"][type_]["properties"] if "$defs" in schema else schema["properties"]
    for field, _ in PERSONAL_FIELDS[type_]:
        properties[field] = {"oneOf": [properties[field], {"$ref": SEALED_FIELD_SCHEMA["$id"]}]}
    return dict(schema)


def _payload(name: str, components: dict[str, Any]) -> dict[str, Any]:
    """A message's data: the type's schema, each personal field either its text or sealed."""
    ref = {"$ref": f"#/components/schemas/{name}"}
    if name not in PERSONAL_FIELDS:
        return ref
    schema = json.loads(json.dumps(components[name]))
    for field, _ in PERSONAL_FIELDS[name]:
        schema["properties"][field] = {
            "oneOf": [schema["properties"][field], {"$ref": "#/components/schemas/SealedField"}]
        }
    return dict(schema)


def _dead_letter_message() -> dict[str, Any]:
    """A parked record: the original key, value and headers, untouched, plus the dead-letter
    headers. Not an event message: the value may not even be JSON."""
    return {
        "name": "DeadLetter",
        "title": "A record no reader could decode or apply",
        "summary": "The original record, byte for byte, with threadlog.dlq.* headers added;"
        " `threadlog dlq redrive` appends it to the event topic again without them.",
        "contentType": "application/octet-stream",
        "headers": {
            "type": "object",
            "description": "The original record's headers (ce_* when it had them), then the"
            " dead-letter headers.",
            "properties": {
                f"{DLQ_HEADER_PREFIX}{name}": schema for name, schema in DEAD_LETTER_HEADERS.items()
            },
            "required": [f"{DLQ_HEADER_PREFIX}{name}" for name in DEAD_LETTER_HEADERS],
        },
        "payload": {
            "description": "The original record's value, untouched: usually the JSON of an"
            " event's data, but whatever bytes the record held (that may be why it is here)."
        },
        "bindings": {
            "kafka": {
                "key": {"type": "string", "description": "The original record's key."},
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
    }


def asyncapi(topic: str = DEFAULT_TOPIC, dlq_topic: str = DEFAULT_DLQ_TOPIC) -> dict[str, Any]:
    """The AsyncAPI 3.0 document of the event log and its dead-letter topic."""
    types = sorted(EVENT_TYPES)
    _, components = msgspec.json.schema_components(
        [EVENT_TYPES[name] for name in types], ref_template="#/components/schemas/{name}"
    )
    messages = {
        name: {
            "name": name,
            "title": f"{name} v{EVENT_TYPES[name].VERSION}",
            "summary": (EVENT_TYPES[name].__doc__ or "").strip(),
            "contentType": CONTENT_TYPE,
            "headers": _headers(name),
            "payload": _payload(name, components),
            "bindings": {
                "kafka": {
                    "key": {
                        "type": "string",
                        "description": "The article id; `author:<id>` for AuthorBanned,"
                        " AuthorUnbanned and AuthorErased. Events of one key keep their order.",
                    },
                    "bindingVersion": KAFKA_BINDING_VERSION,
                }
            },
        }
        for name in types
    }
    messages["DeadLetter"] = _dead_letter_message()
    refs = {name: {"$ref": f"#/components/messages/{name}"} for name in types}
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "threadlog events",
            "version": "1.0.0",
            "description": "Every state change of threadlog's comment threads, as CloudEvents on"
            " Kafka (binary mode). The topic is the source of truth and is kept forever; read it"
            " from the start to rebuild anything. Evolution rules: schemas/README.md.",
        },
        "defaultContentType": CONTENT_TYPE,
        "channels": {
            "events": {
                "address": topic,
                "description": "The event log (THREADLOG_TOPIC).",
                "messages": refs,
                "bindings": {"kafka": {"topic": topic, "bindingVersion": KAFKA_BINDING_VERSION}},
            },
            "deadLetters": {
                "address": dlq_topic,
                "description": "Records no reader could decode or apply, untouched, with"
                " threadlog.dlq.{stage,error,topic,partition,offset,time} headers added"
                " (THREADLOG_DLQ_TOPIC).",
                "messages": {"DeadLetter": {"$ref": "#/components/messages/DeadLetter"}},
                "bindings": {
                    "kafka": {"topic": dlq_topic, "bindingVersion": KAFKA_BINDING_VERSION}
                },
            },
        },
        "operations": {
            "receiveEvents": {
                "action": "receive",
                "channel": {"$ref": "#/channels/events"},
                "summary": "Subscribe to every event; dispatch on the ce_type header.",
                "messages": [{"$ref": f"#/channels/events/messages/{name}"} for name in types],
            },
            "receiveDeadLetters": {
                "action": "receive",
                "channel": {"$ref": "#/channels/deadLetters"},
                "summary": "Inspect parked records (`threadlog dlq list` does it for operators).",
                "messages": [{"$ref": "#/channels/deadLetters/messages/DeadLetter"}],
            },
        },
        "components": {
            "messages": messages,
            "schemas": {
                **components,
                "SealedField": {k: v for k, v in SEALED_FIELD_SCHEMA.items() if k[0] != "$"},
            },
        },
    }


def contract_files() -> dict[str, str]:
    """Every generated file of schemas/, by its path relative to that folder."""
    files = {
        schema_path(name, cls.VERSION): _text(event_schema(name))
        for name, cls in sorted(EVENT_TYPES.items())
    }
    files["asyncapi.json"] = _text(asyncapi())
    files[f"events/SealedField.{SEALED_FORM}.json"] = _text(SEALED_FIELD_SCHEMA)
    for name in sorted(PERSONAL_FIELDS):
        version = EVENT_TYPES[name].VERSION
        files[f"events/{name}.v{version}.sealed.json"] = _text(sealed_schema(name))
    return files
