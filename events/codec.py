"""Decode events from producers' requests and from Kafka records; encode them for Kafka.

On Kafka an event follows the CloudEvents Kafka protocol binding in binary mode: the context
attributes are `ce_*` headers, the value is the JSON of `data`, and the key is the article id.
Both directions go through one validation path, so the worker accepts exactly what ingest accepts.
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal

import msgspec

from events.catalog import (
    EVENT_TYPES,
    AuthorBanned,
    CommentEdited,
    CommentPosted,
    Event,
    EventType,
)
from events.envelope import Envelope
from events.fields import Id, Source, Timestamp, is_blank
from events.limits import Limits
from events.problems import (
    InvalidEvents,
    MalformedRequest,
    Problem,
    UndecodableRecord,
    problem_from_validation,
)
from events.upcast import UnknownVersion, current_version, dataschema, upcast, version_of

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


PostedEnvelope = _EnvelopeIn
"""The envelope's type as posted, for describing it (ingest's OpenAPI document) from the code."""


class _RecordAttributes(msgspec.Struct):
    """The `ce_*` headers of a record, validated like a posted envelope."""

    type: EventType
    id: Id
    source: Source
    time: Timestamp
    specversion: Literal["1.0"]
    recordedtime: Timestamp | None = None


_envelope_decoder = msgspec.json.Decoder(_EnvelopeIn)
_batch_decoder = msgspec.json.Decoder(list[msgspec.Raw])
_single_decoder = msgspec.json.Decoder(msgspec.Raw)
_data_decoders = {name: msgspec.json.Decoder(cls) for name, cls in EVENT_TYPES.items()}
_encoder = msgspec.json.Encoder()


def _text_problems(index: int, data: Event) -> list[Problem]:
    # JSON can carry NUL ("\u0000"), PostgreSQL text cannot. (msgspec itself refuses lone
    # surrogates and invalid UTF-8 as malformed JSON.)
    return [
        Problem(index, f"data.{name}", "NUL characters are not allowed")
        for name in data.__struct_fields__
        if isinstance(value := getattr(data, name), str) and "\x00" in value
    ]


def _domain_problems(index: int, data: Event, limits: Limits | None) -> list[Problem]:
    """Rules the type system cannot state: configurable limits, storable text, self-references."""
    problems = _text_problems(index, data)
    if isinstance(data, CommentPosted | CommentEdited):
        if limits is not None and len(data.body) > limits.max_comment_chars:
            problems.append(
                Problem(
                    index, "data.body", f"Expected `str` of length <= {limits.max_comment_chars}"
                )
            )
        if is_blank(data.body):
            problems.append(
                Problem(
                    index,
                    "data.body",
                    "Expected text, got only whitespace or invisible characters",
                )
            )
    if isinstance(data, CommentPosted) and data.parent_id == data.comment_id:
        problems.append(Problem(index, "data.parent_id", "A comment cannot reply to itself"))
    if isinstance(data, AuthorBanned) and data.until is not None and limits is not None:
        problem = _until_problem(index, data.until, limits)
        if problem is not None:
            problems.append(problem)
    return problems


def _until_problem(index: int, until: datetime, limits: Limits) -> Problem | None:
    """A ban's end must be storable: not before the earliest time, and a valid instant in UTC."""
    try:
        until.astimezone(UTC)
    except OverflowError:
        pass
    else:
        if until >= limits.earliest_time:
            return None
    return Problem(
        index,
        "data.until",
        f"Expected a time from {limits.earliest_time.isoformat()} on, in a year UTC can hold,"
        f" got {until.isoformat()}",
    )


def _time_problem(index: int, time: datetime, limits: Limits, now: datetime) -> Problem | None:
    """An event's time must lie between the configured earliest time and a little past now."""
    latest = now + timedelta(seconds=limits.max_future_s)
    if limits.earliest_time <= time <= latest:
        return None
    return Problem(
        index,
        "time",
        f"Expected a time from {limits.earliest_time.isoformat()} to {latest.isoformat()}"
        f" ({limits.max_future_s:g} s past now), got {time.isoformat()}; check the producer's"
        " clock and zone offset",
    )


def _decode_data(
    index: int, type_: str, raw: bytes | memoryview
) -> tuple[Event | None, Problem | None]:
    try:
        return _data_decoders[type_].decode(raw), None
    except msgspec.ValidationError as error:
        return None, problem_from_validation(index, error, "data")
    except msgspec.DecodeError as error:
        return None, Problem(index, "data", f"Malformed JSON: {error}")
    except UnicodeDecodeError as error:
        # msgspec raises this, not DecodeError, for invalid UTF-8 inside a JSON string.
        return None, Problem(index, "data", f"Malformed JSON: invalid UTF-8 at byte {error.start}")


