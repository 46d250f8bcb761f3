"""`threadlog seal-topic NEW`: copy the event topic into a new one with every personal field
sealed, for a log written before sealing (or with it off). Kafka cannot edit a record, so the
only way to take clear text out of a log kept forever is to copy it and delete the old one.

Each record goes to the same partition number of the new topic, in order, so every key keeps
its order (same partition count, same keys); a sealed record is copied byte for byte, a clear
one is decoded and sealed as ingest seals, a record that is not an event is copied untouched
(the worker parks it again). Switching is the operator's (README, Security: Erasure): stop
ingest, copy, point every process at the new topic, rebuild, then delete the old topic.
"""

import argparse
import asyncio
import sys

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from eventlog.connection import client_args, start_client
from events import UndecodableRecord, decode_record
from events.sealing import sealed_kids
from projections.log_reader import read_range
from subject_keys import KeyStore, KeyStoreUnavailable, sealed_records
from threadlog.settings import Settings

COMMAND = "seal-topic"


def add_parser(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add `seal-topic` to the `threadlog` parser."""
    seal = commands.add_parser(
        COMMAND, help="copy the event topic into a new one with personal fields sealed"
    )
    seal.add_argument("new_topic", help="the topic to create and fill (must not exist)")


async def seal_topic(settings: Settings, new_topic: str, batch: int = 2000) -> tuple[int, int]:
    """Copy `settings.topic` up to its current end into `new_topic` (created with the same
    partitions, kept forever); return (records copied, records sealed by the copy)."""
    admin = AIOKafkaAdminClient(**client_args(settings.kafka()))
    await start_client(admin, settings.kafka())
    try:
        [described] = await admin.describe_topics([settings.topic])
        count = len(described["partitions"])
        await admin.create_topics(
            [
                NewTopic(
                    new_topic,
                    num_partitions=count,
                    replication_factor=settings.topic_replication,
                    topic_configs={"retention.ms": "-1", "retention.bytes": "-1"},
                )
            ]
        )
    finally:
        await admin.close()
    producer = AIOKafkaProducer(
        **client_args(settings.kafka()), acks="all", enable_idempotence=True
    )
    copied = sealed = 0
    await start_client(producer, settings.kafka())
    async with KeyStore(settings.key_store()) as keys:
        try:
            pending = []
            async for record in read_range(settings.kafka(), settings.topic):
                value, headers = record.value, list(record.headers)
                if not sealed_kids(headers):
                    try:
                        envelope = decode_record(headers, value)
                    except UndecodableRecord:
                        envelope = None
                    if envelope is not None:
                        [(_, value, fresh)] = await sealed_records(keys, [envelope])
                        # The record's own extension attributes (ce_producerkey) are kept.
                        names = {name for name, _ in fresh}
                        headers = fresh + [(n, v) for n, v in headers if n not in names]
                        sealed += any(name == "ce_sealedwith" for name, _ in fresh)
                pending.append(
                    await producer.send(
                        new_topic,
                        key=record.key,
                        value=value,
                        headers=headers,
                        partition=record.partition,
                    )
                )
                copied += 1
                if len(pending) >= batch:
                    await asyncio.gather(*pending)
                    pending = []
            await asyncio.gather(*pending)
        finally:
            await producer.stop()
    return copied, sealed


def run(settings: Settings, args: argparse.Namespace) -> None:
    """Run `seal-topic` as parsed."""
    try:
        copied, sealed = asyncio.run(seal_topic(settings, args.new_topic))
    except TopicAlreadyExistsError:
        sys.exit(f"threadlog seal-topic: {args.new_topic} exists; name a new topic")
    except KeyStoreUnavailable as error:
        sys.exit(f"threadlog seal-topic: {error}; delete {args.new_topic} and run it again")
    print(
        f"{copied} records copied from {settings.topic} to {args.new_topic}, {sealed} sealed."
        f" Next: THREADLOG_TOPIC={args.new_topic} for every process, `threadlog rebuild"
        " threads`, restart ingest, the worker, query and the notifier, then delete"
        f" {settings.topic} (README, Security: Erasure)."
    )
