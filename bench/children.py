"""The one owner of a benchmark's child processes: each in a process group of its own, every one
stopped however the run ends (an exception, Ctrl-C, SIGTERM, a timeout).

Seen (#15): a failed `make bench-quick` left its ingest and worker running on the bench ports,
and the next run measured them. A child gets its own session so that stopping it reaches what it
started itself (uvicorn's worker processes) and so that a Ctrl-C in the terminal reaches only
this process, which then stops them in order: SIGTERM to each group, SIGKILL after a grace
period. Every entry point runs under `owned()` (or `run()`), which turns SIGTERM and SIGHUP
into the same unwinding as an exception and stops whatever is left on the way out.
"""

import asyncio
import atexit
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Coroutine, Iterator, Sequence
from contextlib import contextmanager
from types import FrameType
from typing import IO, Any, TypeVar

T = TypeVar("T")
GRACE_S = 10.0

_running: dict[int, "subprocess.Popen[bytes]"] = {}
_grace_s = [GRACE_S]
# A child started through setpriv gets SIGTERM from the kernel should this process die
# without unwinding (SIGKILL, a crash): the last resort, not the way children are stopped.
_PDEATHSIG = ["setpriv", "--pdeathsig", "TERM", "--"] if shutil.which("setpriv") else []


def spawn(
    argv: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    stdout: int | IO[Any] | None = None,
    stderr: int | IO[Any] | None = None,
) -> "subprocess.Popen[bytes]":
    """Start `argv` in a new session (its own process group) and own it until it is stopped."""
    process = subprocess.Popen(
        [*_PDEATHSIG, *argv], env=env, stdout=stdout, stderr=stderr, start_new_session=True
    )
    _running[process.pid] = process
    return process


def running() -> list["subprocess.Popen[bytes]"]:
    """The children started and not yet stopped."""
    return list(_running.values())


def _signal_group(process: "subprocess.Popen[bytes]", sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is gone
        os.killpg(process.pid, sig)


def stop(*processes: "subprocess.Popen[bytes]", grace_s: float | None = None) -> None:
    """SIGTERM each process's group, wait up to `grace_s` for all of them together, then
    SIGKILL the groups of those still running; reap them all. Signals that arrive meanwhile
    are held back, so a second Ctrl-C cannot leave a stop half done."""
    grace = _grace_s[0] if grace_s is None else grace_s
    held = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        for process in processes:
            if process.poll() is None:
                _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for process in processes:
            try:
                process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                print(
                    f"pid {process.pid} ignored SIGTERM for {grace:g} s: SIGKILL",
                    file=sys.stderr,
                )
            # What the leader started may outlive it (a worker of uvicorn's, a grandchild).
            _signal_group(process, signal.SIGKILL)
            process.wait()
            _running.pop(process.pid, None)
    finally:
        for sig, handler in held.items():
            signal.signal(sig, handler)


def stop_all() -> None:
    """Stop every child still running."""
    stop(*_running.values())


# A run that ends without `owned()` (a script, a test) still stops its children on the way out.
atexit.register(stop_all)


def _stopped_by(signum: int, _frame: FrameType | None) -> None:
    print(f"{signal.Signals(signum).name}: stopping what the benchmark started", file=sys.stderr)
    # SystemExit unwinds like an exception: every `finally` and `async with` runs on the way
    # out (asyncio.run cancels the main task), then `owned` stops whatever is still running.
    raise SystemExit(128 + signum)


@contextmanager
def owned(grace_s: float = GRACE_S) -> Iterator[None]:
    """Run a benchmark: SIGTERM and SIGHUP unwind it as an exception would, and every child
    still running on the way out is stopped (SIGTERM, then SIGKILL after `grace_s`)."""
    _grace_s[0] = grace_s
    previous = {sig: signal.signal(sig, _stopped_by) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        stop_all()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(main)` under `owned()`: the entry point of every benchmark."""
    with owned():
        return asyncio.run(main)
