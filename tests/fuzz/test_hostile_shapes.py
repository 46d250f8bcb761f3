"""The shapes schemathesis cannot know, sent to both running services: deep JSON, forged cursors,
times across every year and zone, trailing-newline ids and invisible bodies. Beyond "no 5xx, the
error shape", each test states what the answer must be.

`make test` runs THREADLOG_FUZZ_EXAMPLES (default 25) cases per test; `make fuzz` many more.
"""

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from services.errors import ErrorResponse
from tests.fuzz.conftest import FUZZ_SETTINGS, SEED_ARTICLE, SEED_AUTHOR, TALLY, Running, check
from tests.fuzz.shapes import (
    INVISIBLE,
    RECURSION_LIMIT,
    any_time,
    deep_events,
    deep_mark_read,
    forged_cursors,
    id_suffixes,
    invisible,
    near_now,
)

pytestmark = pytest.mark.integration

_session = requests.Session()


def send(
    running: Running, method: str, url: str, endpoint: str, **kwargs: Any
) -> tuple[requests.Response, ErrorResponse | None]:
    """Send with the admin key, tally the answer under `endpoint`, check no 5xx and the shape;
    the response and its error body (None below 400)."""
    headers = {"Authorization": f"Bearer {running.key}", "content-type": "application/json"}
    response = _session.request(method, url, headers=headers, timeout=(5, 30), **kwargs)
    TALLY[(f"{endpoint} (shapes)", response.status_code)] += 1
    error = check(response.status_code, response.content, f"{method} {url}")
    return response, error


@FUZZ_SETTINGS
@given(deep_events())
def test_deep_json_posted_as_events_is_a_400_past_the_recursion_limit(
    running: Running, case: tuple[int, bytes]
) -> None:
    """However deep and wherever the nesting, ingest answers a 4xx; past the recursion limit it
    is `400 malformed_json`."""
    depth, body = case
    response, error = send(
        running, "POST", f"{running.ingest_url}/v1/events", "POST /v1/events", data=body
    )
    assert response.status_code in (400, 422), response.text[:300]
    if depth > RECURSION_LIMIT:
        assert error is not None
        assert (response.status_code, error.error.code) == (400, "malformed_json")


@FUZZ_SETTINGS
@given(deep_mark_read())
def test_deep_json_marking_notifications_read_is_a_400_past_the_recursion_limit(
    running: Running, case: tuple[int, bytes]
) -> None:
    """The query service's JSON body: served (shallow nesting in a field it ignores) or a 400,
    `400 malformed_json` past the recursion limit."""
    depth, body = case
    url = f"{running.query_url}/v1/authors/{SEED_AUTHOR}/notifications/read"
    response, error = send(running, "POST", url, "POST .../notifications/read", data=body)
    assert response.status_code in (200, 400), response.text[:300]
    if depth > RECURSION_LIMIT:
        assert error is not None
        assert (response.status_code, error.error.code) == (400, "malformed_json")


THREAD = f"/v1/articles/{SEED_ARTICLE}/thread"
LISTINGS = [
    (THREAD, {"sort": "oldest"}, "thread:oldest", ("id",)),
    (THREAD, {"sort": "newest"}, "thread:newest", ("id",)),
    (THREAD, {"sort": "top"}, "thread:top", ("flag", "int", "id")),
    ("/v1/comments/c0/replies", {"article_id": SEED_ARTICLE}, f"replies:{SEED_ARTICLE}", ("id",)),
    (f"/v1/authors/{SEED_AUTHOR}/timeline", {}, "timeline", ("id", "id")),
    (f"/v1/authors/{SEED_AUTHOR}/notifications", {}, "notifications", ("id",)),
    ("/v1/moderation/queue", {"status": "pending"}, "queue:pending", ("int", "id", "id")),
    ("/v1/moderation/queue", {"status": "flagged"}, "queue:flagged", ("int", "id", "id")),
]


@pytest.mark.parametrize(
    ("path", "params", "kind", "keys"), LISTINGS, ids=[listing[2] for listing in LISTINGS]
)
def test_forged_cursors_are_served_or_a_400_invalid_cursor(
    running: Running, path: str, params: dict[str, str], kind: str, keys: tuple[str, ...]
) -> None:
    """On every listing with a cursor (of the seeded thread, so the queries run), a forged
    token is served (200: it held what the listing issues) or `400 invalid_cursor` on `cursor`."""

    @FUZZ_SETTINGS
    @given(forged_cursors(kind, keys))
    def forged(token: str) -> None:
        url = f"{running.query_url}{path}?{urlencode(params | {'cursor': token})}"
        response, error = send(running, "GET", url, f"GET {path} ?cursor")
        assert response.status_code in (200, 400), response.text[:300]
        if error is not None:
            assert error.error.code == "invalid_cursor", response.text[:300]
            assert [d.field for d in error.error.details] == ["cursor"]

    forged()


def _comment(time: str | None = None, **data: str) -> dict[str, Any]:
    base = {"article_id": "fz-times", "comment_id": "c1", "author_id": "u1", "body": "hi"}
    return {"type": "CommentPosted", "data": base | data} | ({"time": time} if time else {})


@FUZZ_SETTINGS
@given(any_time | near_now)
def test_times_outside_the_sane_range_are_a_422_on_time(running: Running, at: datetime) -> None:
    """A time from 1970 to five minutes past now is accepted; before, or more than a few
    seconds of slack after, it is `422` naming `time`."""
    url = f"{running.ingest_url}/v1/events"
    response, error = send(running, "POST", url, "POST /v1/events", json=_comment(at.isoformat()))
    now = datetime.now(UTC)
    if datetime(1970, 1, 1, tzinfo=UTC) <= at <= now + timedelta(seconds=290):
        assert response.status_code == 202, response.text[:300]
    elif at < datetime(1970, 1, 1, tzinfo=UTC) or at > now + timedelta(seconds=310):
        assert response.status_code == 422, response.text[:300]
        assert error is not None
        assert [d.field for d in error.error.details] == ["time"]


@FUZZ_SETTINGS
@given(
    st.sampled_from(["article_id", "comment_id", "author_id", "parent_id"]),
    id_suffixes,
    st.one_of(st.just("hi"), invisible, invisible.map(lambda s: s + "x")),
)
def test_ids_with_a_tail_and_invisible_bodies_are_a_422(
    running: Running, field: str, suffix: str, body: str
) -> None:
    """An id with anything after its last valid character and a body with nothing visible are
    `422` naming the field; otherwise the event is accepted."""
    event = _comment(**{field: f"x9{suffix}", "body": body})
    url = f"{running.ingest_url}/v1/events"
    response, error = send(running, "POST", url, "POST /v1/events", json=event)
    # The type's checks stop at the first wrong field; the body's is a domain check after them.
    wrong = {f"data.{field}"} if suffix else set() if body.strip(INVISIBLE) else {"data.body"}
    if not wrong:
        assert response.status_code == 202, response.text[:300]
    else:
        assert response.status_code == 422, response.text[:300]
        assert error is not None
        assert {d.field for d in error.error.details} == wrong
