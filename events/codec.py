"""Decode events from producers' requests and from Kafka records; encode them for Kafka.

On Kafka an event follows the CloudEvents Kafka protocol binding in binary mode: the context
attributes are `ce_*` headers, the value is the JSON of `data`, and the key is the article id.
Both directions go through one validation path, so the worker accepts exactly what ingest accepts.
"""

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final, Literal, get_args

import msgspec

from events import leap_seconds, request_body
from events.catalog import (
    EVENT_TYPES,
    Event,
    EventType,
)
from events.envelope import Envelope
from events.event_checks import domain_problems, time_problem
from events.fields import URI_REFERENCE_PATTERN, Id, LoggedSource, Source, Timestamp
from events.imported import IMPORT_SOURCES, ImportSource, import_only_problems
from events.limits import Limits
from events.problems import (
    InvalidEvents,
    MalformedRequest,
    Problem,
    UndecodableRecord,
    problem_from_validation,
)
from events.request_body import Shape
from events.sealing import SEALED_HEADER, DataKey, OpenKeys, open_value, seal_data, sealed_kids
from events.upcast import (
    SEALED_SUFFIX,
    UnknownVersion,
    current_version,
    dataschema,
    upcast,
    version_of,
)

Headers = Sequence[tuple[str, bytes]]
"""Kafka record headers, as aiokafka hands them over."""

CONTENT_TYPE: Final = "application/json"


class _EnvelopeIn(msgspec.Struct, forbid_unknown_fields=True):
    """The envelope as a producer posts it (CloudEvents structured mode)."""

    type: EventType
    data: msgspec.Raw
    id: Id | None = None
    source: Source = "/unknown"
    time: Timestamp | None = None
    specversion: Literal["1.0"] = "1.0"
    datacontenttype: Literal["application/json"] | None = None
    recordedtime: Timestamp | None = None
    """Accepted so that an event read from the log can be posted again as it is, and ignored:
    the log's own clock decides when it accepted an event (`Envelope.accepted_at`)."""
    dataschema: str | None = None
    """The version of `data` (`urn:threadlog:<type>:<version>`, as records carry it); an older
    version this code reads is upcast, a newer or unknown one refused."""
    partitionkey: str | None = None
    """The CloudEvents Kafka extension the SDK fills from a record's key: when given it must be
    the key the event's data implies (the article id, or `author:<id>`)."""
    producerkey: str | None = None
    """Accepted from an event read from the log and ignored: ingest records the key that posted."""
    importedfrom: ImportSource | None = None
    """The CloudEvents extension that marks imported history: the format it came from. Kept;
    only a key with the `import` scope may post it (services/ingest/accept.py)."""


PostedEnvelope = _EnvelopeIn
"""The envelope's type as posted, for describing it (ingest's OpenAPI document) from the code."""


class _RecordAttributes(msgspec.Struct):
    """The `ce_*` headers of a record, validated like a posted envelope."""

    type: EventType
    id: Id
    source: LoggedSource
    time: Timestamp
    specversion: Literal["1.0"]
    recordedtime: Timestamp | None = None
    importedfrom: ImportSource | None = None


_envelope_decoder = msgspec.json.Decoder(_EnvelopeIn)
_data_decoders = {name: msgspec.json.Decoder(cls) for name, cls in EVENT_TYPES.items()}
_encoder = msgspec.json.Encoder()


def _decode_data(
    index: int, type_: str, raw: bytes | memoryview
) -> tuple[Event | None, Problem | None]:
    try:
        return leap_seconds.decode(_data_decoders[type_], raw), None
    except msgspec.ValidationError as error:
        return None, problem_from_validation(index, error, "data")
    except msgspec.DecodeError as error:
        return None, Problem(index, "data", f"Malformed JSON: {error}")
    except UnicodeDecodeError as error:
        # msgspec raises this, not DecodeError, for invalid UTF-8 inside a JSON string.
        return None, Problem(index, "data", f"Malformed JSON: invalid UTF-8 at byte {error.start}")


def decode_request(
    body: bytes, limits: Limits, now: datetime | None = None, *, shape: Shape = "one_or_many"
) -> list[Envelope]:
    """Validate a posted body, one envelope or an array of them (as `shape` allows), and fill in
    defaults.

    Raises MalformedRequest when the body is not JSON or not of the shape, and InvalidEvents
    listing every event's problems when any event is invalid: a batch is accepted whole or not
    at all.
    """
    with request_body.not_too_deep():
        at = now or datetime.now(UTC)
        return _decode_items(request_body.split(body, shape), limits, at)


