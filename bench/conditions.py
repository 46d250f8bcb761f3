"""What a figure was measured under (the machine, its load, the versions), and the ports of the
standalone benchmarks. Stray processes are bench/children.py's and bench/ports.py's concern."""

import os
import platform
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
