"""What the OpenAPI documents say beyond the handlers' types: who may call, and how each fails.

Litestar derives paths, parameters and bodies from the handlers. Two things it cannot know:

- **Security.** Admission decides who may call a route with one rule function per service
  (services/auth/admission.py). `document` reads every operation's rule from that same function,
  so the document cannot disagree with it: open routes need nothing, public reads take a key
  optionally (`[{}, {"bearer": []}]`), others need the Bearer key (and say which scope).
- **Errors.** Every error is `services.errors.ErrorResponse`. A route declares the errors of its
  own handler with `errors(...)` on its decorator; `document` adds those admission answers for
  every admitted route (400 NUL in the URL, 401, 403 for a scope, 414, 429, 503) and the headers
  that go with some statuses (`WWW-Authenticate`, `Retry-After`, `ETag`).

Examples are written here, not generated: Litestar's generated ones are random on every start
and carry times without a zone.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any

import msgspec
from litestar import Litestar
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.spec import (
    Components,
    Example,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Parameter,
    Reference,
    Schema,
    SecurityScheme,
)

from services.auth import SCOPES
from services.errors import ErrorResponse

BEARER = "bearer"
_KEY: list[dict[str, list[str]]] = [{BEARER: []}]
_KEY_OPTIONAL: list[dict[str, list[str]]] = [{}, {BEARER: []}]
_ERROR = Reference(ref="#/components/schemas/ErrorResponse")

Rule = Callable[[str, str], Any]
"""(method, path) -> the admission rule: "open", "optional", "key" or a scope name."""

_MEANING = {
    400: "Bad request",
    401: "No key, or an unknown or revoked one",
    403: "The key lacks a scope",
    404: "Not found",
    409: "Conflict",
    413: "Body too large",
    414: "URL too long",
    415: "Unsupported media type",
    422: "Invalid events",
    429: "Over a rate limit",
    503: "Unavailable for now; retry after Retry-After",
}

_MESSAGES = {
    "invalid_parameter": "limit: Expected `int` <= 200; fix the parameter.",
    "malformed_json": "The body is not valid JSON; send JSON.",
    "unauthorized": "This endpoint needs an API key: send `Authorization: Bearer <key>`.",
    "forbidden": "Key 'cms' lacks the 'moderate' scope this endpoint needs.",
    "rate_limited": "Key 'cms' is over its rate limit; retry after the Retry-After seconds.",
    "overloaded": "100 requests are already in progress; retry shortly.",
}


def _header(description: str) -> OpenAPIHeader:
    return OpenAPIHeader(
        schema=Schema(type=OpenAPIType.STRING), description=description, required=True
    )


_HEADERS: dict[int, dict[str, OpenAPIHeader]] = {
    401: {"WWW-Authenticate": _header('The Bearer challenge: `Bearer realm="threadlog"`')},
    429: {"Retry-After": _header("Seconds to wait before retrying")},
    503: {"Retry-After": _header("Seconds to wait before retrying")},
}
_ETAG = _header("The page's weak entity tag; send it back as `If-None-Match`")
"""Headers every answer of the status carries (tests/fuzz checks them with schemathesis)."""


def _example(code: str) -> dict[str, Any]:
    message = _MESSAGES.get(code, f"What happened ({code}) and what to do next.")
    return {"error": {"code": code, "message": message}}


def _description(status: int, codes: Iterable[str]) -> str:
    return f"{_MEANING.get(status, 'Error')}: " + ", ".join(f"`{c}`" for c in codes)


def errors(by_status: Mapping[int, Iterable[str]]) -> dict[int, ResponseSpec]:
    """The error answers of one route's handler, by status, with the codes each may carry:
    `responses=errors({404: ["article_not_found"]})` on its decorator."""
    return {
        status: ResponseSpec(
            ErrorResponse,
            generate_examples=False,
            description=_description(status, codes),
            examples=[Example(summary=code, value=_example(code)) for code in codes],
        )
        for status, codes in by_status.items()
    }


NOT_MODIFIED = ResponseSpec(
    None,
    generate_examples=False,
    description="Not modified: the client's copy (`If-None-Match`) is current; no body",
)
"""The 304 of a page with an ETag (see services/http_semantics.py `none_match`)."""

STREAM_RESPONSES = {
    200: ResponseSpec(
        str,
        generate_examples=False,
        media_type="text/event-stream",
        description="Server-Sent Events (`comment`, `removed`, `reset`), each with its log"
        " position as its id; the stream stays open",
    ),
    **errors({400: ["invalid_parameter"], 429: ["too_many_streams"], 503: ["too_many_streams"]}),
}
"""The live stream's answers: an event stream, not JSON."""

