"""A benchmark refuses to start when one of its ports is taken, saying which and how to find
who holds it, rather than measuring a stale process that answers there."""

import asyncio
import os
import signal
import socket

import pytest

from bench.conditions import cancelled_on_sigterm, refuse_taken


def test_a_taken_port_stops_the_benchmark_naming_it() -> None:
    """A listener on a bench port: SystemExit naming the port and the command that shows the
    process holding it."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(SystemExit, match=f"127.0.0.1:{port} is taken.*ss -ltnp"):
            refuse_taken([port])


def test_free_ports_pass() -> None:
    """Nothing listens there: the benchmark may start."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    refuse_taken([port])


def test_sigterm_cancels_the_benchmark_so_its_cleanup_runs() -> None:
    """SIGTERM (a `timeout`, a `kill`) cancels the benchmark as Ctrl-C does: its `finally`,
    which stops the processes it started, runs before the program ends."""
    cleaned: list[bool] = []

    async def benchmark() -> None:
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            await asyncio.sleep(10)
        finally:
            cleaned.append(True)

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(cancelled_on_sigterm(benchmark()))
    assert cleaned == [True]
