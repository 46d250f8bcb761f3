"""What POST /v1/events does with a request's body once admission let it in: validate every
event, check the key's scopes and flag allowance, check each record's size, append the request
whole, and say where each event now lives. Shared by Litestar's route (which documents it) and
the plain ASGI route that serves it (services/ingest/events_route.py)."""

from typing import Any

import msgspec
import structlog
from litestar import Request
from litestar.datastructures import State

from eventlog.connection import servers
from eventlog.position import Position
from events import AuthorErased, CommentDeleted, Envelope, InvalidEvents, MalformedRequest
from events.imported import import_only_problems
from services.auth import MODERATOR_DELETION, require_event_scopes
from services.errors import ApiError, ErrorDetail, details_from_problems
from services.ingest.atomic_append import AppendFailed, AtomicAppender, NotConnected
from services.ingest.cloudevents_http import RawHeaders, UnsupportedMediaType, decode_events
from services.ingest.flag_limit import FlagLimit
from services.ingest.record_size import Record, RecordLimit, oversized
from services.ingest.settings import IngestSettings
from subject_keys import KeyStore, KeyStoreUnavailable, sealed_records

log = structlog.get_logger("threadlog.ingest")


class Accepted(msgspec.Struct, frozen=True):
    """Where one accepted event now lives in the log."""

    id: str
    partition: int
    offset: int
    position: str
    """`<partition>:<offset>`: pass it as `?after=` to a read that must include this event."""


class AcceptedEvents(msgspec.Struct, frozen=True):
    """The 202 answer: every event of the request, in request order."""

    accepted: list[Accepted]


def _unavailable(settings: IngestSettings, why: str) -> ApiError:
    return ApiError(
        503,
        "kafka_unavailable",
        f"Kafka at {servers(settings.kafka)} {why}; nothing of the request was appended."
        " Retry the same request.",
        headers={"Retry-After": "1"},
    )


def _key_store_unavailable(error: KeyStoreUnavailable) -> ApiError:
    return ApiError(
        503,
        "key_store_unavailable",
        f"{error}; nothing of the request was appended. Retry the same request.",
        headers={"Retry-After": "1"},
    )


def _scope_name(envelope: Envelope) -> str:
    """The name a scope is looked up by: the type, except that removing someone else's comment
    is a moderator's act."""
    if isinstance(envelope.data, CommentDeleted) and envelope.data.moderator:
        return MODERATOR_DELETION
    return envelope.type


def _decoded(headers: RawHeaders, body: bytes, settings: IngestSettings) -> list[Envelope]:
    try:
        return decode_events(headers, body, settings.limits)
    except UnsupportedMediaType as error:
        raise ApiError(
            415,
            "unsupported_media_type",
            str(error),
            [ErrorDetail(field="content-type", message="not a media type ingest reads")],
        ) from error
    except MalformedRequest as error:
        raise ApiError(400, "malformed_json", str(error)) from error
    except InvalidEvents as error:
        raise ApiError(
            422,
            "invalid_events",
            f"{len(error.problems)} problem(s) in the request; nothing was appended. Fix them and"
            " post the whole request again.",
            details_from_problems(error.problems),
        ) from error


def _refuse_import_only_fields(envelopes: list[Envelope]) -> None:
    """422 `import_only_field` when an unmarked event sets a field only imported history may
    (a post arriving `held`, a counted `score`), naming each; nothing is appended."""
    problems = [p for index, e in enumerate(envelopes) for p in import_only_problems(index, e)]
    if problems:
        raise ApiError(
            422,
            "import_only_field",
            f"{len(problems)} field(s) only an imported event (`importedfrom`, posted with a key"
            " holding the `import` scope) may carry; nothing was appended. Leave them out, or"
            " mark the events as imported.",
            details_from_problems(problems),
        )


async def accept(request: Request[Any, Any, Any], body: bytes, state: State) -> AcceptedEvents:
    """Append the events of `body` (in the content mode of the request's headers), all or none;
    ApiError for whatever refuses them. `request` carries the key admission found."""
    settings: IngestSettings = state.settings
    envelopes = _decoded(request.scope["headers"], body, settings)
    _refuse_import_only_fields(envelopes)
    producer_key = require_event_scopes(
        request,
        [_scope_name(e) for e in envelopes],
        [e.importedfrom is not None for e in envelopes],
    )
    flag_limit: FlagLimit = state.flag_limit
    flag_limit.admit(producer_key, envelopes)
    # A CloudEvents extension attribute: which key produced the event, so that moderation can
    # trace a flood to its key (the name; the key is never stored).
    producer_header = ("ce_producerkey", producer_key.name.encode())
    keys: KeyStore | None = state.get("subject_keys")
    try:
        # Personal fields sealed under their owners' keys (one key-store round trip at most).
        records: list[Record] = await sealed_records(keys, envelopes)
    except KeyStoreUnavailable as error:
        log.warning("key store unavailable", error=str(error), events=len(envelopes))
        raise _key_store_unavailable(error) from error
    for _, _, headers in records:
        headers.append(producer_header)
    record_limit: RecordLimit = state.record_limit
    too_large = oversized(envelopes, records, record_limit.bytes)
    if too_large:
        raise ApiError(
            422,
            "invalid_events",
            f"{len(too_large)} event(s) over the log's record size limit; nothing was appended.",
            details_from_problems(too_large),
        )
    appender: AtomicAppender = state.appender
    try:
        written = await appender.append(records)
    except NotConnected as error:
        raise _unavailable(settings, "is not connected yet") from error
    except AppendFailed as error:
        log.warning("kafka did not acknowledge", error=str(error), events=len(envelopes))
        raise _unavailable(
            settings,
            f"did not acknowledge within {settings.produce_timeout_s:g} s, or refused the request",
        ) from error
    await _destroy_erased_keys(keys, envelopes)
    return AcceptedEvents(
        [
            Accepted(
                id=envelope.id,
                partition=meta.partition,
                offset=meta.offset,
                position=Position(meta.partition, meta.offset).token(),
            )
            for envelope, meta in zip(envelopes, written, strict=True)
        ]
    )


async def _destroy_erased_keys(keys: KeyStore | None, envelopes: list[Envelope]) -> None:
    """Once an AuthorErased is in the log (acks=all), destroy the author's data key: from then
    on no copy of their text opens. Should this fail, the event is in the log and the answer is
    503: a retry (same event id, applied once) destroys it, as `threadlog erase-author
    --replay-erasures` does for every erasure in the log."""
    erased = [e.data.author_id for e in envelopes if isinstance(e.data, AuthorErased)]
    if keys is None or not erased:
        return
    try:
        for author in erased:
            await keys.destroy(author)
    except KeyStoreUnavailable as error:
        log.error("erasure appended but its key not destroyed", error=str(error), authors=erased)
        raise _key_store_unavailable(error) from error
