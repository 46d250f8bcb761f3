"""The OpenAPI request body of POST /v1/events, derived from the event catalog.

The handler reads the raw body (so that one bad event can be reported with its index instead of
failing the whole decode), which leaves Litestar nothing to describe. This module describes it:
one envelope or an array of them, each envelope's `data` the JSON Schema msgspec gives for its
type. Clients and fuzzers (schemathesis) read it from /schema/openapi.json.
"""

from dataclasses import dataclass
from typing import Any, cast

import msgspec
from litestar.openapi.spec import OpenAPIMediaType, Operation, RequestBody, Schema

from events import EVENT_TYPES, Limits

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
    """JSON Schema of the body: one CloudEvents envelope, or an array of 1 to max_batch_events."""
    limits = limits or Limits()
    names = list(EVENT_TYPES)
    refs, components = msgspec.json.schema_components(
        [EVENT_TYPES[name] for name in names], ref_template=_REF + "{name}"
    )
    envelopes = [
        {
            "type": "object",
            "title": f"{name} envelope",
            "properties": {
                "type": {"enum": [name]},
                "id": {"type": "string", "minLength": 1, "maxLength": 128},
                "source": {"type": "string", "minLength": 1, "maxLength": 200},
                "time": {"type": "string", "format": "date-time"},
                "specversion": {"enum": ["1.0"]},
                "datacontenttype": {"enum": ["application/json"]},
                "data": _inline(ref, components),
            },
            "required": ["type", "data"],
            "additionalProperties": False,
        }
        for name, ref in zip(names, refs, strict=True)
    ]
    one = {"oneOf": envelopes}
    batch = {"type": "array", "items": one, "minItems": 1, "maxItems": limits.max_batch_events}
    return {"oneOf": [one, batch]}


@dataclass
class EventsOperation(Operation):
    """The POST /v1/events operation, with the request body Litestar cannot infer."""

    def __post_init__(self) -> None:
        """Describe the body the handler reads raw."""
        # Litestar renders a dict inside its spec objects as it is: the schema stays the JSON
        # Schema msgspec generated, rather than a hand-copied tree of Schema objects.
        schema = cast(Schema, envelope_schema())
        self.request_body = RequestBody(
            content={"application/json": OpenAPIMediaType(schema=schema)},
            description="One event envelope, or an array of up to 1,000 (all valid or none"
            " appended).",
            required=True,
        )
