"""The ingest service: validates posted events and appends them to Kafka."""

from services.ingest.app import IngestSettings, create_app

__all__ = ["IngestSettings", "create_app"]
