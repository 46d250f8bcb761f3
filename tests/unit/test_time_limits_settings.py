"""The sane range of event times is configuration: ingest's limits come from the environment."""

from datetime import UTC, datetime

import pytest

from threadlog.settings import ConfigError, from_env


def test_the_time_range_reaches_ingest_from_the_environment() -> None:
    """THREADLOG_EARLIEST_EVENT_TIME and THREADLOG_MAX_FUTURE_S set ingest's limits (imported
    history may start before 1970); the defaults are 1970 and five minutes."""
    limits = from_env({}).ingest().limits
    assert (limits.earliest_time, limits.max_future_s) == (datetime(1970, 1, 1, tzinfo=UTC), 300)
    limits = (
        from_env(
            {
                "THREADLOG_EARLIEST_EVENT_TIME": "1900-01-01T00:00:00Z",
                "THREADLOG_MAX_FUTURE_S": "60",
            }
        )
        .ingest()
        .limits
    )
    assert (limits.earliest_time, limits.max_future_s) == (datetime(1900, 1, 1, tzinfo=UTC), 60)


@pytest.mark.parametrize("value", ["1900-01-01", "1900-01-01T00:00:00", "long ago"])
def test_an_earliest_time_without_a_zone_is_refused_naming_its_variable(value: str) -> None:
    """A time without an offset cannot be compared with events' times: refused at start."""
    with pytest.raises(ConfigError, match="THREADLOG_EARLIEST_EVENT_TIME"):
        from_env({"THREADLOG_EARLIEST_EVENT_TIME": value})
