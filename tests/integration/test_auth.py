"""API keys on the real services: 401, 403 and 429 in the shared shape, refusals logged with the
key's name and never the key, the producing key recorded on each event, revocation without a
restart, and the `threadlog keys` command."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from typing import Any

import asyncpg
import msgspec
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from litestar.testing import AsyncTestClient
from structlog.testing import capture_logs

from services.auth import KeyCache, KeysUnavailable, revoke_key
from services.ingest import create_app as create_ingest_app
from services.query import create_app as create_query_app
from tests.integration.conftest import MakeKey, eventually
from threadlog.settings import ENVIRONMENT, Settings

Client = AsyncTestClient[Any]

POST = {
    "id": "e1",
    "type": "CommentPosted",
    "data": {"article_id": "art", "comment_id": "c1", "author_id": "ann", "body": "hi"},
}


def error_of(response: Any) -> tuple[int, str]:
    """The status and error code of a response in the shared shape."""
    body = response.json()
    assert set(body) == {"error"}
    assert {"code", "message"} <= set(body["error"])
    return response.status_code, body["error"]["code"]


async def test_writes_without_a_valid_key_are_401_and_logged_without_the_key(
    settings: Settings, make_key: MakeKey
) -> None:
    """No key, another scheme, an unknown key: 401 `unauthorized` with a Bearer challenge,
    nothing appended; each refusal is logged, and no log line holds the key sent."""
    await make_key("someone", ["produce"])
    wrong = "tl_" + "x" * 43
    async with AsyncTestClient(create_ingest_app(settings.ingest())) as client:
        with capture_logs() as logs:
            missing = await client.post("/v1/events", json=POST)
            basic = await client.post(
                "/v1/events", json=POST, headers={"Authorization": "Basic dTpw"}
            )
            unknown = await client.post(
                "/v1/events", json=POST, headers={"Authorization": f"Bearer {wrong}"}
            )
    for response in (missing, basic, unknown):
        assert error_of(response) == (401, "unauthorized")
        assert response.headers["www-authenticate"].startswith('Bearer realm="threadlog"')
    assert 'error="invalid_token"' in unknown.headers["www-authenticate"]
    refusals = [line for line in logs if line["event"] == "request refused"]
    assert [(r["status"], r["key"], r["path"]) for r in refusals] == [(401, None, "/v1/events")] * 3
    assert wrong not in repr(logs)


async def test_a_key_without_the_scope_is_403_naming_each_event_and_the_scope(
    settings: Settings, make_key: MakeKey
) -> None:
    """A key with only `operate` posting content gets 403 `forbidden` listing every event's
    index and the scope it needs, nothing appended; the refusal is logged with the key's name."""
    key = await make_key("ops-bot", ["operate"])
    async with AsyncTestClient(create_ingest_app(settings.ingest())) as client:
        with capture_logs() as logs:
            response = await client.post(
                "/v1/events",
                json=[POST, POST | {"id": "e2"}],
                headers={"Authorization": f"Bearer {key}"},
            )
    assert error_of(response) == (403, "forbidden")
    error = response.json()["error"]
    assert "'ops-bot'" in error["message"]
    assert "produce" in error["message"]
    assert error["details"] == [
        {"field": "type", "index": 0, "message": "CommentPosted needs scope 'produce'"},
        {"field": "type", "index": 1, "message": "CommentPosted needs scope 'produce'"},
    ]
    refusals = [line for line in logs if line["event"] == "request refused"]
    assert [(r["status"], r["key"]) for r in refusals] == [(403, "ops-bot")]
    assert key not in repr(logs)


async def test_each_event_records_the_key_that_produced_it(
    settings: Settings, make_key: MakeKey
) -> None:
    """The Kafka record of an accepted event carries the producing key's name as the
    CloudEvents extension attribute `producerkey` (header ce_producerkey)."""
    key = await make_key("cms-prod", ["produce"])
    async with AsyncTestClient(create_ingest_app(settings.ingest())) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        await eventually(lambda: _ready(client), what="ingest to connect to Kafka")
        response = await client.post("/v1/events", json=POST)
    assert response.status_code == 202
    accepted = response.json()["accepted"][0]
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers)
    await consumer.start()
    try:
        partition = TopicPartition(settings.topic, accepted["partition"])
        consumer.assign([partition])
        consumer.seek(partition, accepted["offset"])
        record = await asyncio.wait_for(consumer.getone(), 10)
    finally:
        await consumer.stop()
    assert dict(record.headers)["ce_producerkey"] == b"cms-prod"
    assert key.encode() not in b"".join(value for _, value in record.headers)


