"""A benchmark refuses to start when a port it binds is taken, and names the process holding it
(#15): seen, a stale ingest on a bench port answered the next run's readiness check, and that
run failed with 401s against a key its stale peer had never seen."""

import contextlib
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest

from bench import children
from bench.ports import PortTaken, refuse_taken
from bench.stack import Stack, bench_settings

# The holder names itself in its command line, so that the message can be checked for it.
_HOLDER = """
import socket, sys, time
server = socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET)
server.bind((sys.argv[1], 0))
server.listen()
print(server.getsockname()[1], flush=True)
time.sleep(600)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def _held(address: str) -> Iterator[tuple[int, subprocess.Popen[str]]]:
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, address, "bench-port-holder"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        line = holder.stdout.readline()
        if not line:
            pytest.skip(f"cannot listen on {address}: {holder.communicate()[1][-300:]}")
        yield int(line), holder
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.parametrize("address", ["127.0.0.1", "0.0.0.0", "::1"])
def test_a_taken_port_is_refused_naming_the_pid_and_command_line_holding_it(
    address: str,
) -> None:
    """The refusal names the port, the holder's pid and its command line, IPv4 or IPv6, and
    says how to stop it."""
    with _held(address) as (port, holder), pytest.raises(PortTaken) as refused:
        refuse_taken([_free_port(), port])
    message = str(refused.value)
    assert f"port {port} is held by pid {holder.pid} (" in message
    assert "bench-port-holder" in message
    assert message.count("is held by") == 1
    assert f"(kill {holder.pid})" in message


def test_free_ports_are_not_refused() -> None:
    """Ports nobody listens on pass."""
    refuse_taken([_free_port(), _free_port()])


def test_a_stack_starts_nothing_when_any_of_its_ports_is_taken() -> None:
    """The check covers every port the stack binds, the worker's metrics port included, and
    comes before any process is started."""
    with _held("127.0.0.1") as (port, holder):
        settings = bench_settings(
            "ports", ingest_port=_free_port(), query_port=_free_port(), worker_metrics_port=port
        )
        stack = Stack(settings)
        with pytest.raises(PortTaken, match=f"port {port} is held by pid {holder.pid}"):
            stack.start("worker", "ingest", "query")
    assert stack.processes == {}
    assert children.running() == []
