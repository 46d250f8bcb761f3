"""Per-client caps on live streams, and who the client is behind a proxy."""

import gc

import pytest

from services.errors import ApiError
from services.query.stream_limits import OpenStreams, StreamLimits, client_address


def test_the_client_is_the_peer_unless_a_trusted_proxy_names_it() -> None:
    """X-Forwarded-For counts only from a trusted proxy, and only its own last entry (a client
    can write anything before it)."""
    proxies = frozenset({"10.0.0.1"})
    assert client_address("203.0.113.9", "1.2.3.4", proxies) == "203.0.113.9"
    assert client_address("10.0.0.1", "6.6.6.6, 198.51.100.7", proxies) == "198.51.100.7"
    assert client_address("10.0.0.1", "198.51.100.7, 10.0.0.1", proxies) == "198.51.100.7"
    assert client_address("10.0.0.1", None, proxies) == "10.0.0.1"
    assert client_address(None, None, proxies) == "unknown"


def test_caps_per_key_per_address_and_per_process() -> None:
    """A key holds up to its cap, an address up to its own, the process up to its total; a place
    given back (or whose stream was dropped unstarted) is free again."""
    streams = OpenStreams(StreamLimits(max_streams=4, per_key=2, per_address=1))
    held = [streams.take("key:a", keyed=True), streams.take("key:a", keyed=True)]
    with pytest.raises(ApiError) as error:
        streams.take("key:a", keyed=True)
    assert (error.value.status, error.value.code) == (429, "too_many_streams")
    held.append(streams.take("address:1.2.3.4", keyed=False))
    with pytest.raises(ApiError):
        streams.take("address:1.2.3.4", keyed=False)
    held.append(streams.take("key:b", keyed=True))
    with pytest.raises(ApiError) as error:
        streams.take("key:c", keyed=True)
    assert (error.value.status, error.value.code) == (503, "too_many_streams")
    held.pop(0).release()
    held[0].release()
    held[0].release()  # twice changes nothing
    assert streams.total == 2

    class Unstarted:
        """Stands for a stream's generator that is dropped before its body began."""

    messages = Unstarted()
    streams.take("key:d", keyed=True).tie_to(messages)
    assert streams.total == 3
    del messages
    gc.collect()
    assert streams.total == 2
