"""POST /v1/events: validate the whole request, append it to Kafka, answer once acknowledged."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import msgspec
import structlog
from litestar import Litestar, Request, post
from litestar.datastructures import State

from eventlog.position import Position
from events import (
    CommentDeleted,
    Envelope,
    InvalidEvents,
    Limits,
    MalformedRequest,
    encode_record,
)
from services.auth import (
    MODERATOR_DELETION,
    Admission,
    AuthSettings,
    ingest_rule,
    require_event_scopes,
)
from services.cors import CorsPolicy, allow_cross_origin
from services.errors import EXCEPTION_HANDLERS, ApiError, ErrorDetail, details_from_problems
from services.health import health_router
from services.http_semantics import answer_head
from services.ingest import producer_identity
from services.ingest.atomic_append import AppendFailed, AtomicAppender, NotConnected
from services.ingest.cloudevents_http import UnsupportedMediaType, decode_events
from services.ingest.flag_limit import FlagLimit
from services.ingest.producers import LogSettings
from services.ingest.record_size import Record, RecordLimit, oversized
from services.ingest.request_schema import EventsOperation
from services.openapi_docs import INGEST_DESCRIPTION, document, errors, openapi_config

log = structlog.get_logger("threadlog.ingest")


class IngestSettings(msgspec.Struct, frozen=True, kw_only=True):
    """Where ingest appends, and what it accepts."""

    kafka_bootstrap_servers: str
    topic: str
    auth: AuthSettings
    limits: Limits = Limits()
    max_body_bytes: int = 16 * 1024 * 1024
    produce_timeout_s: float = 10.0
    linger_ms: int = 0
    """How long the producer holds a record for others to join its batch. 0: records that
    arrive while a produce request is in flight batch anyway, and a lone comment is not delayed
    (2 ms halved the single-post rate at concurrency 8: 1,878 against 3,888 req/s)."""
    flag_limit_per_min: float = 60.0
    """CommentFlagged events one key may post a minute (see flag_limit.py); 0: no limit."""
    instance_id: str = ""
    """This ingest's stable name in its transactional ids (default: the host's name); see
    services/ingest/producer_identity.py."""
    producers: int = 2
    """Transactional producers per process, taking turns (see services/ingest/atomic_append.py)."""
    max_request_bytes: int = 1_048_576
    """The producer's largest request, so also its largest record."""
    cors: CorsPolicy = CorsPolicy()
    """Origins whose scripts may post (off by default: such a script holds a produce key)."""


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
        f"Kafka at {settings.kafka_bootstrap_servers} {why}; nothing of the request was appended."
        " Retry the same request.",
        headers={"Retry-After": "1"},
    )


def _scope_name(envelope: Envelope) -> str:
    """The name a scope is looked up by: the type, except that removing someone else's comment
    is a moderator's act."""
    if isinstance(envelope.data, CommentDeleted) and envelope.data.moderator:
        return MODERATOR_DELETION
    return envelope.type


@post(
    "/v1/events",
    status_code=202,
    summary="Append events to the log",
    operation_class=EventsOperation,
    responses=errors(
        {
            400: ["malformed_json"],
            403: ["forbidden"],
            413: ["too_large"],
            415: ["unsupported_media_type"],
            422: ["invalid_events"],
            429: ["flag_limited"],
            503: ["kafka_unavailable"],
        }
    ),
)
async def post_events(request: Request[Any, Any, Any], state: State) -> AcceptedEvents:
    """One CloudEvents event (structured or binary mode) or an array of up to 1,000; all valid,
    or none is appended."""
    settings: IngestSettings = state.settings
    try:
        envelopes = decode_events(request.scope["headers"], await request.body(), settings.limits)
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
    producer_key = require_event_scopes(request, [_scope_name(e) for e in envelopes])
    state.flag_limit.admit(producer_key, envelopes)
    records: list[Record] = []
    for envelope in envelopes:
        key, value, headers = encode_record(envelope)
        # A CloudEvents extension attribute: which key produced the event, so that moderation
        # can trace a flood to its key (the name; the key is never stored).
        headers.append(("ce_producerkey", producer_key.name.encode()))
        records.append((key, value, headers))
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


async def _kafka_ready(state: State) -> None:
    settings: IngestSettings = state.settings
    appender: AtomicAppender = state.appender
    async with asyncio.timeout(2):
        partitions = await appender.any_producer().partitions_for(settings.topic)
    if not partitions:
        raise RuntimeError(f"topic {settings.topic} does not exist; run `threadlog init`")


def create_app(settings: IngestSettings) -> Litestar:
    """The ingest ASGI app; its transactional producers are made at startup."""
    admission = Admission(settings.auth, ingest_rule)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        state = app.state
        identity = producer_identity.claim(settings.topic, settings.instance_id)
        state.record_limit = RecordLimit(
            settings.kafka_bootstrap_servers, settings.topic, settings.max_request_bytes
        )
        state.record_limit.refresh()
        state.appender = AtomicAppender(
            LogSettings(
                kafka_bootstrap_servers=settings.kafka_bootstrap_servers,
                topic=settings.topic,
                transactional_ids=identity.transactional_ids(settings.producers),
                timeout_s=settings.produce_timeout_s,
                linger_ms=settings.linger_ms,
                max_request_bytes=settings.max_request_bytes,
            ),
            on_refused_for_size=state.record_limit.refresh,
        )
        state.appender.start()
        try:
            yield
        finally:
            await state.record_limit.stop()
            await state.appender.stop()
            identity.release()

    app = Litestar(
        route_handlers=[post_events, health_router(_kafka_ready, "Kafka")],
        lifespan=[lifespan, admission.lifespan],
        middleware=[admission.middleware],
        state=State({"settings": settings, "flag_limit": FlagLimit(settings.flag_limit_per_min)}),
        exception_handlers=EXCEPTION_HANDLERS,
        request_max_body_size=settings.max_body_bytes,
        openapi_config=openapi_config("threadlog ingest", INGEST_DESCRIPTION),
        debug=False,
        # Logging is configured once per process by threadlog.logs; Litestar must not replace it.
        logging_config=None,
    )
    return answer_head(allow_cross_origin(document(app, ingest_rule), settings.cors))
