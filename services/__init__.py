"""The HTTP services: ingest (appends events to Kafka) and query (serves the read models)."""
