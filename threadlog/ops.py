"""`threadlog status|rebuild|replay|verify`: the operator's commands for the projections.

Each opens its own connections, does one thing and exits non-zero, with the reason, on failure.
"""

import argparse
import asyncio
import sys
import time
from datetime import datetime
from typing import Any

import asyncpg

from projections.rebuild import Progress, RebuildRefused, rebuild
from projections.registry import VERSIONS
from projections.replay import replay
from projections.verify import verify
from threadlog import dlq
from threadlog.settings import Settings
from threadlog.status import run_status

COMMANDS = ("status", "rebuild", "replay", "verify", "dlq")


def add_parser(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add the operator commands to the `threadlog` parser."""
    status = commands.add_parser("status", help="each projection's lag, rate, dead letters")
    status.add_argument("--json", action="store_true", help="one JSON object per sample")
    status.add_argument(
        "--watch", nargs="?", type=float, const=2.0, metavar="SECONDS", help="repeat (default 2 s)"
    )
    names = sorted(VERSIONS)
    build = commands.add_parser(
        "rebuild", help="build a fresh copy from the log beside the live one, then switch to it"
    )
    build.add_argument("projection", choices=names)
    again = commands.add_parser(
        "replay", help="re-apply the log from a time or offset; what is applied stays once"
    )
    again.add_argument("projection", choices=names)
    again.add_argument(
        "--from",
        dest="start",
        required=True,
        help="an offset (every partition) or an ISO 8601 time with a zone, e.g. 2026-11-25T10:00Z",
    )
    check = commands.add_parser(
        "verify", help="digest the tables (last line) and compare them with a pure fold"
    )
    check.add_argument("projection", choices=names)
    dlq.add_parser(commands)


def _start(text: str) -> int | datetime:
    if text.isdigit():
        return int(text)
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        sys.exit(f"threadlog replay: --from {text!r} is neither an offset nor an ISO 8601 time")
    if when.tzinfo is None:
        sys.exit(f"threadlog replay: --from {text!r} needs a zone, e.g. {text}Z")
    return when


def _bar(progress: Progress, started: float, last: list[float]) -> None:
    now = time.monotonic()
    if now - last[0] < 0.5:
        return
    last[0] = now
    share = progress.done / progress.total if progress.total else 1.0
    filled = int(share * 30)
    eta = "?" if progress.eta_s is None else f"{progress.eta_s:,.0f} s"
    line = (
        f"[{'#' * filled}{'.' * (30 - filled)}] {progress.done:,}/{progress.total:,}"
        f"  {progress.per_second:,.0f} events/s  left {eta}  ({now - started:,.0f} s)"
    )
    end = "\r" if sys.stderr.isatty() else "\n"
    print(line, end=end, file=sys.stderr, flush=True)


async def _connect(settings: Settings) -> "asyncpg.Connection[Any]":
    conn: asyncpg.Connection[Any] = await asyncpg.connect(
        settings.database_url,
        timeout=settings.db_timeout_s,
        server_settings={"search_path": settings.pg_schema},
    )
    return conn


async def _rebuild(settings: Settings, name: str) -> None:
    conn = await _connect(settings)
    started, last = time.monotonic(), [0.0]
    try:
        report = await rebuild(
            settings.worker(), conn, name, on_progress=lambda p: _bar(p, started, last)
        )
    except RebuildRefused as error:
        sys.exit(f"threadlog rebuild: {error}")
    finally:
        await conn.close()
    print(file=sys.stderr)
    print(
        f"rebuilt {name} v{VERSIONS[name]} from {report.offsets:,} log offsets in"
        f" {report.build_s:,.1f} s ({report.offsets / max(report.build_s, 1e-9):,.0f} offsets/s);"
        f" switched in one transaction: readers waited {report.readers_locked_ms:.1f} ms,"
        f" the worker {report.worker_paused_ms:.1f} ms; old copy dropped"
    )


async def _verify(settings: Settings, name: str) -> None:
    conn = await _connect(settings)
    try:
        verdict = await verify(settings.worker(), conn, name)
    finally:
        await conn.close()
    print(f"folded {verdict.events:,} events from the log up to the tables' offsets")
    for line in verdict.differences:
        print(f"DIFFERS {line}")
    print(f"fold   {verdict.fold_digest}")
    if verdict.differences:
        print(f"tables {verdict.tables_digest}")
        sys.exit(1)
    print(verdict.tables_digest)


async def _replay(settings: Settings, name: str, start: int | datetime) -> None:
    read, applied = await replay(settings.worker(), name, start)
    print(f"replayed {read:,} records; {applied:,} events were missing and are now applied")


def run(settings: Settings, args: argparse.Namespace) -> None:
    """Run the operator command `args.command`."""
    match args.command:
        case "status":
            asyncio.run(run_status(settings, as_json=args.json, watch=args.watch))
        case "rebuild":
            asyncio.run(_rebuild(settings, args.projection))
        case "replay":
            asyncio.run(_replay(settings, args.projection, _start(args.start)))
        case "verify":
            asyncio.run(_verify(settings, args.projection))
        case "dlq":
            dlq.run(settings, args)
