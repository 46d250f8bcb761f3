"""The whole pipeline over secured transports: a Kafka broker whose only listener is SASL_SSL
(SCRAM-SHA-512, client certificates required) and a PostgreSQL that takes TLS connections only,
both the test's own (tests/integration/secured_servers.py), with certificates made here.

The broker runs the version deploy/kafka/pom.xml pins; THREADLOG_KAFKA_VERSIONS=4.2.2,4.3.1
runs the module against each of those instead (their jars resolved by mvn, once).
"""

import asyncio
import io
import os
import sys
import time
from collections.abc import Iterator
from contextlib import aclosing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer
from litestar import Litestar
from litestar.testing import AsyncTestClient

from eventlog.connection import KafkaSecurityError, client_args, start_client
from eventlog.subscribe import subscribe
from projections import Worker
from services.ingest import create_app as create_ingest_app
from services.query import create_app as create_query_app
from subject_keys import KeyStore
from tests.integration.conftest import eventually
from tests.integration.secured_servers import (
    PLAIN_PASSWORD,
    PLAIN_USER,
    Pki,
    SecuredKafka,
    SecuredPostgres,
    make_pki,
    pinned_kafka_version,
)
from tests.servers import isolated
from threadlog.demo_thread import ARTICLE_ID, demo_events
from threadlog.export.log_export import Selection, export_log
from threadlog.settings import ENVIRONMENT, Settings, from_env
from threadlog.topics import ensure_topics

Client = AsyncTestClient[Any]

STARTS_WITHIN_S = 15.0
"""How soon a misconfigured client must fail (a few seconds, with room for a loaded machine)."""


def _versions() -> list[str]:
    wanted = os.environ.get("THREADLOG_KAFKA_VERSIONS", "")
    return [v.strip() for v in wanted.split(",") if v.strip()] or [pinned_kafka_version()]


@dataclass(frozen=True)
class Secured:
    """The secured servers of this module, and how to reach them."""

    kafka: SecuredKafka
    postgres: SecuredPostgres
    pki: Pki

    def environ(self, **changes: str) -> dict[str, str]:
        """The variables a deployment sets to reach them (every one of the new settings)."""
        conn = self.kafka.connection()
        return {
            "KAFKA_BOOTSTRAP_SERVERS": conn.bootstrap_servers,
            "THREADLOG_KAFKA_SECURITY_PROTOCOL": conn.security_protocol,
            "THREADLOG_KAFKA_SSL_CAFILE": conn.ssl_cafile,
            "THREADLOG_KAFKA_SSL_CERTFILE": conn.ssl_certfile,
            "THREADLOG_KAFKA_SSL_KEYFILE": conn.ssl_keyfile,
            "THREADLOG_KAFKA_SASL_MECHANISM": conn.sasl_mechanism,
            "THREADLOG_KAFKA_SASL_USERNAME": conn.sasl_username,
            "THREADLOG_KAFKA_SASL_PASSWORD": conn.sasl_password,
            "DATABASE_URL": self.postgres.url,
            "THREADLOG_DATABASE_CA_FILE": str(self.pki.ca),
        } | changes

    def settings(self, **changes: str) -> Settings:
        """Isolated settings (own topic, schema) from those variables."""
        return isolated(from_env(self.environ(**changes)))


@pytest.fixture(scope="module", params=_versions())
def secured(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Secured]:
    """One broker and one PostgreSQL for the module (a broker takes 10-40 s to start)."""
    folder = tmp_path_factory.mktemp("secured")
    pki = make_pki(folder / "pki")
    postgres = SecuredPostgres(pki)
    kafka = SecuredKafka(folder / "kafka", pki, request.param)
    try:
        kafka.launch()  # PostgreSQL starts while the JVM does
        pg_s = postgres.start()
        kafka_s = asyncio.run(kafka.ready())
        print(f"secured servers up: PostgreSQL {pg_s:.1f} s, Kafka {request.param} {kafka_s:.1f} s")
        yield Secured(kafka, postgres, pki)
    finally:
        kafka.stop()
        postgres.stop()


