"""What a figure was measured under: the machine, its load, the versions; and whether the bench
ports are free before a benchmark starts its processes."""

import os
import platform
import socket
from collections.abc import Iterable
from importlib.metadata import version
from typing import Any

import asyncpg

from threadlog.settings import Settings

LIBRARIES = ("asyncpg", "msgspec", "aiokafka", "litestar", "uvicorn")


async def conditions(settings: Settings) -> dict[str, Any]:
    """Cores, load average now, Python, the libraries' and PostgreSQL's versions."""
    conn = await asyncpg.connect(settings.database_url)
    try:
        server = await conn.fetchval("show server_version")
    finally:
        await conn.close()
    return {
        "cores": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "postgresql": server,
        "libraries": {name: version(name) for name in LIBRARIES},
        "platform": platform.platform(),
        "note": "Kafka, PostgreSQL, the threadlog processes and the load share this machine",
    }


def bench_ports(settings: Settings) -> list[int]:
    """The ports a benchmark's processes listen on (ingest, query, worker metrics)."""
    return [settings.ingest_port, settings.query_port, settings.worker_metrics_port]


def refuse_taken(ports: Iterable[int], host: str = "127.0.0.1") -> None:
    """Stop the benchmark before it starts anything when one of `ports` is taken: a stale process
    there would answer in place of the ones the benchmark starts."""
    for port in ports:
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError:
                raise SystemExit(
                    f"bench port {host}:{port} is taken; `ss -ltnp 'sport = :{port}'` names the"
                    " process holding it: stop it and run again"
                ) from None
