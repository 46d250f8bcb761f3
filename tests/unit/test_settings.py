"""Configuration from the environment: defaults, overrides, and errors that name the variable."""

import pytest

from eventlog.connection import servers
from threadlog.settings import ConfigError, from_env


def test_defaults_are_loopback() -> None:
    """With nothing set, every address is on loopback and the topic is threadlog.events."""
    settings = from_env({})
    assert settings.kafka_bootstrap_servers == "127.0.0.1:9092"
    assert settings.database_url == "postgresql://threadlog@127.0.0.1:5432/threadlog"
    assert (settings.topic, settings.ingest_url, settings.query_url) == (
        "threadlog.events",
        "http://127.0.0.1:8001",
        "http://127.0.0.1:8002",
    )


def test_environment_overrides_and_reaches_each_process() -> None:
    """Variables override defaults and flow into the ingest, query and worker settings."""
    settings = from_env(
        {
            "KAFKA_BOOTSTRAP_SERVERS": "k1:9092,k2:9092",
            "DATABASE_URL": "postgresql://u@db/x",
            "THREADLOG_TOPIC": "t",
            "THREADLOG_MAX_COMMENT_CHARS": "500",
            "THREADLOG_PG_SCHEMA": "blue",
        }
    )
    assert settings.ingest().limits.max_comment_chars == 500
    assert servers(settings.ingest().kafka) == "k1:9092,k2:9092"
    assert (settings.query().database_url, settings.query().pg_schema) == (
        "postgresql://u@db/x",
        "blue",
    )
    assert (settings.worker().topic, settings.worker().pg_schema) == ("t", "blue")


def test_a_bad_value_names_its_variable() -> None:
    """A value of the wrong type is refused with the variable's name and value."""
    with pytest.raises(ConfigError, match=r"THREADLOG_INGEST_PORT='eighty': Expected `int`"):
        from_env({"THREADLOG_INGEST_PORT": "eighty"})
