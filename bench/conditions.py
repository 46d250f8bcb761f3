"""What a figure was measured under (the machine, its load, the versions), and what keeps a
benchmark from leaving or meeting stray processes: its ports checked free before it starts,
SIGTERM cancelling it as Ctrl-C does."""

import asyncio
import os
import platform
import signal
import socket
from collections.abc import Coroutine, Iterable
from importlib.metadata import version
from typing import Any, TypeVar

import asyncpg

from threadlog.settings import Settings

T = TypeVar("T")
OWN_PORTS: dict[str, object] = {
    "ingest_port": 49001,
    "query_port": 49002,
    "worker_metrics_port": 49003,
}
"""The ports of the limits, scale-out and soak benchmarks: apart from the suite's (48001-48003),
so that one of them can run beside `make bench`."""
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


async def cancelled_on_sigterm(work: Coroutine[Any, Any, T]) -> T:
    """Run `work`, cancelled by SIGTERM as Ctrl-C cancels it, so that its `finally` stops the
    processes it started (`timeout`, a CI job's end and `kill` send SIGTERM)."""
    task = asyncio.ensure_future(work)
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, task.cancel)
    try:
        return await task
    finally:
        loop.remove_signal_handler(signal.SIGTERM)