@pytest.fixture(scope="module")
def base_settings(secured: Secured) -> Settings:
    """The secured servers' settings, from the variables: conftest's fixtures (a test's
    `settings` with its topics and schema, `worker`, `ingest`, `query`) run on them."""
    return from_env(secured.environ())


async def test_pipeline_end_to_end_over_sasl_ssl_and_tls(
    settings: Settings, ingest: Client, query: Client, worker: Worker
) -> None:
    """Posted to ingest, appended over SASL_SSL, applied by the worker into PostgreSQL over
    verified TLS, served by the query service; `subscribe()` and `threadlog export` read the
    same events through the same broker (the topics were made through it: `threadlog init`)."""
    posted = await ingest.post("/v1/events", json=demo_events())
    assert posted.status_code == 202, posted.text
    last = posted.json()["accepted"][-1]["id"]

    async def applied() -> bool:
        status = (await query.get(f"/v1/events/{last}")).json()["status"]
        return bool(status == "applied")

    # A new broker creates its offsets and transaction topics on first use: not 5 s.
    await eventually(applied, what="the worker to apply the thread", timeout_s=60)
    page = await query.get(f"/v1/articles/{ARTICLE_ID}/thread")
    assert page.json()["article"]["comment_count"] == 5

    ids = [event["id"] for event in demo_events()]
    seen: list[str] = []
    deliveries = subscribe(settings.kafka(), settings.topic, start="earliest")
    async with aclosing(deliveries):
        async for delivery in deliveries:
            seen.append(delivery.envelope.id)
            if len(seen) == len(ids):
                break
    assert seen == ids

    out = io.BytesIO()
    async with KeyStore(settings.key_store()) as keys:
        stats = await export_log(settings.kafka(), settings.topic, Selection(), out, keys)
    assert stats.events == len(ids)

    conn = await asyncpg.connect(settings.database_url)
    try:
        encrypted = await conn.fetchval("select ssl from pg_stat_ssl where pid = pg_backend_pid()")
    finally:
        await conn.close()
    assert encrypted is True


async def test_plain_over_tls_connects(secured: Secured) -> None:
    """SASL PLAIN is spoken over TLS (SASL_SSL), the one place it is allowed."""
    plain = secured.kafka.connection(
        sasl_mechanism="PLAIN", sasl_username=PLAIN_USER, sasl_password=PLAIN_PASSWORD
    )
    producer = AIOKafkaProducer(**client_args(plain))
    await start_client(producer, plain)
    try:
        metadata = await producer.client.fetch_all_metadata()
        assert metadata.brokers()
    finally:
        await producer.stop()


async def _fails_at_start(settings: Settings) -> list[str]:
    """What each process says when it starts with `settings`: the worker, ingest, query."""
    said = []
    worker = Worker(settings.worker())
    try:
        async with asyncio.timeout(STARTS_WITHIN_S):
            with pytest.raises(KafkaSecurityError) as refused:
                await worker.start()
        said.append(str(refused.value))
    finally:
        await worker.stop()
    for app in (create_ingest_app(settings.ingest()), create_query_app(settings.query())):
        async with asyncio.timeout(STARTS_WITHIN_S):
            [refusal] = [e for e in await _start_failures(app) if isinstance(e, KafkaSecurityError)]
        said.append(str(refusal))
    return said


async def _start_failures(app: Litestar) -> list[BaseException]:
    """The exceptions `app`'s start raised (the test client wraps them in groups)."""
    try:
        async with AsyncTestClient(app):
            pass
    except Exception as error:  # any: what is raised is what the test looks at
        return _leaves(error)
    pytest.fail("the app started")


def _leaves(error: BaseException) -> list[BaseException]:
    if isinstance(error, BaseExceptionGroup):
        return [leaf for inner in error.exceptions for leaf in _leaves(inner)]
    return [error, *([error.__cause__] if error.__cause__ else [])]


