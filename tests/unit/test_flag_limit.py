"""The per-key flag limit, on a clock the test moves: refusals take nothing, tokens refill."""

import msgspec
import pytest

from events import Envelope, Limits, decode_request
from services.auth import ApiKey
from services.errors import ApiError
from services.ingest.flag_limit import FlagLimit

KEY = ApiKey("site", frozenset({"produce"}))


def events(*kinds: str) -> list[Envelope]:
    """One envelope per kind: `flag` or `post`, on one comment."""
    base = {"article_id": "a", "comment_id": "c"}
    bodies = {
        "flag": {"type": "CommentFlagged", "data": base | {"flagger_id": "f", "reason": "spam"}},
        "post": {"type": "CommentPosted", "data": base | {"author_id": "x", "body": "hi"}},
    }
    return decode_request(msgspec.json.encode([bodies[k] for k in kinds]), Limits())


def test_a_refused_request_takes_nothing_and_a_minute_refills_the_allowance() -> None:
    """Over the allowance the whole request is refused and its flags are not counted, so the
    flags that fit still pass; a minute later the key may flag `per_min` times again."""
    now = [0.0]
    limit = FlagLimit(4, clock=lambda: now[0])
    limit.admit(KEY, events("flag", "post", "flag", "flag"))
    with pytest.raises(ApiError) as refused:
        limit.admit(KEY, events("post", "flag", "flag"))
    assert (refused.value.status, refused.value.code) == (429, "flag_limited")
    assert [d.index for d in refused.value.details] == [2]
    assert refused.value.headers == {"Retry-After": "15"}
    limit.admit(KEY, events("flag"))
    limit.admit(KEY, events("post", "post"))
    now[0] = 60.0
    limit.admit(KEY, events("flag", "flag", "flag", "flag"))


def test_zero_turns_the_limit_off() -> None:
    """THREADLOG_FLAG_LIMIT_PER_MIN=0: no flag is ever refused."""
    limit = FlagLimit(0, clock=lambda: 0.0)
    for _ in range(100):
        limit.admit(KEY, events("flag", "flag"))


def test_imported_flags_take_no_tokens() -> None:
    """Flags of imported history hold nothing (the source decided), so the limit that bounds
    how fast a key can hide comments does not throttle an import of thousands of them."""
    limit = FlagLimit(per_min=2, clock=lambda: 0.0)
    imported = [msgspec.structs.replace(e, importedfrom="remark42") for e in events(*["flag"] * 5)]
    limit.admit(KEY, imported)
    limit.admit(KEY, events("flag", "flag"))
    with pytest.raises(ApiError):
        limit.admit(KEY, events("flag"))
