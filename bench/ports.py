"""Which process holds a port: a benchmark refuses to start on a taken port and names its holder.

Seen (#15): a failed run left its ingest on a bench port, the next run's readiness check found
that stale process answering, and the run failed with 401s against a key it had never seen.
Checking every port before starting anything turns that into one clear message.
"""

import errno
import socket
from collections.abc import Iterable
from pathlib import Path

PROC = Path("/proc")
_LISTEN = "0A"  # the TCP state code in /proc/net/tcp


class PortTaken(SystemExit):
    """A port the benchmark binds is held by another process; nothing was started."""


def _listening_inodes(port: int, proc: Path) -> set[str] | None:
    """Inodes of the sockets listening on `port` (any address, IPv4 or IPv6); None when the
    kernel's tables cannot be read."""
    inodes: set[str] = set()
    readable = False
    for table in ("tcp", "tcp6"):
        try:
            lines = (proc / "net" / table).read_text().splitlines()[1:]
        except OSError:
            continue
        readable = True
        for line in lines:
            fields = line.split()
            if fields[3] == _LISTEN and int(fields[1].rpartition(":")[2], 16) == port:
                inodes.add(fields[9])
    return inodes if readable else None


def _owner(inodes: set[str], proc: Path) -> tuple[int, str] | None:
    """The pid and command line of a process with one of `inodes` among its open files."""
    links = {f"socket:[{inode}]" for inode in inodes}
    for process in proc.iterdir():
        if not process.name.isdigit():
            continue
        try:
            # Another user's processes cannot be read: their fds stay unknown.
            if any(str(fd.readlink()) in links for fd in (process / "fd").iterdir()):
                argv = (process / "cmdline").read_bytes().rstrip(b"\0").split(b"\0")
                return int(process.name), b" ".join(argv).decode(errors="replace")
        except OSError:
            continue
    return None


def _bind_refused(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as error:
            return error.errno == errno.EADDRINUSE
    return False


def _holder(port: int, proc: Path) -> tuple[str, int | None] | None:
    inodes = _listening_inodes(port, proc)
    if inodes is None:  # no /proc to read: binding is the only test left
        return ("an unknown process", None) if _bind_refused(port) else None
    if not inodes:
        return None
    owner = _owner(inodes, proc)
    if owner is None:
        return "an unknown process", None
    return f"pid {owner[0]} ({owner[1]})", owner[0]


def holder(port: int, proc: Path = PROC) -> str | None:
    """Who listens on `port`: 'pid N (command line)', 'an unknown process' when the socket is
    there but its process cannot be seen, or None when the port is free."""
    found = _holder(port, proc)
    return None if found is None else found[0]


def refuse_taken(ports: Iterable[int]) -> None:
    """Raise PortTaken naming each taken port's holder; port 0 (any free port) is never taken."""
    taken = {port: found for port in ports if port and (found := _holder(port, PROC))}
    if taken:
        pids = sorted({pid for _, pid in taken.values() if pid is not None})
        stop = f"kill {' '.join(map(str, pids))}" if pids else "ss -ltnp shows it to root"
        raise PortTaken(
            "the benchmark needs ports that are taken, so it started nothing: "
            + "; ".join(f"port {port} is held by {who}" for port, (who, _) in taken.items())
            + f". A stale benchmark process? Stop it ({stop}), or give the benchmark other ports."
        )
