"""A bench entry point in miniature, run as its own process by test_bench_cleanup.py: it starts
children the way the benchmarks do (bench/children.py, bench/stack.py), prints their pids as one
JSON line, then waits to be stopped or fails, as told.

    python -m tests.integration.bench_runner stack|child|stubborn wait|raise PORT [PORT PORT]
"""

import asyncio
import json
import sys
import time

from bench import children
from bench.stack import Stack, bench_settings, wait_until_listening

# A server that holds PORT and a grandchild in its own process group, and (with "stubborn")
# ignores SIGTERM, so that only the SIGKILL after the grace period ends it.
_CHILD = """
import signal, socket, subprocess, sys, time
if sys.argv[2] == "stubborn":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
server = socket.socket()
server.bind(("127.0.0.1", int(sys.argv[1])))
server.listen()
time.sleep(600)
"""


def _announce(pids: list[int], schema: str = "") -> None:
    print(json.dumps({"pids": pids, "schema": schema}), flush=True)


async def _stack(ending: str, ingest: int, query: int, metrics: int) -> None:
    settings = bench_settings(
        "cleanup", ingest_port=ingest, query_port=query, worker_metrics_port=metrics
    )
    async with Stack(settings) as stack:
        stack.start("worker", "ingest", "query")
        _announce([p.pid for p in stack.processes.values()], settings.pg_schema)
        if ending == "raise":
            await asyncio.to_thread(sys.stdin.readline)
            raise RuntimeError("a scenario failed")
        await asyncio.sleep(600)


def _child(ending: str, port: int, manner: str) -> None:
    process = children.spawn([sys.executable, "-c", _CHILD, str(port), manner])
    wait_until_listening(port, process)
    _announce([process.pid])
    if ending == "raise":
        sys.stdin.readline()  # once the test has seen the children it is to see stopped
        raise RuntimeError("a scenario failed")
    time.sleep(600)


def main() -> None:
    """Run the scenario named on the command line under the benchmarks' owner of children."""
    kind, ending, *ports = sys.argv[1:]
    if kind == "stack":
        children.run(_stack(ending, *map(int, ports)))
    else:
        with children.owned(grace_s=1.0):
            _child(ending, int(ports[0]), kind)


if __name__ == "__main__":
    main()
