"""How many live streams a process serves, and each client: one client must not take them all.

A stream holds its place for as long as its reader stays, so the request slots cannot bound
streams; these counts do. A client is its key (a site's backend relays many readers, so its cap
is larger) or, without a key, its address: the connection's, or for a request from a trusted
proxy the last address that proxy put in `X-Forwarded-For`.
"""

import weakref
from collections import Counter
from typing import Any

import msgspec

from services.errors import ApiError


class StreamLimits(msgspec.Struct, frozen=True, kw_only=True):
    """The caps on open streams, and how far the live feed reads ahead of the projection."""

    max_streams: int = 5_000
    per_key: int = 1_000
    per_address: int = 20
    trusted_proxies: frozenset[str] = frozenset()
    max_pending: int = 10_000


def client_address(
    peer: str | None, forwarded_for: str | None, trusted_proxies: frozenset[str]
) -> str:
    """The address a request comes from: the peer's, unless the peer is a trusted proxy that
    named the client (the last entry is the one it added; earlier ones the client could forge)."""
    address = peer or "unknown"
    if forwarded_for and address in trusted_proxies:
        hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
        while hops and hops[-1] in trusted_proxies:
            hops.pop()
        if hops:
            address = hops[-1]
    return address


class OpenStreams:
    """The streams open in one process, counted per client."""

    def __init__(self, limits: StreamLimits) -> None:
        self.limits = limits
        self.total = 0
        self._per_client: Counter[str] = Counter()

    def take(self, client: str, keyed: bool) -> "Reservation":
        """A place for one more stream of `client`: 503 when the process is full, 429 when the
        client holds its cap already."""
        if self.total >= self.limits.max_streams:
            raise ApiError(
                503,
                "too_many_streams",
                f"This process already serves {self.limits.max_streams} streams; retry on another.",
                headers={"Retry-After": "5"},
            )
        cap = self.limits.per_key if keyed else self.limits.per_address
        if self._per_client[client] >= cap:
            who = "key" if keyed else "address"
            raise ApiError(
                429,
                "too_many_streams",
                f"This {who} already has {cap} streams open; close one (one stream per page"
                " is enough) or retry later.",
                headers={"Retry-After": "5"},
            )
        self.total += 1
        self._per_client[client] += 1
        return Reservation(self, client)

    def _give_back(self, client: str) -> None:
        self.total -= 1
        self._per_client[client] -= 1
        if self._per_client[client] <= 0:
            del self._per_client[client]


class Reservation:
    """One stream's place, given back once, when its messages end or are dropped unstarted."""

    def __init__(self, streams: OpenStreams, client: str) -> None:
        self._streams: OpenStreams | None = streams
        self._client = client

    def release(self) -> None:
        """Give the place back (idempotent)."""
        if self._streams is not None:
            self._streams._give_back(self._client)
            self._streams = None

    def tie_to(self, messages: Any) -> None:
        """Also give it back when `messages` is collected: a response that failed before it
        started its body never runs the generator's `finally`."""
        weakref.finalize(messages, self.release)
