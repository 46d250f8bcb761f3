"""Append events to a topic as fast as one producer goes, acks=all, idempotent."""

import asyncio
import time
from collections.abc import Sequence

from aiokafka import AIOKafkaProducer

from events import Envelope, encode_record
from threadlog.settings import Settings


async def append(settings: Settings, events: Sequence[Envelope]) -> float:
    """Append `events` in order and wait for every acknowledgement; return the seconds taken."""
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        acks="all",
        enable_idempotence=True,
        linger_ms=20,
        max_batch_size=256 * 1024,
    )
    await producer.start()
    started = time.perf_counter()
    try:
        pending = []
        for event in events:
            key, value, headers = encode_record(event)
            pending.append(
                await producer.send(settings.topic, key=key, value=value, headers=headers)
            )
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return time.perf_counter() - started
