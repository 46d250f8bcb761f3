"""Ingest's OpenAPI document describes the envelope the codec decodes, so clients and fuzzers
are told what is accepted: no attribute's bounds or pattern written out a second time."""

from typing import Any

import msgspec
import pytest

from events import EVENT_TYPES, Limits
from events.codec import PostedEnvelope
from services.ingest import create_app
from threadlog.settings import Settings

_REF = "#/$defs/"


def inline(schema: Any, defs: dict[str, Any]) -> Any:
    """`schema` with each `$ref` replaced by the definition it names."""
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str):
            return inline(defs[ref.removeprefix(_REF)], defs)
        return {key: inline(value, defs) for key, value in schema.items()}
    if isinstance(schema, list):
        return [inline(item, defs) for item in schema]
    return schema


def without_nulls(schema: Any) -> Any:
    """`schema` without its null values (`"default": null`): Litestar leaves them out."""
    if isinstance(schema, dict):
        return {key: without_nulls(value) for key, value in schema.items() if value is not None}
    if isinstance(schema, list):
        return [without_nulls(item) for item in schema]
    return schema


def msgspec_schema(kind: Any) -> dict[str, Any]:
    """What msgspec says `kind` decodes, every reference resolved, as Litestar renders it."""
    generated = msgspec.json.schema(kind)
    resolved: dict[str, Any] = without_nulls(inline(generated, generated.get("$defs", {})))
    resolved.pop("$defs", None)
    return resolved


def documented_envelopes() -> dict[str, dict[str, Any]]:
    """The envelope of each event type, from the OpenAPI document the ingest app serves."""
    document = create_app(Settings().ingest()).openapi_schema.to_schema()
    body = document["paths"]["/v1/events"]["post"]["requestBody"]["content"]["application/json"]
    one, batch = body["schema"]["oneOf"]
    assert batch["items"] == one
    assert batch["maxItems"] == Limits().max_batch_events
    return {envelope["properties"]["type"]["enum"][0]: envelope for envelope in one["oneOf"]}


@pytest.mark.parametrize("name", sorted(EVENT_TYPES))
def test_the_documented_envelope_is_the_codecs(name: str) -> None:
    """Each type's envelope is msgspec's schema of the envelope the codec decodes (`source` up
    to 512 characters, `id` with its pattern), its `type` that one name and its `data` that
    type's schema."""
    documented = documented_envelopes()[name]
    codec = msgspec_schema(PostedEnvelope)
    data = documented["properties"].pop("data")
    assert documented["properties"].pop("type") == {"enum": [name]}
    del codec["properties"]["data"], codec["properties"]["type"]
    assert documented["properties"] == codec["properties"]
    assert (documented["required"], documented["additionalProperties"]) == (
        codec["required"],
        codec["additionalProperties"],
    )
    assert data == msgspec_schema(EVENT_TYPES[name])


def test_every_event_type_has_its_envelope() -> None:
    """The document lists one envelope per type in the catalog."""
    assert sorted(documented_envelopes()) == sorted(EVENT_TYPES)
