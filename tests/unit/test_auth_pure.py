"""The pure parts of admission: scopes per event type, keys and their hash, the rules of each
service's routes, and the token bucket with an injected clock (no sleeps)."""

import pytest

from events import EVENT_TYPES
from services.auth import (
    bearer_token,
    grants,
    ingest_rule,
    key_hash,
    missing_event_scopes,
    new_key,
    query_rule,
    scope_for_event,
)
from services.auth.scopes import EVENT_SCOPES, UndeclaredEvent
from services.auth.token_bucket import RateLimiter, retry_after, take


@pytest.mark.parametrize(
    ("event_type", "scope"),
    [
        ("ArticlePublished", "produce"),
        ("CommentPosted", "produce"),
        ("CommentFlagged", "produce"),
        ("CommentEdited", "produce"),
        ("CommentDeleted", "produce"),
        ("CommentVoted", "produce"),
        ("ArticleUpdated", "produce"),
        ("CommentModerated", "moderate"),
        ("AuthorBanned", "moderate"),
        ("AuthorUnbanned", "moderate"),
        ("ArticleClosed", "moderate"),
        ("ArticleReopened", "moderate"),
        ("CommentDeleted(moderator)", "moderate"),
    ],
)
def test_each_event_type_needs_its_scope(event_type: str, scope: str) -> None:
    """Moderation events need `moderate`; content events need `produce`."""
    assert scope_for_event(event_type) == scope


def test_the_scope_table_is_derived_from_the_declarations() -> None:
    """Each type needs exactly the scope its class declares (events/catalog.py)."""
    assert {name: EVENT_SCOPES[name] for name in EVENT_TYPES} == {
        name: cls.SCOPE for name, cls in EVENT_TYPES.items()
    }


def test_an_undeclared_type_unlocks_nothing() -> None:
    """A type no class declares has no scope: asking is an error, never a default `produce`
    (ingest refuses such a type with 422 before it asks)."""
    with pytest.raises(UndeclaredEvent, match="NoSuchEvent"):
        scope_for_event("NoSuchEvent")


def test_admin_grants_everything_and_other_scopes_only_themselves() -> None:
    """`admin` holds every scope; `produce` does not imply `moderate`, nor the reverse."""
    assert all(grants({"admin"}, s) for s in ("produce", "moderate", "operate", "admin"))
    assert grants({"produce"}, "produce")
    assert not grants({"produce"}, "moderate")
    assert not grants({"moderate"}, "produce")
    assert not grants({"operate"}, "admin")


def test_a_batch_names_every_event_its_key_may_not_post() -> None:
    """Each event lacking a scope is listed with its index; a key with both scopes passes all."""
    types = ["CommentPosted", "CommentModerated", "CommentFlagged", "AuthorBanned"]
    assert missing_event_scopes({"produce"}, types) == [(1, "moderate"), (3, "moderate")]
    assert missing_event_scopes({"moderate"}, types) == [(0, "produce"), (2, "produce")]
    assert missing_event_scopes({"produce", "moderate"}, types) == []
    assert missing_event_scopes({"admin"}, types) == []


def test_keys_are_random_prefixed_and_stored_as_a_hash() -> None:
    """Two keys differ, start with tl_, carry 256 bits; the hash is SHA-256 hex, not the key."""
    a, b = new_key(), new_key()
    assert a != b
    assert a.startswith("tl_")
    assert len(a) == 3 + 43
    assert key_hash(a) != a
    assert len(key_hash(a)) == 64
    assert key_hash(a) == key_hash(a) != key_hash(b)


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer tl_abc", "tl_abc"),
        ("bearer   tl_abc  ", "tl_abc"),
        ("Basic dXNlcjpwYXNz", None),
        ("Bearer", None),
        ("Bearer ", None),
        ("", None),
        (None, None),
    ],
)
def test_bearer_token_parsing(header: str | None, token: str | None) -> None:
    """Only the Bearer scheme with a token yields one; other schemes and empty ones do not."""
    assert bearer_token(header) == token


def test_route_rules_of_each_service() -> None:
    """Probes and the OpenAPI document are open; ingest writes need a key; query reads are
    public unless configured, the moderation queue needs `moderate`, other writes `operate`."""
    assert ingest_rule("GET", "/healthz") == "open"
    assert ingest_rule("GET", "/schema/openapi.json") == "open"
    assert ingest_rule("POST", "/v1/events") == "key"
    public, private = query_rule(False), query_rule(True)
    assert public("GET", "/readyz") == private("GET", "/readyz") == "open"
    assert public("GET", "/v1/articles/a/thread") == "optional"
    assert private("GET", "/v1/articles/a/thread") == "key"
    assert public("GET", "/v1/moderation/queue") == "moderate"
    assert public("GET", "/v1/moderation") == "moderate"
    assert public("GET", "/v1/moderationx") == "optional"
    assert public("DELETE", "/v1/articles/a") == "operate"
    assert public("GET", "/schemas-of-mine") == "optional"


def test_a_bucket_allows_its_burst_then_refills_at_its_rate() -> None:
    """Burst 3 at 2 tokens/s: three requests pass at once, the fourth waits 0.5 s; after that
    half second one more passes."""
    bucket = None
    for _ in range(3):
        bucket, wait = take(bucket, 100.0, rate=2.0, burst=3.0)
        assert wait == 0.0
    bucket, wait = take(bucket, 100.0, rate=2.0, burst=3.0)
    assert wait == pytest.approx(0.5)
    bucket, wait = take(bucket, 100.5, rate=2.0, burst=3.0)
    assert wait == 0.0
    _, wait = take(bucket, 100.5, rate=2.0, burst=3.0)
    assert wait == pytest.approx(0.5)


def test_a_bucket_never_holds_more_than_its_burst_nor_drains_when_the_clock_steps_back() -> None:
    """An hour idle still allows only `burst` at once; a clock going back takes nothing."""
    bucket, _ = take(None, 0.0, rate=1.0, burst=2.0)
    passed = 0
    for _ in range(5):
        bucket, wait = take(bucket, 3600.0, rate=1.0, burst=2.0)
        passed += wait == 0.0
    assert passed == 2
    bucket, wait = take(bucket, 10.0, rate=1.0, burst=2.0)
    assert bucket.tokens == 0.0
    assert wait == pytest.approx(1.0)


def test_the_limiter_keeps_one_bucket_per_key() -> None:
    """One key over its limit does not slow another; Retry-After rounds up to whole seconds."""
    limiter = RateLimiter(rate=0.1, burst=1.0)
    assert limiter.admit("flood", 0.0) == 0.0
    assert limiter.admit("flood", 0.0) == pytest.approx(10.0)
    assert limiter.admit("calm", 0.0) == 0.0
    assert retry_after(0.01) == "1"
    assert retry_after(9.2) == "10"
