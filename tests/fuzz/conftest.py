"""Both services as real processes (uvicorn, httptools) on a fresh topic and schema, for fuzzing,
with the worker and the notifier applying what they accept and a seeded thread to read.

Fuzzing goes through real HTTP so that the server's own parsing is fuzzed too. Each module gets
its own topic, schema and admin key; the processes are stopped by pid at the end.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import msgspec
import pytest
import requests
from hypothesis import HealthCheck, settings

from services.auth import create_key
from services.errors import ErrorResponse
from threadlog.settings import ENVIRONMENT, Settings, from_env

TALLY: Counter[tuple[str, int]] = Counter()
"""("METHOD /path", status) -> answers seen, for the summary at the end of the run."""


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the cases sent per endpoint and the statuses they got, 5xx first in mind."""
    if not TALLY:
        return
    endpoints = sorted({endpoint for endpoint, _ in TALLY})
    terminalreporter.section("fuzz: cases per endpoint")
    for endpoint in endpoints:
        statuses = {s: n for (e, s), n in sorted(TALLY.items()) if e == endpoint}
        server_errors = sum(n for s, n in statuses.items() if s >= 500)
        shown = ", ".join(f"{s}: {n}" for s, n in statuses.items())
        terminalreporter.write_line(
            f"{endpoint}: {sum(statuses.values())} cases, 5xx: {server_errors} ({shown})"
        )
    total = sum(TALLY.values())
    server_errors = sum(n for (_, s), n in TALLY.items() if s >= 500)
    terminalreporter.write_line(f"in all: {total} cases over both services, 5xx: {server_errors}")


EXAMPLES = int(os.environ.get("THREADLOG_FUZZ_EXAMPLES", "25"))
"""Cases per endpoint (schemathesis) or per test (the shapes): `make test` 25, `make fuzz` 500."""

FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
    derandomize=os.environ.get("THREADLOG_FUZZ_RANDOM") is None,
    database=None,
)
"""Fixed seeds unless THREADLOG_FUZZ_RANDOM is set (`make fuzz`), no example database."""

_errors = msgspec.json.Decoder(ErrorResponse)


def check(status: int, content: bytes, where: str) -> ErrorResponse | None:
    """No 5xx; a 4xx body is exactly the shared error shape with a code and a message, returned."""
    assert status < 500, f"{where}: {status} {content[:500]!r}"
    if status < 400:
        return None
    body = _errors.decode(content)  # raises if not the shared shape
    assert body.error.code, f"{where}: empty error code"
    assert body.error.message, f"{where}: empty error message"
    return body


class Running(msgspec.Struct, frozen=True):
    """Base URLs of the running services and an admin key they accept."""

    ingest_url: str
    query_url: str
    key: str


SEED_ARTICLE = "fuzz-article"
SEED_AUTHOR = "fuzz-author"
SEED_COMMENTS = [f"c{n}" for n in range(4)]
"""Top-level comments of the seeded thread; c0 has replies. Listings with a cursor are fuzzed
on it, so that forged cursors reach the queries they bound, not a 404 first."""


def _seed_events() -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = [
        {
            "id": "seed-article",
            "type": "ArticlePublished",
            "time": "2024-01-01T00:00:00Z",
            "data": {"article_id": SEED_ARTICLE, "title": "Fuzzed"},
        }
    ]
    for n, comment_id in enumerate([*SEED_COMMENTS, "r0", "r1", "r2"]):
        data = {
            "article_id": SEED_ARTICLE,
            "comment_id": comment_id,
            "author_id": SEED_AUTHOR,
            "body": f"comment {comment_id}",
        }
        if comment_id.startswith("r"):
            data |= {"parent_id": "c0", "author_id": f"other-{n}"}
        time = f"2024-01-01T00:{n + 1:02d}:00Z"
        events.append(
            {"id": f"seed-{comment_id}", "type": "CommentPosted", "time": time, "data": data}
        )
    for n, voter in enumerate(["v1", "v2"]):
        events.append(
            {
                "id": f"seed-vote-{n}",
                "type": "CommentVoted",
                "data": {
                    "article_id": SEED_ARTICLE,
                    "comment_id": "c2",
                    "voter_id": voter,
                    "vote": "up",
                },
            }
        )
    events.append(
        {
            "id": "seed-flag",
            "type": "CommentFlagged",
            "data": {
                "article_id": SEED_ARTICLE,
                "comment_id": "c1",
                "flagger_id": "v1",
                "reason": "spam",
            },
        }
    )
    return events