_CONVENTIONS = (
    " HTTP follows RFC 9110: HEAD wherever GET works, conditional requests (`If-None-Match`,"
    " weak comparison, `*`), OPTIONS without a key, CORS when the operator allows origins."
    ' Every error is `{"error": {"code", "message", "details"?}}` with a stable `code`.'
    " Authenticate with `Authorization: Bearer <key>`."
)
INGEST_DESCRIPTION = (
    "Append CloudEvents to threadlog's log: all events of a request are appended, or none."
    + _CONVENTIONS
)
QUERY_DESCRIPTION = (
    "Read threadlog's comment threads, timelines and moderation queue; public reads need no key."
    + _CONVENTIONS
)


def openapi_config(title: str, description: str) -> OpenAPIConfig:
    """The service's OpenAPI config: the Bearer scheme declared, required unless an operation
    says otherwise (see `document`), no generated examples."""
    return OpenAPIConfig(
        title=title,
        version="1.0.0",
        description=description,
        components=Components(
            security_schemes={
                BEARER: SecurityScheme(
                    type="http",
                    scheme="bearer",
                    description="An API key (`tl_...`); `threadlog keys create` makes one.",
                )
            }
        ),
        security=_KEY,
        create_examples=False,
    )


def _admission_errors(rule: Any) -> dict[int, list[str]]:
    if rule == "open":
        return {}
    found: dict[int, list[str]] = {
        400: ["invalid_parameter"],
        401: ["unauthorized"],
        414: ["uri_too_long"],
        429: ["rate_limited"],
        503: ["overloaded", "auth_unavailable"],
    }
    if rule in SCOPES:
        found[403] = ["forbidden"]
    return found


def _structs(app: Litestar) -> list[type[msgspec.Struct]]:
    """The msgspec Structs the app's handlers take as bodies or answer with."""
    found: list[Any] = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            signature = handler.parsed_fn_signature
            found.append(signature.return_type.annotation)
            if "data" in signature.parameters:
                found.append(signature.parameters["data"].annotation)
            found += [spec.data_container for spec in (handler.responses or {}).values()]
    structs = [t for t in found if isinstance(t, type) and issubclass(t, msgspec.Struct)]
    return list(dict.fromkeys(structs))


def _error_schemas() -> dict[str, Any]:
    """ErrorResponse and what it holds, as components, for a document no handler declared one
    in (Litestar renders a dict inside its spec objects as it is)."""
    _, components = msgspec.json.schema_components(
        [ErrorResponse], ref_template="#/components/schemas/{name}"
    )
    return components


def _error_response(status: int, codes: list[str]) -> OpenAPIResponse:
    return OpenAPIResponse(
        description=_description(status, codes),
        content={
            "application/json": OpenAPIMediaType(
                schema=_ERROR,
                examples={code: Example(summary=code, value=_example(code)) for code in codes},
            )
        },
    )


def _ours(response: Any) -> bool:
    """Whether `response` is absent or already in the shared error shape."""
    if not isinstance(response, OpenAPIResponse):
        return response is None
    return _refers_to_error((response.content or {}).get("application/json"))


def _refers_to_error(media: OpenAPIMediaType | None) -> bool:
    schema = media.schema if media is not None else None
    return isinstance(schema, Reference) and schema.ref == _ERROR.ref


