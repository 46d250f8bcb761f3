"""The ingest app: POST /v1/events validates the whole request, appends it to Kafka and answers
once acknowledged; the probes; the OpenAPI document."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, Request, post
from litestar.datastructures import State

from eventlog.connection import check
from services.auth import Admission, ingest_rule
from services.cors import allow_cross_origin
from services.errors import EXCEPTION_HANDLERS
from services.health import health_router
from services.http_semantics import answer_head
from services.ingest import producer_identity
from services.ingest.accept import AcceptedEvents, accept
from services.ingest.atomic_append import AtomicAppender
from services.ingest.events_route import serve_events_plainly
from services.ingest.flag_limit import FlagLimit
from services.ingest.producers import LogSettings
from services.ingest.record_size import RecordLimit
from services.ingest.request_schema import EventsOperation
from services.ingest.settings import IngestSettings
from services.openapi_docs import INGEST_DESCRIPTION, document, errors, openapi_config
from subject_keys import KeyStore

__all__ = ["IngestSettings", "create_app"]


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
            422: ["invalid_events", "import_only_field"],
            429: ["flag_limited"],
            503: ["kafka_unavailable", "key_store_unavailable"],
        }
    ),
)
async def post_events(request: Request[Any, Any, Any], state: State) -> AcceptedEvents:
    """One CloudEvents event (structured or binary mode) or an array of up to 1,000; all valid,
    or none is appended."""
    # Served by the plain route (events_route.py); this one documents it, and answers alike.
    return await accept(request, await request.body(), state)


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
        await check(settings.kafka)
        state.record_limit = RecordLimit(settings.kafka, settings.topic, settings.max_request_bytes)
        state.record_limit.refresh()
        state.appender = AtomicAppender(
            LogSettings(
                kafka=settings.kafka,
                topic=settings.topic,
                transactional_ids=identity.transactional_ids(settings.producers),
                timeout_s=settings.produce_timeout_s,
                linger_ms=settings.linger_ms,
                max_request_bytes=settings.max_request_bytes,
            ),
            on_refused_for_size=state.record_limit.refresh,
            max_batch_bytes=lambda: state.record_limit.bytes,
        )
        state.appender.start()
        state.subject_keys = KeyStore(settings.key_store) if settings.key_store else None
        try:
            yield
        finally:
            if state.subject_keys is not None:
                await state.subject_keys.stop()
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
    app = answer_head(allow_cross_origin(document(app, ingest_rule), settings.cors))
    return serve_events_plainly(app, settings, admission.middleware.kwargs)
