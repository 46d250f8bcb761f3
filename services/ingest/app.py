"""POST /v1/events: validate the whole request, append it to Kafka, answer once acknowledged."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

import msgspec
import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import (
    InvalidProducerEpoch,
    KafkaError,
    OutOfOrderSequenceNumber,
    ProducerClosed,
    ProducerFenced,
    UnknownProducerId,
)
from litestar import Litestar, Request, post
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig

from eventlog.position import Position
from events import (
    CommentDeleted,
    Envelope,
    InvalidEvents,
    Limits,
    MalformedRequest,
    decode_request,
    encode_record,
)
from services.auth import (
    MODERATOR_DELETION,
    Admission,
    AuthSettings,
    ingest_rule,
    require_event_scopes,
)
from services.errors import EXCEPTION_HANDLERS, ApiError, details_from_problems
from services.health import health_router
from services.ingest.flag_limit import FlagLimit
from services.ingest.request_schema import EventsOperation

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


def _producer(state: State) -> AIOKafkaProducer:
    producer: AIOKafkaProducer | None = state.producer
    if producer is None:
        settings: IngestSettings = state.settings
        raise ApiError(
            503,
            "kafka_unavailable",
            f"Not connected to Kafka at {settings.kafka_bootstrap_servers} yet; nothing was"
            " appended. Retry shortly.",
            headers={"Retry-After": "1"},
        )
    return producer


async def _connect(state: State, settings: IngestSettings) -> None:
    """Connect the producer, retrying, so that ingest can start before Kafka does."""
    delay = 0.2
    while True:
        producer = AIOKafkaProducer(
            bootstrap_servers=settings.kafka_bootstrap_servers,
            acks="all",
            enable_idempotence=True,
            linger_ms=settings.linger_ms,
            request_timeout_ms=int(settings.produce_timeout_s * 1000),
        )
        try:
            await producer.start()
        except KafkaError as error:
            await producer.stop()
            log.warning(
                "kafka not reachable; retrying",
                kafka=settings.kafka_bootstrap_servers,
                error=repr(error),
                in_s=delay,
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
            continue
        state.producer = producer
        log.info("ingest connected", kafka=settings.kafka_bootstrap_servers, topic=settings.topic)
        return


_PRODUCER_STATE_LOST = (
    OutOfOrderSequenceNumber,
    UnknownProducerId,
    InvalidProducerEpoch,
    ProducerFenced,
    ProducerClosed,
)
"""Errors after which an idempotent producer never succeeds again (seen after a broker restart):
only a new producer, with a new producer id, can append. aiokafka does not reset it itself."""


def _replace_producer(state: State, settings: IngestSettings, broken: AIOKafkaProducer) -> None:
    """Retire `broken` and connect a new producer in the background; meanwhile requests get 503.

    Whatever `broken` may still deliver is harmless: clients retry with the same event ids."""
    if state.producer is not broken:
        return  # another request already replaced it
    state.producer = None
    log.warning("replacing the Kafka producer: its sequence state is lost")
    state.connecting = asyncio.create_task(_connect(state, settings))
    retiring = asyncio.create_task(broken.stop())
    state.retiring = retiring  # held so the task is not collected before it ends


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
)
async def post_events(request: Request[Any, Any, Any], state: State) -> AcceptedEvents:
    """One CloudEvents envelope or an array of up to 1,000; all valid, or none is appended."""
    settings: IngestSettings = state.settings
    try:
        envelopes = decode_request(await request.body(), settings.limits)
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
    producer = _producer(state)
    try:
        async with asyncio.timeout(settings.produce_timeout_s):
            pending = []
            for envelope in envelopes:
                key, value, headers = encode_record(envelope)
                # A CloudEvents extension attribute: which key produced the event, so that
                # moderation can trace a flood to its key (the name; the key is never stored).
                headers.append(("ce_producerkey", producer_key.name.encode()))
                pending.append(
                    await producer.send(settings.topic, key=key, value=value, headers=headers)
                )
            written = await asyncio.gather(*pending)
    except (TimeoutError, KafkaError) as error:
        log.warning("kafka did not acknowledge", error=repr(error), events=len(envelopes))
        if isinstance(error, _PRODUCER_STATE_LOST):
            _replace_producer(state, settings, producer)
        raise ApiError(
            503,
            "kafka_unavailable",
            f"Kafka at {settings.kafka_bootstrap_servers} did not acknowledge within"
            f" {settings.produce_timeout_s:g} s; nothing is acknowledged. Retry the same request:"
            " events that carry an id are applied once however often they are posted.",
            headers={"Retry-After": "1"},
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
    async with asyncio.timeout(2):
        partitions = await _producer(state).partitions_for(settings.topic)
    if not partitions:
        raise RuntimeError(f"topic {settings.topic} does not exist; run `threadlog init`")


def create_app(settings: IngestSettings) -> Litestar:
    """The ingest ASGI app; one idempotent producer per process, made at startup."""
    admission = Admission(settings.auth, ingest_rule)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        app.state.producer = None
        app.state.connecting = asyncio.create_task(_connect(app.state, settings))
        try:
            yield
        finally:
            # The current connecting task: a replaced producer starts a new one.
            connecting: asyncio.Task[None] = app.state.connecting
            connecting.cancel()
            with suppress(asyncio.CancelledError):
                await connecting
            if app.state.producer is not None:
                await app.state.producer.stop()

    return Litestar(
        route_handlers=[post_events, health_router(_kafka_ready, "Kafka")],
        lifespan=[lifespan, admission.lifespan],
        middleware=[admission.middleware],
        state=State({"settings": settings, "flag_limit": FlagLimit(settings.flag_limit_per_min)}),
        exception_handlers=EXCEPTION_HANDLERS,
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(title="threadlog ingest", version="1.0.0"),
        debug=False,
        # Logging is configured once per process by threadlog.logs; Litestar must not replace it.
        logging_config=None,
    )