async def _ready(client: Client) -> bool:
    return (await client.get("/readyz")).status_code == 200


async def test_a_revoked_key_is_refused_within_seconds_without_a_restart(
    settings: Settings, make_key: MakeKey, db: asyncpg.Connection[Any]
) -> None:
    """Revoking a key in the table makes the running service refuse it within the refresh
    interval (2 s by default), measured here from the revoke to the first 401."""
    key = await make_key("leaky", ["produce"])
    async with AsyncTestClient(create_ingest_app(settings.ingest())) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        # An empty batch is refused (422) only after the key was accepted: no Kafka needed.
        assert error_of(await client.post("/v1/events", json=[])) == (422, "invalid_events")
        assert await revoke_key(db, "leaky")
        revoked_at = time.monotonic()
        while (await client.post("/v1/events", json=[])).status_code != 401:
            assert time.monotonic() - revoked_at < settings.auth_refresh_s + 2.0
            await asyncio.sleep(0.02)
        latency = time.monotonic() - revoked_at
    print(f"revoke-to-refusal latency: {latency:.2f} s (refresh every {settings.auth_refresh_s} s)")
    assert latency <= settings.auth_refresh_s + 2.0


async def test_the_rate_limit_answers_429_with_retry_after_per_key(
    settings: Settings, make_key: MakeKey
) -> None:
    """At 0.5 requests/s with bursts of 2, a key's third request at once is 429 `rate_limited`
    with Retry-After 2; another key is not slowed by it."""
    flood, calm = await make_key("flood", ["produce"]), await make_key("calm", ["produce"])
    limited = msgspec.structs.replace(settings, rate_limit_per_s=0.5, rate_limit_burst=2.0)
    async with AsyncTestClient(create_ingest_app(limited.ingest())) as client:
        with capture_logs() as logs:
            answers = [
                await client.post("/v1/events", json=[], headers={"Authorization": f"Bearer {k}"})
                for k in (flood, flood, flood, calm)
            ]
    assert [a.status_code for a in answers] == [422, 422, 429, 422]
    assert error_of(answers[2]) == (429, "rate_limited")
    assert answers[2].headers["retry-after"] == "2"
    assert [(r["status"], r["key"]) for r in logs if r["event"] == "request refused"] == [
        (429, "flood")
    ]


async def test_query_reads_are_public_unless_configured_and_probes_always_open(
    settings: Settings, make_key: MakeKey
) -> None:
    """By default anyone reads threads; a key sent must still be valid. With reads_require_key
    a read without a key is 401. /healthz, /readyz and the OpenAPI document never need one."""
    key = await make_key("reader", ["operate"])
    async with AsyncTestClient(create_query_app(settings.query())) as client:
        assert error_of(await client.get("/v1/articles/a/thread")) == (404, "article_not_found")
        bad = await client.get("/v1/articles/a/thread", headers={"Authorization": "Bearer nope"})
        assert error_of(bad) == (401, "unauthorized")
    private = msgspec.structs.replace(settings, reads_require_key=True)
    async with AsyncTestClient(create_query_app(private.query())) as client:
        assert error_of(await client.get("/v1/authors/a/timeline")) == (401, "unauthorized")
        keyed = await client.get(
            "/v1/authors/a/timeline", headers={"Authorization": f"Bearer {key}"}
        )
        assert keyed.status_code == 200
        for path in ("/healthz", "/readyz", "/schema/openapi.json"):
            assert (await client.get(path)).status_code == 200, path


async def test_the_moderation_queue_needs_the_moderate_scope(
    settings: Settings, make_key: MakeKey
) -> None:
    """GET /v1/moderation/queue: 401 without a key, 403 with `produce`, allowed with
    `moderate` or `admin`."""
    keys = {s: await make_key(f"k-{s}", [s]) for s in ("produce", "moderate", "admin")}
    app = create_query_app(settings.query())
    async with AsyncTestClient(app) as client:
        schema = (await client.get("/schema/openapi.json")).json()
        if "/v1/moderation/queue" not in schema["paths"]:
            pytest.skip("the moderation queue comes with the comment lifecycle (issue 3)")
        assert error_of(await client.get("/v1/moderation/queue")) == (401, "unauthorized")
        answers = {
            scope: await client.get(
                "/v1/moderation/queue", headers={"Authorization": f"Bearer {key}"}
            )
            for scope, key in keys.items()
        }
    assert error_of(answers["produce"]) == (403, "forbidden")
    assert answers["moderate"].status_code == 200
    assert answers["admin"].status_code == 200


