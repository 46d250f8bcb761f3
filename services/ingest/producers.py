"""Ingest's Kafka producers: how they are made, started (retrying until Kafka answers), retired."""

import asyncio
from contextlib import suppress

import msgspec
import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from eventlog.connection import Kafka, KafkaSecurityError, client_args, servers, start_client

log = structlog.get_logger("threadlog.ingest")

_DEFAULT_BATCH = 16_384
"""aiokafka's default `max_batch_size`, kept for the single-record producer."""


class LogSettings(msgspec.Struct, frozen=True, kw_only=True):
    """Where and how ingest produces."""

    kafka: Kafka
    topic: str
    transactional_ids: tuple[str, ...]
    """One per transactional producer; stable across restarts, so that a new producer fences
    the old one (services/ingest/producer_identity.py)."""
    timeout_s: float = 10.0
    linger_ms: int = 0
    max_request_bytes: int = 1_048_576


async def connect(settings: LogSettings, transactional_id: str | None) -> AIOKafkaProducer:
    """A started idempotent producer (transactional under `transactional_id`), retrying with
    backoff until Kafka answers, so that ingest can start before Kafka does."""
    delay = 0.2
    while True:
        producer = AIOKafkaProducer(
            **client_args(settings.kafka),
            acks="all",
            enable_idempotence=True,
            transactional_id=transactional_id,
            # An open transaction of a process that died holds back every read_committed reader
            # of its partitions until the broker aborts it: keep that short.
            transaction_timeout_ms=int(3 * settings.timeout_s * 1000),
            linger_ms=settings.linger_ms,
            max_request_size=settings.max_request_bytes,
            # A transaction's batches are built in record_batches.py, cut at the log's record
            # size limit (at most this); aiokafka's own 16 KB cut would only split them more.
            max_batch_size=settings.max_request_bytes if transactional_id else _DEFAULT_BATCH,
            request_timeout_ms=int(settings.timeout_s * 1000),
        )
        try:
            await start_client(producer, settings.kafka)
        except KafkaSecurityError as error:
            # Refused at start is caught by app.py's check; refused later (credentials
            # rotated), the lane keeps trying, so a corrected secret heals it.
            log.error("kafka refused us; retrying", error=str(error), in_s=delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
            continue
        except KafkaError as error:
            await producer.stop()
            log.warning(
                "kafka not reachable; retrying",
                kafka=servers(settings.kafka),
                error=repr(error),
                in_s=delay,
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
            continue
        log.info(
            "ingest connected",
            kafka=servers(settings.kafka),
            topic=settings.topic,
            transactional_id=transactional_id,
        )
        return producer


async def retire(producer: AIOKafkaProducer, timeout_s: float) -> None:
    """Stop a broken producer; it only releases its connections, so a failure is ignored."""
    with suppress(Exception):
        await asyncio.wait_for(producer.stop(), timeout_s)