def decode_binary_request(
    attributes: Mapping[str, str], data: bytes, limits: Limits, now: datetime | None = None
) -> Envelope:
    """Validate one event posted in CloudEvents HTTP binary mode: its context attributes (the
    `ce-*` headers, percent-decoded, without the prefix) and its data (the body).

    The attributes and the data make the structured envelope that `decode_request` validates,
    so both modes accept the same events; a problem names the header it came from (`ce-time`).
    """
    with request_body.not_too_deep():
        raw = request_body.read_json(data, request_body.single_decoder)
        problems = []
        if "specversion" not in attributes:
            problems.append(
                Problem(0, "ce-specversion", "Object missing required field `specversion`")
            )
        if "data" in attributes:
            problems.append(
                Problem(0, "ce-data", "Not an attribute: in binary mode the body is the data")
            )
        if problems:
            raise InvalidEvents(problems)
        structured = msgspec.Raw(_encoder.encode({**attributes, "data": raw}))
        try:
            [envelope] = _decode_items([structured], limits, now or datetime.now(UTC))
        except InvalidEvents as error:
            raise InvalidEvents([_as_header(problem) for problem in error.problems]) from None
        return envelope


def _as_header(problem: Problem) -> Problem:
    """A problem with an attribute, named by its binary-mode header; data keeps its path."""
    if problem.field == "$" or problem.field.split(".")[0].split("[")[0] == "data":
        return problem
    return Problem(problem.index, f"ce-{problem.field}", problem.message)


def _readable(problem: Problem) -> Problem:
    # msgspec quotes the pattern that failed; the URI-reference's is too long to help anyone.
    if URI_REFERENCE_PATTERN not in problem.message:
        return problem
    return Problem(
        problem.index,
        problem.field,
        "Expected a URI-reference (RFC 3986), such as /cms or https://example.com/cms: ASCII"
        " only, spaces and other characters outside RFC 3986 percent-encoded (%20)",
    )


def _decode_items(items: list[msgspec.Raw], limits: Limits, at: datetime) -> list[Envelope]:
    if not items:
        raise InvalidEvents([Problem(0, "$", "Expected at least one event, got an empty array")])
    if len(items) > limits.max_batch_events:
        raise InvalidEvents(
            [
                Problem(
                    limits.max_batch_events,
                    "$",
                    f"Expected at most {limits.max_batch_events} events per request,"
                    f" got {len(items)}",
                )
            ]
        )
    envelopes: list[Envelope] = []
    problems: list[Problem] = []
    for index, raw in enumerate(items):
        decoded = _decode_item(index, raw, limits, at)
        if isinstance(decoded, Envelope):
            envelopes.append(decoded)
        else:
            problems.extend(decoded)
    if problems:
        raise InvalidEvents(problems)
    return envelopes


def _decode_item(
    index: int, raw: msgspec.Raw, limits: Limits, at: datetime
) -> Envelope | list[Problem]:
    """One posted envelope, or everything wrong with it."""
    try:
        wire = leap_seconds.decode(_envelope_decoder, raw)
    except msgspec.ValidationError as error:
        return [_readable(problem_from_validation(index, error, ""))]
    except msgspec.DecodeError as error:
        return [Problem(index, "$", f"Malformed JSON: {error}")]
    raw_data: bytes | memoryview = wire.data
    if wire.dataschema is not None:
        try:
            raw_data = _upcast_value(wire.type, wire.dataschema, bytes(wire.data))
        except UndecodableRecord as error:
            return [Problem(index, "dataschema", str(error))]
    data, problem = _decode_data(index, wire.type, raw_data)
    if data is None:
        assert problem is not None
        return [problem]
    found = domain_problems(index, data, limits)
    if wire.time is not None and (late := time_problem(index, wire.time, limits, at)):
        found.append(late)
    if wire.partitionkey is not None and wire.partitionkey != data.key:
        found.append(
            Problem(
                index,
                "partitionkey",
                f"Expected {data.key!r}, the key of this event's data, got {wire.partitionkey!r}",
            )
        )
    if found:
        return found
    return Envelope(
        id=wire.id or str(uuid.uuid4()),
        type=wire.type,
        source=wire.source,
        time=wire.time or at,
        data=data,
        recordedtime=at,
        importedfrom=wire.importedfrom,
    )


def encode_record(
    envelope: Envelope, keys: Mapping[str, DataKey] | None = None
) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    """The key, value and headers of the Kafka record that carries `envelope` (binary mode);
    with `keys` (subject id -> data key), its personal fields sealed (events/sealing.py)."""
    headers = [
        ("ce_specversion", envelope.specversion.encode()),
        ("ce_id", envelope.id.encode()),
        ("ce_type", envelope.type.encode()),
        ("ce_source", envelope.source.encode()),
        ("ce_time", envelope.time.isoformat().encode()),
        ("ce_dataschema", dataschema(envelope.type).encode()),
        ("content-type", CONTENT_TYPE.encode()),
    ]
    if envelope.recordedtime is not None:
        headers.append(("ce_recordedtime", envelope.recordedtime.isoformat().encode()))
    if envelope.importedfrom is not None:
        if envelope.importedfrom not in IMPORT_SOURCES:
            # Every reader would park such a record: refuse to write it (a bug of the caller).
            raise ValueError(
                f"importedfrom must be one of {', '.join(IMPORT_SOURCES)},"
                f" got {envelope.importedfrom!r}"
            )
        headers.append(("ce_importedfrom", envelope.importedfrom.encode()))
    if keys is not None:
        data = msgspec.to_builtins(envelope.data)
        used = seal_data(envelope.type, envelope.id, data, keys)
        if used:
            headers[5] = ("ce_dataschema", (dataschema(envelope.type) + SEALED_SUFFIX).encode())
            headers.append((SEALED_HEADER, ",".join(used).encode()))
            return envelope.key.encode(), _encoder.encode(data), headers
    return envelope.key.encode(), _encoder.encode(envelope.data), headers


