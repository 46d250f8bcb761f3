"""The OpenAPI documents themselves: valid OpenAPI 3.1 by a third-party validator, stable from one
start to the next, with the security, errors and media types the services really have."""

import re
from typing import Any

import jsonschema
import msgspec
import pytest
from openapi_spec_validator import validate

from services.ingest import create_app as create_ingest_app
from services.query import create_app as create_query_app
from threadlog.settings import Settings


def _documents() -> dict[str, dict[str, Any]]:
    settings = Settings()
    apps = {
        "ingest": create_ingest_app(settings.ingest()),
        "query": create_query_app(settings.query()),
    }
    # As served: msgspec encodes what Litestar renders (datetimes as RFC 3339 text).
    return {
        name: msgspec.json.decode(msgspec.json.encode(app.openapi_schema.to_schema()))
        for name, app in apps.items()
    }


DOCUMENTS = _documents()
OPERATIONS = [
    (name, path, method, operation)
    for name, document in DOCUMENTS.items()
    for path, item in document["paths"].items()
    for method, operation in item.items()
]


@pytest.mark.parametrize("name", list(DOCUMENTS))
def test_documents_are_valid_openapi(name: str) -> None:
    """openapi-spec-validator finds nothing wrong with either document."""
    validate(DOCUMENTS[name])


def test_documents_are_stable() -> None:
    """Two starts serve the same documents: no random examples, no times of the moment."""
    assert _documents() == DOCUMENTS


def test_bearer_scheme_is_declared_and_applied() -> None:
    """The Bearer scheme is declared; probes need nothing, public reads take a key optionally,
    writes and the moderation queue need one."""
    for document in DOCUMENTS.values():
        scheme = document["components"]["securitySchemes"]["bearer"]
        assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    query, ingest = DOCUMENTS["query"]["paths"], DOCUMENTS["ingest"]["paths"]
    assert query["/healthz"]["get"]["security"] == []
    assert ingest["/readyz"]["get"]["security"] == []
    assert query["/v1/articles/{article_id}/thread"]["get"]["security"] == [{}, {"bearer": []}]
    assert query["/v1/moderation/queue"]["get"]["security"] == [{"bearer": []}]
    assert ingest["/v1/events"]["post"]["security"] == [{"bearer": []}]


def test_post_events_documents_every_status_it_answers() -> None:
    """POST /v1/events: 202 and each error status it sends, all in the shared error shape."""
    responses = DOCUMENTS["ingest"]["paths"]["/v1/events"]["post"]["responses"]
    assert set(responses) == {"202", "400", "401", "403", "413", "414", "415", "422", "429", "503"}
    for status, response in responses.items():
        if status != "202":
            schema = response["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorResponse"}, status
    assert "WWW-Authenticate" in responses["401"]["headers"]
    assert "Retry-After" in responses["503"]["headers"]


def test_query_errors_are_in_the_real_shape() -> None:
    """No query route documents Litestar's `{status_code, detail, extra}`; its 4xx and 5xx are
    the shared error shape, and thread pages document 304 with their ETag."""
    for name, path, _method, operation in OPERATIONS:
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorResponse"}, (name, path)
    thread = DOCUMENTS["query"]["paths"]["/v1/articles/{article_id}/thread"]["get"]
    assert {"200", "304", "400", "401", "404", "414", "429", "503"} <= set(thread["responses"])
    assert "ETag" in thread["responses"]["304"]["headers"]


def test_the_stream_is_an_event_stream() -> None:
    """The live stream's 200 is text/event-stream, not JSON."""
    stream = DOCUMENTS["query"]["paths"]["/v1/articles/{article_id}/stream"]["get"]
    assert list(stream["responses"]["200"]["content"]) == ["text/event-stream"]


def test_id_constraints_reach_the_document() -> None:
    """Schemas are msgspec's own: an id inside a list keeps its pattern and bounds."""
    mark_read = DOCUMENTS["query"]["components"]["schemas"]["MarkRead"]
    ids = mark_read["properties"]["ids"]["anyOf"][0]["items"]
    assert ids["pattern"].startswith("^[A-Za-z0-9._:-]+$")
    assert (ids["minLength"], ids["maxLength"]) == (1, 128)


def _examples(node: Any, schema: Any = None) -> list[tuple[Any, Any]]:
    """(example value, the schema it illustrates) pairs found anywhere in `node`."""
    found: list[tuple[Any, Any]] = []
    if isinstance(node, dict):
        if "schema" in node and isinstance(node.get("examples"), dict):
            found += [(e["value"], node["schema"]) for e in node["examples"].values()]
        for value in node.values():
            found += _examples(value)
    elif isinstance(node, list):
        for value in node:
            found += _examples(value)
    return found


@pytest.mark.parametrize("name", list(DOCUMENTS))
def test_examples_validate_and_times_carry_a_zone(name: str) -> None:
    """Every example is valid against its schema, and every time in one has a zone."""
    document = DOCUMENTS[name]
    examples = _examples(document["paths"])
    assert examples
    for value, schema in examples:
        resolver = {"components": document["components"], **schema}
        jsonschema.validate(value, resolver)
        for text in re.findall(r"\d{4}-\d\d-\d\dT[0-9:.]+[^\"']{0,6}", str(value)):
            assert re.search(r"(Z|[+-]\d\d:\d\d)$", text), text