async def test_an_overlong_url_is_414(settings: Settings) -> None:
    """A URL over 4,096 characters is refused with 414 before any key or database is looked at."""
    async with AsyncTestClient(create_query_app(settings.query())) as client:
        response = await client.get("/v1/authors/" + "a" * 5000 + "/timeline")
    assert error_of(response) == (414, "uri_too_long")


async def test_nul_in_a_url_is_400_on_every_route(settings: Settings) -> None:
    """NUL in a path parameter or a query parameter is 400 `invalid_parameter` (PostgreSQL text
    cannot hold it); without this check it reached the database and answered 500."""
    async with AsyncTestClient(create_query_app(settings.query())) as client:
        for url in ("/v1/articles/a%00b/thread", "/v1/authors/a%00/timeline"):
            assert error_of(await client.get(url)) == (400, "invalid_parameter"), url
        query = await client.get("/v1/articles/a/thread", params={"cursor": "x\x00"})
        assert error_of(query) == (400, "invalid_parameter")


async def test_the_key_cache_fails_closed_when_it_cannot_be_refreshed(settings: Settings) -> None:
    """Keys read from Postgres serve lookups; once the last read is older than max_stale_s (the
    database unreachable), every lookup is refused rather than trusting revoked keys."""
    now = [0.0]
    cache = KeyCache(settings.auth(), clock=lambda: now[0])
    try:
        with pytest.raises(KeysUnavailable):
            cache.lookup("tl_x")
        await cache.refresh()
        assert cache.lookup("tl_x") is None
        now[0] = settings.auth_max_stale_s + 0.1
        with pytest.raises(KeysUnavailable, match="for over 30 s"):
            cache.lookup("tl_x")
    finally:
        await cache.stop()


def test_the_keys_command_creates_lists_and_revokes(settings: Settings) -> None:
    """`threadlog keys create` prints the key alone on its last line and stores only its hash;
    `list` shows name and scopes; `revoke` marks it, and a second revoke fails."""
    env = dict(os.environ) | {var: str(getattr(settings, n)) for n, var in ENVIRONMENT.items()}

    def keys(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "threadlog", "keys", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    created = keys("create", "--name", "cms", "--scope", "produce", "--scope", "moderate")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip().splitlines()[-1]
    assert key.startswith("tl_")
    assert " " not in key
    listed = keys("list")
    assert "cms" in listed.stdout
    assert "moderate,produce" in listed.stdout
    assert key not in listed.stdout
    assert keys("create", "--name", "cms", "--scope", "produce").returncode != 0
    assert keys("revoke", "cms").returncode == 0
    again = keys("revoke", "cms")
    assert again.returncode != 0
    assert "no key named 'cms'" in again.stderr

    async def stored() -> list[str]:
        conn = await asyncpg.connect(settings.database_url)
        try:
            rows = await conn.fetch(f'select * from "{settings.pg_schema}".api_keys')
        finally:
            await conn.close()
        return [str(value) for row in rows for value in row.values()]

    assert key not in asyncio.run(stored())


async def test_removing_someone_elses_comment_needs_the_moderate_scope(
    settings: Settings, make_key: MakeKey
) -> None:
    """A deletion flagged `moderator: true` is a moderator's act: a produce-only key is refused
    (403 naming it), a moderate key may post it; an author's own deletion needs only produce."""
    writer = await make_key("widget", ["produce"])
    moderator = await make_key("mod-console", ["moderate"])
    by_moderator = {
        "type": "CommentDeleted",
        "data": {"article_id": "a", "comment_id": "c", "deleted_by": "mod", "moderator": True},
    }
    by_author = {
        "type": "CommentDeleted",
        "data": {"article_id": "a", "comment_id": "c", "deleted_by": "ann"},
    }
    async with AsyncTestClient(create_ingest_app(settings.ingest())) as client:
        refused = await client.post(
            "/v1/events", json=by_moderator, headers={"Authorization": f"Bearer {writer}"}
        )
        assert error_of(refused) == (403, "forbidden")
        assert refused.json()["error"]["details"] == [
            {
                "field": "type",
                "index": 0,
                "message": "CommentDeleted(moderator) needs scope 'moderate'",
            }
        ]

        async def kafka_ready() -> bool:
            return bool((await client.get("/readyz")).status_code == 200)

        await eventually(kafka_ready, what="ingest to connect to Kafka")
        for key, event in ((moderator, by_moderator), (writer, by_author)):
            response = await client.post(
                "/v1/events", json=event, headers={"Authorization": f"Bearer {key}"}
            )
            assert response.status_code == 202, response.text
