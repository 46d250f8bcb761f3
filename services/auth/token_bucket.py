"""Per-key rate limits as token buckets, with the clock passed in. Pure."""

import math

import msgspec


class Bucket(msgspec.Struct, frozen=True):
    """Tokens left at time `at` (seconds on a monotonic clock)."""

    tokens: float
    at: float


def take(
    bucket: Bucket | None, now: float, rate: float, burst: float, cost: float = 1.0
) -> tuple[Bucket, float]:
    """Take `cost` tokens: the bucket after, and 0.0 if allowed or else the seconds until
    there are enough.

    A new bucket starts full (`burst` tokens) and refills at `rate` tokens a second up to `burst`.
    A refused request takes nothing, so a client that keeps retrying is not punished further.
    """
    if bucket is None:
        tokens = burst
    else:
        # max(): a clock that stepped back must not drain the bucket.
        tokens = min(burst, bucket.tokens + max(0.0, now - bucket.at) * rate)
    if tokens >= cost:
        return Bucket(tokens - cost, now), 0.0
    return Bucket(tokens, now), (cost - tokens) / rate


def retry_after(wait_s: float) -> str:
    """A Retry-After header value: whole seconds, at least 1."""
    return str(max(1, math.ceil(wait_s)))


class RateLimiter:
    """One bucket per key name; as many buckets as there are keys, so memory stays bounded."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = burst
        self._buckets: dict[str, Bucket] = {}

    def admit(self, name: str, now: float) -> float:
        """0.0 when `name` may make a request now, else the seconds to wait."""
        bucket, wait = take(self._buckets.get(name), now, self.rate, self.burst)
        self._buckets[name] = bucket
        return wait