def _seed(settings: Settings, key: str) -> None:
    """Post the seeded thread and wait until the worker applied its last event."""
    auth = {"Authorization": f"Bearer {key}"}
    events = _seed_events()
    posted = requests.post(
        f"{settings.ingest_url}/v1/events", json=events, headers=auth, timeout=30
    )
    assert posted.status_code == 202, posted.text
    deadline = time.monotonic() + 60
    for event in events:
        while True:
            status = requests.get(f"{settings.query_url}/v1/events/{event['id']}", timeout=10)
            if status.json().get("status") != "pending":
                break
            if time.monotonic() > deadline:
                pytest.fail(f"the worker did not apply the seeded thread in 60 s ({event['id']})")
            time.sleep(0.1)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def fuzz_settings() -> Settings:
    """The environment's settings with a fresh topic and schema, free ports, no rate limit."""
    tag = uuid.uuid4().hex[:10]
    return msgspec.structs.replace(
        from_env(),
        topic=f"fuzz.{tag}.events",
        dlq_topic=f"fuzz.{tag}.events.dlq",
        topic_partitions=1,
        consumer_group=f"fuzz-{tag}",
        pg_schema=f"fuzz_{tag}",
        # Its own key store: the default schema may hold keys another checkout's KEK wrapped.
        key_store_schema=f"fuzz_{tag}_keys",
        ingest_port=_free_port(),
        query_port=_free_port(),
        rate_limit_per_s=1_000_000.0,
        rate_limit_burst=1_000_000.0,
        flag_limit_per_min=0.0,
        # Generated ?after= tokens name positions no worker will reach: without a short bound
        # every such case waits the full read-your-writes timeout.
        after_max_wait_s=0.05,
        notifier_group=f"fuzz-notifier-{tag}",
        # The demo's worker may be serving 8003 on this host.
        worker_metrics_port=0,
    )


async def _admin_key(settings: Settings) -> str:
    conn = await asyncpg.connect(
        settings.database_url, server_settings={"search_path": settings.pg_schema}
    )
    try:
        return await create_key(conn, "fuzzer", ["admin"])
    finally:
        await conn.close()


async def _drop(settings: Settings) -> None:
    conn = await asyncpg.connect(settings.database_url)
    try:
        await conn.execute(f'drop schema if exists "{settings.pg_schema}" cascade')
        await conn.execute(f'drop schema if exists "{settings.key_store_schema}" cascade')
    finally:
        await conn.close()


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/readyz", timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """Ingest and query started as `threadlog ingest` / `threadlog query` processes."""
    settings = fuzz_settings()
    env = dict(os.environ) | {var: str(getattr(settings, n)) for n, var in ENVIRONMENT.items()}
    env["THREADLOG_LOG_FORMAT"] = "json"
    # What an operator runs: every topic and table the services expect, whoever added them.
    init = subprocess.run(
        [sys.executable, "-m", "threadlog", "init"], env=env, capture_output=True, timeout=120
    )
    if init.returncode != 0:
        pytest.exit(f"`threadlog init` failed; is `make up` running? {init.stderr[-2000:]!r}", 2)
    key = asyncio.run(_admin_key(settings))
    logs: dict[str, Path] = {}
    processes: list[subprocess.Popen[bytes]] = []
    for service in ("ingest", "query", "worker", "notifier"):
        logs[service] = tmp_path_factory.mktemp("fuzz") / f"{service}.log"
        with logs[service].open("ab") as log:
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "threadlog", service], env=env, stdout=log, stderr=log
                )
            )
    try:
        deadline = time.monotonic() + 30
        for url in (settings.ingest_url, settings.query_url):
            while not _ready(url):
                if time.monotonic() > deadline:
                    tails = {name: path.read_text()[-2000:] for name, path in logs.items()}
                    pytest.fail(f"{url} did not become ready in 30 s; logs: {tails}")
                time.sleep(0.1)
        _seed(settings, key)
        yield Running(settings.ingest_url, settings.query_url, key)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
        asyncio.run(_drop(settings))
