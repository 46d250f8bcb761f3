"""Create the event topic, kept forever (the log is the truth), and its dead-letter topic, kept
for `dlq_retention_days`: a parked record may hold personal text an erasure cannot reach (one
another producer wrote in clear), so it must not outlive the erasure horizon."""

from contextlib import suppress

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import TopicAlreadyExistsError

from eventlog.connection import client_args, start_client
from threadlog.settings import Settings

# Unlimited retention by time and size: the read models are rebuilt from this log.
_KEEP_FOREVER = {"retention.ms": "-1", "retention.bytes": "-1"}


def _dlq_retention(settings: Settings) -> dict[str, str]:
    return {"retention.ms": str(int(settings.dlq_retention_days * 86_400_000))}


async def ensure_topics(settings: Settings) -> list[str]:
    """Create the topics that are missing; return the names created."""
    admin = AIOKafkaAdminClient(**client_args(settings.kafka()))
    await start_client(admin, settings.kafka())
    try:
        existing = set(await admin.list_topics())
        wanted = [
            NewTopic(
                settings.topic,
                num_partitions=settings.topic_partitions,
                replication_factor=settings.topic_replication,
                topic_configs=_KEEP_FOREVER,
            ),
            NewTopic(
                settings.dlq_topic,
                num_partitions=1,
                replication_factor=settings.topic_replication,
                topic_configs=_dlq_retention(settings),
            ),
        ]
        missing = [topic for topic in wanted if topic.name not in existing]
        if missing:
            # Another process may create one between our list and our create; that is fine.
            with suppress(TopicAlreadyExistsError):
                await admin.create_topics(missing)
        if settings.dlq_topic in existing:
            # A dead-letter topic created before it had a retention (kept forever) gets it now.
            await admin.alter_configs(
                [
                    ConfigResource(
                        ConfigResourceType.TOPIC,
                        settings.dlq_topic,
                        configs=_dlq_retention(settings),
                    )
                ]
            )
        return [topic.name for topic in missing]
    finally:
        await admin.close()
