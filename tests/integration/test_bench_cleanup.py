"""A benchmark stops every process it started on any exit (#15): seen, a failed `make
bench-quick` left its ingest and worker on the bench ports, and the next run measured those.

Each test runs a bench entry point in miniature (tests/integration/bench_runner.py) as its own
process, ends it the way a run ends badly (SIGTERM, Ctrl-C's SIGINT, an exception) and looks in
/proc for anything left of the process groups it started, and at the ports they held.
"""

import contextlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from threadlog.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def _free_ports(count: int) -> list[int]:
    with contextlib.ExitStack() as sockets:
        held = [sockets.enter_context(socket.socket()) for _ in range(count)]
        for s in held:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in held]


def _group(pgid: int) -> list[int]:
    """The live (not zombie) processes of process group `pgid`."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rpartition(")")[2].split()
            if fields[0] != "Z" and int(fields[2]) == pgid:
                members.append(int(stat.parent.name))
    return members


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@contextlib.contextmanager
def _runner(*args: str, timeout_s: float) -> Iterator[tuple[subprocess.Popen[str], dict[str, Any]]]:
    """The runner, once it has said which children it started; whatever it leaves is killed
    afterwards so that a failing test leaves nothing either."""
    runner = subprocess.Popen(
        [sys.executable, "-m", "tests.integration.bench_runner", *args],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    announced: dict[str, Any] = {"pids": []}
    try:
        assert runner.stdout is not None
        ready, _, _ = select.select([runner.stdout], [], [], timeout_s)
        line = runner.stdout.readline() if ready else ""
        if not line:
            runner.kill()
            pytest.fail(f"the runner started nothing: {runner.communicate()[1][-2000:]}")
        announced = json.loads(line)
        yield runner, announced
    finally:
        runner.kill()
        runner.wait()
        for pid in announced["pids"]:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)


def _end(runner: subprocess.Popen[str], ending: str) -> int:
    if ending == "raise":
        assert runner.stdin is not None
        runner.stdin.write("raise now\n")  # the runner raises once told to
        runner.stdin.flush()
    else:
        runner.send_signal(getattr(signal, ending))
    return runner.wait(60)


@pytest.mark.parametrize(
    ("kind", "ending"),
    [("child", "SIGTERM"), ("child", "SIGINT"), ("child", "raise"), ("stubborn", "SIGTERM")],
)
def test_a_child_and_its_own_children_are_stopped_on_any_exit(kind: str, ending: str) -> None:
    """Whatever ends the run, the child it started is gone, with the processes that child
    started itself, and its port is free; one that ignores SIGTERM gets SIGKILL after the
    grace period."""
    (port,) = _free_ports(1)
    with _runner(kind, "wait" if ending != "raise" else "raise", str(port), timeout_s=30) as (
        runner,
        announced,
    ):
        (pid,) = announced["pids"]
        assert len(_group(pid)) == 2  # the child and its grandchild
        assert _end(runner, ending) != 0
        assert _group(pid) == []
        assert not _listening(port)


@pytest.mark.parametrize("ending", ["SIGTERM", "SIGINT", "raise"])
async def test_a_stack_stops_every_process_frees_its_ports_and_drops_its_schema(
    base_settings: Settings, ending: str
) -> None:
    """A bench run with a worker, ingest and query up, ended by SIGTERM, Ctrl-C or an
    exception: every process (uvicorn's workers too) is gone, the three ports are free, and
    the bench schema is dropped."""
    ports = _free_ports(3)
    wait = "wait" if ending != "raise" else "raise"
    schema = ""
    conn = await asyncpg.connect(base_settings.database_url)
    try:
        with _runner("stack", wait, *map(str, ports), timeout_s=180) as (runner, announced):
            schema = announced["schema"]
            assert len(announced["pids"]) == 3
            assert all(_listening(port) for port in ports)
            assert _end(runner, ending) != 0
            assert [_group(pid) for pid in announced["pids"]] == [[], [], []]
            assert [_listening(port) for port in ports] == [False, False, False]
        assert not await conn.fetchval(
            "select exists (select 1 from pg_namespace where nspname = $1)", schema
        )
    finally:
        if schema:  # a failing run leaves nothing behind either
            await conn.execute(f'drop schema if exists "{schema}" cascade')
        await conn.close()