def decode_request(body: bytes, limits: Limits, now: datetime | None = None) -> list[Envelope]:
    """Validate a posted body, one envelope or an array of them, and fill in defaults.

    Raises MalformedRequest when the body is not JSON, and InvalidEvents listing every event's
    problems when any event is invalid: a batch is accepted whole or not at all.
    """
    try:
        return _decode_request(body, limits, now or datetime.now(UTC))
    except RecursionError as error:
        # msgspec descends nested arrays and objects recursively, up to Python's recursion limit
        # (minus the caller's own stack), and raises RecursionError past it. An event needs
        # three levels; nothing legitimate comes near.
        raise MalformedRequest(
            "Malformed JSON: nested too deeply to decode; an event is an object of objects,"
            " three levels at most"
        ) from error


def _decode_request(body: bytes, limits: Limits, at: datetime) -> list[Envelope]:
    try:
        body.decode()
    except UnicodeDecodeError as error:
        # Checked first: msgspec reports invalid UTF-8 inside strings as UnicodeDecodeError.
        raise MalformedRequest(f"Malformed JSON: invalid UTF-8 at byte {error.start}") from error
    stripped = body.lstrip()
    try:
        if stripped.startswith(b"["):
            items = _batch_decoder.decode(stripped)
        elif stripped.startswith(b"{"):
            items = [_single_decoder.decode(stripped)]
        else:
            raise MalformedRequest("Expected a JSON object (one event) or an array of events")
    except msgspec.ValidationError as error:
        raise MalformedRequest(f"Expected a JSON object or array: {error}") from error
    except msgspec.DecodeError as error:
        raise MalformedRequest(f"Malformed JSON: {error}") from error
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
        try:
            wire = _envelope_decoder.decode(raw)
        except msgspec.ValidationError as error:
            problems.append(problem_from_validation(index, error, ""))
            continue
        except msgspec.DecodeError as error:
            problems.append(Problem(index, "$", f"Malformed JSON: {error}"))
            continue
        data, problem = _decode_data(index, wire.type, wire.data)
        if data is None:
            assert problem is not None
            problems.append(problem)
            continue
        found = _domain_problems(index, data, limits)
        if wire.time is not None and (late := _time_problem(index, wire.time, limits, at)):
            found.append(late)
        if found:
            problems.extend(found)
            continue
        envelopes.append(
            Envelope(
                id=wire.id or str(uuid.uuid4()),
                type=wire.type,
                source=wire.source,
                time=wire.time or at,
                data=data,
                recordedtime=at,
            )
        )
    if problems:
        raise InvalidEvents(problems)
    return envelopes


def encode_record(envelope: Envelope) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    """The key, value and headers of the Kafka record that carries `envelope` (binary mode)."""
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


def decode_record(headers: Headers, value: bytes | None) -> Envelope:
    """Read an event back from a Kafka record; raise UndecodableRecord if it is not one of ours."""
    attributes: dict[str, str] = {}
    for name, raw in headers:
        if name.startswith("ce_"):
            try:
                attributes[name[3:]] = raw.decode()
            except UnicodeDecodeError as error:
                raise UndecodableRecord(f"Header {name} is not UTF-8") from error
    try:
        context = msgspec.convert(attributes, _RecordAttributes, strict=False)
    except msgspec.ValidationError as error:
        raise UndecodableRecord(
            f"Record headers are not valid CloudEvents attributes: {error}"
        ) from error
    if value is None:
        raise UndecodableRecord("Record has no value; expected the event's data as JSON")
    value = _upcast_value(context.type, attributes.get("dataschema"), value)
    data, problem = _decode_data(0, context.type, value)
    if data is None:
        assert problem is not None
        raise UndecodableRecord(f"{problem.field}: {problem.message}")
    found = _domain_problems(0, data, None)
    if found:
        raise UndecodableRecord(f"{found[0].field}: {found[0].message}")
    _check_instants(
        {"time": context.time, "recordedtime": context.recordedtime}
        | {f"data.{name}": getattr(data, name) for name in data.__struct_fields__}
    )
    return Envelope(
        id=context.id,
        type=context.type,
        source=context.source,
        time=context.time,
        data=data,
        recordedtime=context.recordedtime,
    )


def _check_instants(values: dict[str, object]) -> None:
    """Every time in a record must be an instant UTC can hold (years 1 to 9999 once converted),
    or no consumer could store or compare it: `0001-01-01T00:00:00+14:00` is year 0 in UTC.
    Ingest refuses such times; a record written some other way is undecodable, so every
    consumer parks or skips it alike instead of failing on it."""
    for name, value in values.items():
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
    "UndecodableRecord",
    "decode_record",
    "decode_request",
    "encode_json",
    "encode_record",
]