def _merged(old: OpenAPIResponse, status: int, codes: list[str]) -> OpenAPIResponse:
    """The handler's own answer of `status` (made by `errors`), with admission's codes too."""
    media = (old.content or {}).get("application/json")
    if media is None:
        return old
    known = {
        example.summary: example
        for example in (media.examples or {}).values()
        if isinstance(example, Example) and example.summary
    }
    for code in codes:
        known.setdefault(code, Example(summary=code, value=_example(code)))
    return replace(
        old,
        description=_description(status, known),
        content={"application/json": replace(media, examples=dict(known))},
    )


def _headers_are_never_null(operation: Operation) -> None:
    """A header is sent or not, never `null`: an optional one (`str | None` in the handler) is
    documented as its value's schema alone, so that no client sends the text `null`."""
    for parameter in operation.parameters or []:
        if not isinstance(parameter, Parameter) or parameter.param_in != "header":
            continue
        schema = parameter.schema
        if not isinstance(schema, Schema):
            continue
        kept = [s for s in schema.one_of or [] if getattr(s, "type", None) != OpenAPIType.NULL]
        if schema.one_of and len(kept) == 1 and isinstance(kept[0], Schema):
            parameter.schema = replace(schema, one_of=None, type=kept[0].type)


def _secure(operation: Operation, rule: Any) -> None:
    if rule == "open":
        operation.security = []
    elif rule == "optional":
        operation.security = _KEY_OPTIONAL
    else:
        operation.security = _KEY
        if rule in SCOPES:
            needs = f"Needs a key with the `{rule}` scope (or `admin`)."
            operation.description = f"{operation.description or ''}\n\n{needs}".strip()


def document(
    app: Litestar,
    rule: Rule,
    everywhere: Mapping[int, Iterable[str]] | None = None,
    admitted_only: frozenset[str] = frozenset(),
) -> Litestar:
    """Complete `app`'s OpenAPI document: each operation's security from admission's `rule`,
    the errors admission (and `everywhere`, for what every admitted route may answer) adds to
    the handler's own, the headers of each status. Built once, here, so the served document is
    the completed one. Parameters in `admitted_only` (read by admission) are left out of open
    routes, which admission does not look at."""
    openapi = app.openapi_schema
    schemas = openapi.components.schemas if openapi.components else None
    if schemas is not None:
        if "ErrorResponse" not in schemas:
            schemas.update(_error_schemas())
        # msgspec's own schema of each Struct a handler takes or answers: what its decoder
        # enforces (Litestar's rendering drops constraints inside containers: `list[Id]`).
        _, decoded = msgspec.json.schema_components(
            _structs(app), ref_template="#/components/schemas/{name}"
        )
        schemas.update({name: schema for name, schema in decoded.items() if name in schemas})
    for path, item in (openapi.paths or {}).items():
        for method in ("get", "put", "post", "delete", "patch"):
            operation: Operation | None = getattr(item, method)
            if operation is None:
                continue
            _headers_are_never_null(operation)
            route_rule = rule(method.upper(), path)
            if route_rule == "open" and operation.parameters:
                operation.parameters = [
                    p for p in operation.parameters if getattr(p, "name", None) not in admitted_only
                ] or None
            _secure(operation, route_rule)
            responses = dict(operation.responses or {})
            extra = _admission_errors(route_rule)
            if route_rule != "open":
                for status, codes in (everywhere or {}).items():
                    extra[status] = [*extra.get(status, []), *codes]
            if not _ours(responses.get("400")):
                # Litestar's own 400 ({status_code, detail, extra}) for a parameter it could not
                # parse: services.errors answers that in our shape, as invalid_parameter.
                responses["400"] = _error_response(400, ["invalid_parameter"])
            for status, codes in sorted(extra.items()):
                old = responses.get(str(status))
                responses[str(status)] = (
                    _error_response(status, codes)
                    if not isinstance(old, OpenAPIResponse)
                    else _merged(old, status, codes)
                )
            for status_text, response in responses.items():
                headers = _HEADERS.get(int(status_text))
                if "304" in responses and status_text in ("200", "304"):
                    headers = {**(headers or {}), "ETag": _ETAG}
                if headers and isinstance(response, OpenAPIResponse):
                    response.headers = {**(response.headers or {}), **headers}
            operation.responses = responses
    return app
