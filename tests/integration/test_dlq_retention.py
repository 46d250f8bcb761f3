"""The dead-letter topic keeps parked records for a bounded time (#17): it may hold what an
erasure cannot reach (a record some other producer wrote in clear)."""

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from threadlog.settings import Settings
from threadlog.topics import ensure_topics


async def _retention_ms(settings: Settings, topic: str) -> str:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        [response] = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
        [resource] = response.resources
        configs = {entry[0]: entry[1] for entry in resource[4]}
        return str(configs["retention.ms"])
    finally:
        await admin.close()


async def test_the_dead_letter_topic_has_a_finite_retention(settings: Settings) -> None:
    """`threadlog init` gives the dead-letter topic the configured retention, also when the
    topic existed before (kept forever then); the event topic is still kept forever."""
    days = settings.dlq_retention_days
    assert days > 0
    assert await _retention_ms(settings, settings.dlq_topic) == str(int(days * 86_400_000))
    assert await _retention_ms(settings, settings.topic) == "-1"
    await ensure_topics(settings)  # again, on topics that exist: still bounded
    assert await _retention_ms(settings, settings.dlq_topic) == str(int(days * 86_400_000))
