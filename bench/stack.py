"""The threadlog processes a benchmark runs against: its own topic, schema, ports and key."""

import asyncio
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self

import asyncpg
import msgspec

from bench import children
from bench.ports import refuse_taken
from projections.store import migrate
from services.auth import create_key
from services.auth import migrate as migrate_keys
from threadlog.log_end import caught_up_total
from threadlog.settings import ENVIRONMENT, Settings, from_env
from threadlog.topics import ensure_topics


def bench_settings(name: str, **overrides: object) -> Settings:
    """Settings with a fresh topic, group and schema named after the benchmark, bench ports and
    no rate limit; `overrides` replace any of them."""
    tag = f"{name}_{uuid.uuid4().hex[:6]}"
    fields: dict[str, object] = {
        "topic": f"bench.{tag}",
        "dlq_topic": f"bench.{tag}.dlq",
        "consumer_group": f"bench-{tag}",
        "pg_schema": f"bench_{tag}",
        "key_store_schema": f"bench_{tag}_keys",
        "ingest_port": 48001,
        "query_port": 48002,
        "worker_metrics_port": 48003,
        # Two query processes, one per core: reads are CPU-bound in Python. One ingest process:
        # with Kafka, the worker and the load on the same two cores, a second one measured slower
        # (single posts 1,868/s p99 134 ms against 2,909/s p99 40 ms with one).
        "query_workers": 2,
        "rate_limit_per_s": 1e9,
        "rate_limit_burst": 1e9,
        "flag_limit_per_min": 0.0,
    }
    return msgspec.structs.replace(from_env(), **(fields | overrides))


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (uvicorn's workers), in MiB."""
    total = 0.0
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) / 1024
    with open(f"/proc/{pid}/task/{pid}/children") as children:
        total += sum(rss_mb(int(child)) for child in children.read().split())
    return total


def cpu_seconds(pid: int) -> float:
    """CPU time (user and system) a process and its children (granian's workers) have used so
    far, in seconds; 0 for a process already gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            # The command name may hold spaces: the fields after it start past the last ')'.
            fields = stat.read().rsplit(")", 1)[1].split()
        with open(f"/proc/{pid}/task/{pid}/children") as children:
            kids = [int(child) for child in children.read().split()]
    except FileNotFoundError:
        return 0.0
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + sum(cpu_seconds(kid) for kid in kids)


def ports_of(settings: Settings, roles: Iterable[str]) -> list[int]:
    """The ports `threadlog ROLE` binds for each of `roles`."""
    port = {
        "worker": settings.worker_metrics_port,
        "ingest": settings.ingest_port,
        "query": settings.query_port,
    }
    return [port[role] for role in roles if port.get(role)]


def threadlog_env(settings: Settings) -> dict[str, str]:
    """The environment that makes `threadlog ROLE` run with `settings`."""
    env = dict(os.environ, THREADLOG_LOG_FORMAT="json", THREADLOG_LOG_LEVEL="warning")
    return env | {var: str(getattr(settings, name)) for name, var in ENVIRONMENT.items()}


@dataclass
class Stack:
    """Worker, ingest and query processes on a bench schema; `key` may post anything.

    `async with Stack(settings) as stack` prepares it and, however the block ends, stops the
    processes and drops the schema."""

    settings: Settings
    key: str = ""
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    async def __aenter__(self) -> Self:
        await self.prepare()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
        await self.drop()

    async def prepare(self) -> None:
        """Create the topics, tables and an admin key."""
        await ensure_topics(self.settings)
        conn = await asyncpg.connect(self.settings.database_url)
        try:
            await migrate(conn, self.settings.pg_schema)
            await migrate_keys(conn, self.settings.pg_schema)
            await conn.execute(f'set search_path to "{self.settings.pg_schema}"')
            self.key = await create_key(conn, "bench", ["admin"])
        finally:
            await conn.close()

    def start(self, *roles: str) -> None:
        """Start `threadlog ROLE` for each role and wait until the services answer /readyz
        (and the worker listens); refuse, starting nothing, when one of their ports is taken."""
        refuse_taken(ports_of(self.settings, roles))
        env = threadlog_env(self.settings)
        for role in roles:
            self.processes[role] = children.spawn(
                [sys.executable, "-m", "threadlog", role], env=env, stderr=subprocess.DEVNULL
            )
        for role, url in (("ingest", self.settings.ingest_url), ("query", self.settings.query_url)):
            if role in roles:
                wait_ready(f"{url}/readyz", self.processes[role])
        if "worker" in roles and self.settings.worker_metrics_port:
            wait_until_listening(self.settings.worker_metrics_port, self.processes["worker"])

    def rss(self) -> dict[str, float]:
        """Each process's resident memory now, in MiB."""
        return {role: round(rss_mb(p.pid), 1) for role, p in self.processes.items()}

    def stop(self) -> None:
        """Stop every process (SIGTERM to its group, SIGKILL after the grace period)."""
        children.stop(*self.processes.values())
        self.processes.clear()

    async def drop(self) -> None:
        """Drop the bench schema and its key store."""
        await drop_schemas(self.settings)


