"""A throwaway PostgreSQL primary and its streaming hot standby, for reads from a replica.

Made from the machine's own server binaries (found as deploy/bin/pg-up finds them), in a
temporary folder, on ports of their own: the shared server's configuration is never touched.
Both run with fsync off; they live for one test module or one bench run and are then deleted.
"""

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

_REPO = Path(__file__).resolve().parent.parent
# Root may not run initdb or postgres: as root, run them as the `postgres` OS user.
_AS = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


@dataclass(frozen=True)
class ReplicaPair:
    """Where the primary and the standby answer, as `threadlog` (rows) and as `postgres`."""

    primary_url: str
    standby_url: str
    standby_admin_url: str
    """The standby as superuser: pausing and resuming replay needs it."""


def _bindir() -> Path:
    found = subprocess.run(
        ["bash", "-c", f"source {_REPO}/deploy/lib/common.sh && find_pg_bindir"],
        capture_output=True,
        text=True,
        check=False,
    )
    if found.returncode != 0 or not found.stdout:
        raise RuntimeError("no PostgreSQL server binaries found: run deploy/bin/ensure-system")
    return Path(found.stdout.strip())


def free_port() -> int:
    """A TCP port free on the loopback now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _run(*argv: str | Path) -> None:
    done = subprocess.run([*_AS, *map(str, argv)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{argv[0]} failed ({done.returncode}): {done.stderr or done.stdout}")


def _conf(data: Path, lines: list[str]) -> None:
    with (data / "postgresql.conf").open("a") as conf:
        conf.write("\n" + "\n".join(lines) + "\n")


@contextmanager
def replica_pair(primary_conf: Sequence[str] = ()) -> Iterator[ReplicaPair]:
    """Start a primary (wal_level=replica, and `primary_conf` lines) and a standby streaming
    from it (pg_basebackup -R, hot_standby=on); stop both and delete their folders on exit."""
    bindir = _bindir()
    root = Path(tempfile.mkdtemp(prefix="threadlog-replica-"))
    if _AS:
        shutil.chown(root, "postgres", "postgres")
    primary, standby = root / "primary", root / "standby"
    ports = free_port(), free_port()
    started: list[Path] = []
    try:
        _run(
            bindir / "initdb",
            "-D",
            primary,
            "--username=postgres",
            "--auth-local=trust",
            "--auth-host=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
            "--no-instructions",
        )
        _conf(
            primary,
            [
                f"port = {ports[0]}",
                "listen_addresses = '127.0.0.1'",
                f"unix_socket_directories = '{root}'",
                "wal_level = replica",
                "max_wal_senders = 4",
                "hot_standby = on",
                "fsync = off",
                "full_page_writes = off",
                *primary_conf,
            ],
        )
        _run(bindir / "pg_ctl", "start", "-D", primary, "-l", root / "primary.log", "-w", "-s")
        started.append(primary)
        psql: list[str | Path] = [
            bindir / "psql",
            "-X",
            "-q",
            "-h",
            "127.0.0.1",
            "-p",
            str(ports[0]),
        ]
        _run(*psql, "-U", "postgres", "-c", "create role threadlog login")
        _run(*psql, "-U", "postgres", "-c", "create database threadlog owner threadlog")
        _run(
            bindir / "pg_basebackup",
            "-h",
            "127.0.0.1",
            "-p",
            str(ports[0]),
            "-U",
            "postgres",
            "-D",
            standby,
            "-R",
            "-X",
            "stream",
            # A spread checkpoint would hold the copy back for minutes on an idle primary.
            "--checkpoint=fast",
            "--no-sync",
        )
        _conf(standby, [f"port = {ports[1]}"])
        _run(bindir / "pg_ctl", "start", "-D", standby, "-l", root / "standby.log", "-w", "-s")
        started.append(standby)
        yield ReplicaPair(
            primary_url=f"postgresql://threadlog@127.0.0.1:{ports[0]}/threadlog",
            standby_url=f"postgresql://threadlog@127.0.0.1:{ports[1]}/threadlog",
            standby_admin_url=f"postgresql://postgres@127.0.0.1:{ports[1]}/threadlog",
        )
    finally:
        for data in reversed(started):
            _run(bindir / "pg_ctl", "stop", "-D", data, "-m", "immediate", "-w", "-s")
        shutil.rmtree(root, ignore_errors=True)