async def test_wrong_password_fails_at_start_with_the_reason(secured: Secured) -> None:
    """A wrong SCRAM password stops the worker, ingest and query at start, within seconds,
    saying which user was refused and which variables to check; nothing retries forever."""
    said = await _fails_at_start(secured.settings(THREADLOG_KAFKA_SASL_PASSWORD="not-the-password"))
    for message in said:
        assert "refused the SCRAM-SHA-512 credentials of user 'alice'" in message, message
        assert "THREADLOG_KAFKA_SASL_PASSWORD" in message
        assert "not-the-password" not in message


async def test_wrong_kafka_ca_fails_at_start_with_the_reason(secured: Secured) -> None:
    """A CA that did not sign the broker's certificate stops every process at start, naming
    the certificate check and THREADLOG_KAFKA_SSL_CAFILE."""
    said = await _fails_at_start(
        secured.settings(THREADLOG_KAFKA_SSL_CAFILE=str(secured.pki.other_ca))
    )
    for message in said:
        assert "TLS certificate not trusted" in message, message
        assert "THREADLOG_KAFKA_SSL_CAFILE" in message


async def test_missing_client_certificate_fails_at_start(secured: Secured) -> None:
    """A broker that requires a client certificate hangs up on a client without one: said at
    start, not retried as if the broker were down."""
    environ = secured.environ()
    del environ["THREADLOG_KAFKA_SSL_CERTFILE"], environ["THREADLOG_KAFKA_SSL_KEYFILE"]
    said = await _fails_at_start(isolated(from_env(environ)))
    for message in said:
        assert "closed our connection" in message, message
        assert "THREADLOG_KAFKA_SSL_CERTFILE" in message


async def test_wrong_postgres_ca_and_password_fail_at_start(secured: Secured) -> None:
    """PostgreSQL's certificate is verified against THREADLOG_DATABASE_CA_FILE (sslmode
    verify-full) by every pool: another CA, or a wrong password, fails the query service's
    start at once."""
    wrong_ca = secured.settings(THREADLOG_DATABASE_CA_FILE=str(secured.pki.other_ca))
    wrong_password = secured.settings(DATABASE_URL=secured.postgres.url.replace("-secret", "-x"))
    for settings, expected in (
        (wrong_ca, "certificate verify failed"),
        (wrong_password, "password authentication failed"),
    ):
        started = time.monotonic()
        failures = await _start_failures(create_query_app(settings.query()))
        assert any(expected in str(e) for e in failures), failures
        assert time.monotonic() - started < STARTS_WITHIN_S


async def test_commands_say_why_and_exit(secured: Secured, tmp_path: Path) -> None:
    """`threadlog init`, `status`, `export` and `import` with a wrong password exit non-zero
    with the reason, no traceback (run side by side: each pays an interpreter's start)."""
    settings = secured.settings()
    await ensure_topics(settings)
    environ = os.environ | secured.environ(THREADLOG_KAFKA_SASL_PASSWORD="not-the-password")
    environ |= {ENVIRONMENT["topic"]: settings.topic, ENVIRONMENT["pg_schema"]: settings.pg_schema}
    (tmp_path / "empty.jsonl").write_text("")
    commands = {
        "init": ["init"],
        "status": ["status"],
        "export": ["export", "--output", str(tmp_path / "out.jsonl")],
        "import": ["import", "threadlog", str(tmp_path / "empty.jsonl")],
    }

    async def run(args: list[str]) -> tuple[int | None, str]:
        done = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "threadlog", *args,
            env=environ, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        _, err = await asyncio.wait_for(done.communicate(), 120)
        return done.returncode, err.decode()

    started = time.monotonic()
    results = await asyncio.gather(*map(run, commands.values()))
    for name, (code, said) in zip(commands, results, strict=True):
        assert code == 1, (name, said)
        assert f"threadlog {name}: Kafka at 127.0.0.1:" in said, said
        assert "refused the SCRAM-SHA-512 credentials" in said, said
        assert "Traceback" not in said, said
    print(f"4 commands refused in {time.monotonic() - started:.1f} s (interpreters included)")
