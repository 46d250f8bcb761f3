"""The OpenAPI request body of POST /v1/events, derived from the event catalog.

The handler reads the raw body (so that one bad event can be reported with its index instead of
failing the whole decode), which leaves Litestar nothing to describe. This module describes it:
one envelope or an array of them, each envelope the JSON Schema msgspec gives for the envelope
the codec decodes, its `data` the schema of its type. Clients and fuzzers (schemathesis) read it
from /schema/openapi.json.
"""

from dataclasses import dataclass
from typing import Any, cast

import msgspec
from litestar.openapi.spec import OpenAPIMediaType, Operation, RequestBody, Schema

from events import EVENT_TYPES, Limits
from events.codec import PostedEnvelope

_REF = "#/components/schemas/"


def _inline(schema: Any, components: dict[str, Any]) -> Any:
    """`schema` with every `$ref` to a component replaced by the component itself."""
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith(_REF):
            return _inline(components[ref.removeprefix(_REF)], components)
        return {key: _inline(value, components) for key, value in schema.items()}
    if isinstance(schema, list):
        return [_inline(item, components) for item in schema]
    return schema


def envelope_schema(limits: Limits | None = None) -> dict[str, Any]:
    """JSON Schema of the body: one CloudEvents envelope, or an array of 1 to max_batch_events.

    Each envelope is msgspec's schema of the envelope the codec decodes, with its `type` one
    name and its `data` that type's schema, so the document cannot disagree with the codec."""
    limits = limits or Limits()
    names = list(EVENT_TYPES)
    (envelope_ref, *data_refs), components = msgspec.json.schema_components(
        [PostedEnvelope, *(EVENT_TYPES[name] for name in names)], ref_template=_REF + "{name}"
    )
    envelope = _inline(envelope_ref, components)
    envelopes = [
        {
            **envelope,
            "title": f"{name} envelope",
            "properties": {
                **envelope["properties"],
                "type": {"enum": [name]},
                "data": _inline(ref, components),
            },
        }
        for name, ref in zip(names, data_refs, strict=True)
    ]
    one, batch = _one_and_batch(envelopes, limits)
    return {"oneOf": [one, batch]}


def _one_and_batch(
    envelopes: list[dict[str, Any]], limits: Limits
) -> tuple[dict[str, Any], dict[str, Any]]:
    one = {"oneOf": envelopes}
    batch = {"type": "array", "items": one, "minItems": 1, "maxItems": limits.max_batch_events}
    return one, batch


@dataclass
class EventsOperation(Operation):
    """The POST /v1/events operation, with the request body Litestar cannot infer."""

    def __post_init__(self) -> None:
        """Describe the body the handler reads raw."""
        # Litestar renders a dict inside its spec objects as it is: the schema stays the JSON
        # Schema msgspec generated, rather than a hand-copied tree of Schema objects.
        schema = envelope_schema()
        one, batch = schema["oneOf"]
        self.request_body = RequestBody(
            content={
                "application/json": OpenAPIMediaType(schema=cast(Schema, schema)),
                "application/cloudevents+json": OpenAPIMediaType(schema=cast(Schema, one)),
                "application/cloudevents-batch+json": OpenAPIMediaType(schema=cast(Schema, batch)),
            },
            description="One event envelope, or an array of up to 1,000 (all valid or none"
            " appended), in CloudEvents structured or batch mode. Binary mode is accepted too:"
            " the context attributes as `ce-*` headers (`ce-specversion`, `ce-type`, `ce-id`,"
            " `ce-source`, `ce-time`), the event's `data` as the `application/json` body.",
            required=True,
        )