async def drop_schemas(settings: Settings) -> None:
    """Drop a bench's read-model schema and its key store's schema."""
    conn = await asyncpg.connect(settings.database_url)
    try:
        await conn.execute(f'drop schema if exists "{settings.pg_schema}" cascade')
        await conn.execute(f'drop schema if exists "{settings.key_store_schema}" cascade')
    finally:
        await conn.close()


async def analyze(settings: Settings) -> None:
    """Statistics for the bench schema's tables, so reads are planned as on a settled database."""
    conn = await asyncpg.connect(settings.database_url)
    try:
        tables = await conn.fetch(
            "select tablename from pg_tables where schemaname = $1", settings.pg_schema
        )
        for row in tables:
            await conn.execute(f'analyze "{settings.pg_schema}"."{row["tablename"]}"')
    finally:
        await conn.close()


def _exited(process: "subprocess.Popen[bytes]", waiting_for: str) -> SystemExit:
    return SystemExit(
        f"pid {process.pid} exited with {process.returncode} before {waiting_for}"
        " (its stderr is not kept: run the same command by hand to see why)"
    )


def wait_ready(url: str, process: "subprocess.Popen[bytes]", timeout_s: float = 60) -> None:
    """Wait until `url` answers 200; fail as soon as `process`, which is to serve it, exits."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise _exited(process, f"{url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"{url} did not answer 200 within {timeout_s:g} s")


def wait_until_listening(
    port: int, process: "subprocess.Popen[bytes]", timeout_s: float = 60
) -> None:
    """Wait until 127.0.0.1:`port` accepts connections; fail as soon as `process` exits."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise _exited(process, f"it listened on port {port}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"nothing listened on port {port} within {timeout_s:g} s")


async def wait_caught_up(settings: Settings) -> float:
    """Wait until the worker applied every record the topic holds now; return seconds waited."""
    # Ingest's transactions leave markers past the last record: the worker never gets there.
    total = await caught_up_total(
        settings.kafka_bootstrap_servers, settings.topic, settings.topic_partitions
    )
    return await wait_applied(settings, total)


async def wait_applied(settings: Settings, count: int, timeout_s: float = 900) -> float:
    """Wait until the worker applied `count` records of the topic; return the seconds waited."""
    conn = await asyncpg.connect(settings.database_url)
    started = time.perf_counter()
    try:
        while time.perf_counter() - started < timeout_s:
            done = await conn.fetchval(
                "select coalesce(sum(next_offset), 0)"
                f' from "{settings.pg_schema}".projection_offsets where topic = $1',
                settings.topic,
            )
            if int(done) >= count:
                return time.perf_counter() - started
            await asyncio.sleep(0.1)
    finally:
        await conn.close()
    raise SystemExit(f"the worker did not apply {count} records within {timeout_s:g} s")
