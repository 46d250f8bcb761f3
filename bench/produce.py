"""Append events to a topic as fast as one producer goes, acks=all, idempotent."""

import asyncio
import time
from collections.abc import Sequence

from aiokafka import AIOKafkaProducer

from events import Envelope, encode_record
from subject_keys import KeyStore, sealed_records
from threadlog.settings import Settings


async def append(settings: Settings, events: Sequence[Envelope], sealed: bool = False) -> float:
    """Append `events` in order and wait for every acknowledgement; return the seconds taken.
    `sealed`: their personal fields sealed as ingest seals them (keys made in the key store)."""
    keys = KeyStore(settings.key_store()) if sealed else None
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
        for start in range(0, len(events), 1000):
            chunk = events[start : start + 1000]
            records = await sealed_records(keys, chunk) if keys else map(encode_record, chunk)
            for key, value, headers in records:
                pending.append(
                    await producer.send(settings.topic, key=key, value=value, headers=headers)
                )
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
        if keys is not None:
            await keys.stop()
    return time.perf_counter() - started