def _upcast_value(type_: str, schema: str | None, value: bytes) -> bytes:
    """The record's value in the current version of its type (the read boundary's upcast)."""
    try:
        version = version_of(type_, schema)
        if version == current_version(type_):
            return value
        old = msgspec.json.decode(value, type=dict[str, Any])
        # Re-encoded so that the upcast data goes through the one validation path below.
        return _encoder.encode(upcast(type_, version, old))
    except UnknownVersion as error:
        raise UndecodableRecord(str(error)) from error
    except msgspec.DecodeError as error:
        raise UndecodableRecord(f"data: Malformed JSON: {error}") from error


def decode_record(headers: Headers, value: bytes | None, keys: OpenKeys | None = None) -> Envelope:
    """Read an event back from a Kafka record; raise UndecodableRecord if it is not one of ours.

    Sealed personal fields are opened with `keys` (key id -> data key, None once destroyed):
    an erased subject's text reads as a placeholder; without `keys` every sealed field does
    (a reader without access to the key store). Raises `sealing.KeyMissing` when `keys` lacks
    a key the record names: unavailable is not erased, the caller retries or parks it.
    """
    try:
        attributes = {name[3:]: raw.decode() for name, raw in headers if name[:3] == "ce_"}
    except UnicodeDecodeError:
        name = next(n for n, raw in headers if n[:3] == "ce_" and not _is_utf8(raw))
        raise UndecodableRecord(f"Header {name} is not UTF-8") from None
    try:
        context = msgspec.convert(attributes, _RecordAttributes, strict=False)
    except msgspec.ValidationError as error:
        raise UndecodableRecord(
            f"Record headers are not valid CloudEvents attributes: {error}"
        ) from error
    if value is None:
        raise UndecodableRecord("Record has no value; expected the event's data as JSON")
    value = _upcast_value(context.type, attributes.get("dataschema"), value)
    if sealed_kids(headers):
        try:
            value = open_value(context.type, context.id, value, keys)
        except (ValueError, msgspec.DecodeError) as error:
            raise UndecodableRecord(f"sealed data: {error}") from error
    data, problem = _decode_data(0, context.type, value)
    if data is None:
        assert problem is not None
        raise UndecodableRecord(f"{problem.field}: {problem.message}")
    # Every record passes here (the worker, the notifier, subscribers): the NUL check reads the
    # fields only when the JSON holds the escape that can carry one.
    found = domain_problems(0, data, None, may_hold_nul=b"\\u0000" in value)
    if found:
        raise UndecodableRecord(f"{found[0].field}: {found[0].message}")
    _check_instants(
        [
            ("time", context.time),
            ("recordedtime", context.recordedtime),
            *((f"data.{name}", getattr(data, name)) for name in _TIME_FIELDS[context.type]),
        ]
    )
    envelope = Envelope(
        id=context.id,
        type=context.type,
        source=context.source,
        time=context.time,
        data=data,
        recordedtime=context.recordedtime,
        importedfrom=context.importedfrom,
    )
    # Ingest refuses these; a record holding them came another way, and every reader parks or
    # skips it alike rather than apply a hold or a score no import asked for.
    unmarked = import_only_problems(0, envelope)
    if unmarked:
        raise UndecodableRecord(f"{unmarked[0].field}: {unmarked[0].message}")
    return envelope


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode()
    except UnicodeDecodeError:
        return False
    return True


def _holds_time(annotation: object) -> bool:
    return annotation is datetime or any(_holds_time(arg) for arg in get_args(annotation))


_TIME_FIELDS: Final = {
    name: tuple(f.name for f in msgspec.structs.fields(cls) if _holds_time(f.type))
    for name, cls in EVENT_TYPES.items()
}
"""Each type's data fields that can hold a time (a ban's `until`): the only ones checked per
record, rather than every field of every event."""


def _check_instants(values: Sequence[tuple[str, object]]) -> None:
    """Every time in a record must be an instant UTC can hold (years 1 to 9999 once converted),
    or no consumer could store or compare it: `0001-01-01T00:00:00+14:00` is year 0 in UTC.
    Ingest refuses such times; a record written some other way is undecodable, so every
    consumer parks or skips it alike instead of failing on it."""
    for name, value in values:
        if isinstance(value, datetime):
            try:
                value.astimezone(UTC)
            except OverflowError as error:
                raise UndecodableRecord(
                    f"{name}: {value.isoformat()} is outside the years UTC can hold"
                ) from error


def encode_json(value: object) -> bytes:
    """JSON bytes with the module's shared encoder (datetimes as RFC 3339)."""
    return _encoder.encode(value)


__all__ = [
    "CONTENT_TYPE",
    "Headers",
    "InvalidEvents",
    "MalformedRequest",
    "Shape",
    "UndecodableRecord",
    "decode_binary_request",
    "decode_record",
    "decode_request",
    "encode_json",
    "encode_record",
]
