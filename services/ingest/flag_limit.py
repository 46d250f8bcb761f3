"""A per-key limit on flags: how many CommentFlagged events one key may post a minute.

A produce key is trusted to assert who flagged (its backend signed that reader in), so a key
alone can name any number of flaggers: three invented ids hold any comment. The limit does not
make a key less trusted; it bounds how fast one key (a leaked one, a buggy backend) can hide
comments, so that moderators see it in the refusals before a thread is emptied. A token bucket
per key name, as for the request rate (`THREADLOG_FLAG_LIMIT_PER_MIN`, bursts of as many), kept
per process like the other per-key limits.
"""

import time
from collections.abc import Callable, Sequence

import structlog

from events import CommentFlagged, Envelope
from services.auth import ApiKey
from services.auth.token_bucket import Bucket, retry_after, take
from services.errors import ApiError, ErrorDetail

log = structlog.get_logger("threadlog.ingest")


class FlagLimit:
    """Flags taken per key; `admit` refuses a request whose flags the key has no room for."""

    def __init__(self, per_min: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_min = per_min
        self._clock = clock
        self._buckets: dict[str, Bucket] = {}

    def admit(self, key: ApiKey, envelopes: Sequence[Envelope]) -> None:
        """Take a token per flag of the request, or none and raise 429 `flag_limited` naming
        each flag past the key's allowance (the request is refused whole, so nothing of it is
        appended)."""
        # Imported flags hold nothing (the worker leaves imported history as its source had it),
        # so they are not what this limit is for, and an import may carry thousands.
        flags = [
            i
            for i, e in enumerate(envelopes)
            if isinstance(e.data, CommentFlagged) and e.importedfrom is None
        ]
        if not flags or self.per_min <= 0:
            return
        bucket, wait = take(
            self._buckets.get(key.name),
            self._clock(),
            rate=self.per_min / 60,
            burst=self.per_min,
            cost=len(flags),
        )
        self._buckets[key.name] = bucket
        if not wait:
            return
        over = flags[int(bucket.tokens) :]
        log.warning("request refused", status=429, code="flag_limited", key=key.name)
        raise ApiError(
            429,
            "flag_limited",
            f"Key {key.name!r} may post {self.per_min:g} flags a minute; {len(over)} of this"
            f" request's {len(flags)} are over it and nothing was appended. Retry after the"
            " Retry-After seconds; a flood of flags from one key is what this limit stops.",
            [
                ErrorDetail(field="type", index=index, message="over the key's flag limit")
                for index in over
            ],
            headers={"Retry-After": retry_after(wait)},
        )
