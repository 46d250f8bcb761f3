"""Ingest alone under wrk, for comparing ways of serving it back to back: one event per POST at
c32 and batches of 100 at c8, on a fresh topic and schema, on ports of its own (47001-47003 by
default, apart from the suite's 48001-48003), with the load average beside each figure.

    python -m bench.ingest_stack [--seconds 5] [--rounds 2] [--server uvicorn|granian]
                                 [--no-worker] [--profile FILE]

`--profile FILE` (`--profile-batch FILE`) records the ingest process with py-spy during the
first c32 load (the first load of batches): a flame
graph in SVG; speedscope JSON when FILE ends in .json, collapsed stacks when in .txt). Everything started is stopped on
any exit.
"""

import argparse
import os
import shutil
import subprocess
import sys
from typing import Any

from bench import children, wrk
from bench.ports import refuse_taken
from bench.stack import Stack, bench_settings, cpu_seconds, threadlog_env, wait_ready
from threadlog.settings import Settings

_SERVERS = {
    "uvicorn": [sys.executable, "-m", "threadlog", "ingest"],
    "granian": [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "asgi",
        "--factory",
        "--loop",
        "uvloop",
        "--no-ws",
        "--log-level",
        "warning",
        "threadlog.cli:ingest_app",
    ],
}


def _start_ingest(settings: Settings, server: str) -> subprocess.Popen[bytes]:
    env = threadlog_env(settings)
    command = _SERVERS[server]
    if server == "granian":
        where = ["--host", settings.ingest_host, "--port", str(settings.ingest_port)]
        command = [*command[:-1], *where, command[-1]]
    process = children.spawn(command, env=env, stderr=subprocess.DEVNULL)
    wait_ready(f"{settings.ingest_url}/readyz", process)
    return process


def _loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


async def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Each round's figures."""
    settings = bench_settings(
        "ingest",
        ingest_port=args.port,
        query_port=args.port + 1,
        worker_metrics_port=args.port + 2,
    )
    refuse_taken([args.port, args.port + 2])  # no query process: its port stays free
    stack = Stack(settings)
    await stack.prepare()
    rows: list[dict[str, Any]] = []
    try:
        if args.worker:
            stack.start("worker")
        stack.processes["ingest"] = _start_ingest(settings, args.server)
        url, key = settings.ingest_url, stack.key
        wrk.post(url, "threadlog", 8, 1, 1, key)  # warm up: connections, the first batches
        for round_ in range(args.rounds):
            spy = None
            if args.profile and round_ == 0:
                spy = _profile(stack.processes["ingest"].pid, args.profile, args.seconds)
            pid = stack.processes["ingest"].pid
            cpu = cpu_seconds(pid)
            single = wrk.post(url, "threadlog", 32, args.seconds, 1, key).as_dict()
            single_cpu = cpu_seconds(pid) - cpu
            if spy is not None:
                spy.wait(args.seconds + 30)
            load_single = _loadavg()
            spy = None
            if args.profile_batch and round_ == 0:
                spy = _profile(pid, args.profile_batch, args.seconds)
            cpu = cpu_seconds(pid)
            batch = wrk.post(url, "threadlog", 8, args.seconds, 100, key).as_dict()
            batch_cpu = cpu_seconds(pid) - cpu
            if spy is not None:
                spy.wait(args.seconds + 30)
            rows.append(
                {
                    "round": round_,
                    "c32_req_s": single["rate_per_s"],
                    "c32_p50_ms": single["p50_ms"],
                    "c32_p99_ms": single["p99_ms"],
                    "c32_non2xx": single["non2xx"] + single["errors"],
                    "c32_cpu_us_per_req": round(single_cpu * 1e6 / max(1, single["requests"])),
                    "load_after_c32": load_single,
                    "batch100_c8_events_s": round(batch["rate_per_s"] * 100),
                    "batch100_p99_ms": batch["p99_ms"],
                    "batch100_cpu_us_per_event": round(
                        batch_cpu * 1e6 / max(1, batch["requests"] * 100), 1
                    ),
                    "batch_non2xx": batch["non2xx"] + batch["errors"],
                    "load_after_batch": _loadavg(),
                }
            )
            print(rows[-1], flush=True)
    finally:
        stack.stop()
        await stack.drop()
    return rows


def _profile(pid: int, out: str, seconds: float) -> subprocess.Popen[bytes]:
    spy = shutil.which("py-spy") or os.path.join(os.path.dirname(sys.executable), "py-spy")
    fmt = {".json": "speedscope", ".txt": "raw"}.get(os.path.splitext(out)[1], "flamegraph")
    return children.spawn(
        [
            spy,
            "record",
            "-p",
            str(pid),
            "-d",
            str(int(seconds)),
            "-r",
            "200",
            "-f",
            fmt,
            "-o",
            out,
            "--nonblocking",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def main() -> None:
    """Parse the arguments, run, print each round."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each load")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--server", choices=sorted(_SERVERS), default="uvicorn")
    parser.add_argument("--port", type=int, default=47001, help="ingest; +1 query, +2 worker")
    parser.add_argument("--no-worker", dest="worker", action="store_false")
    parser.add_argument("--profile", help="py-spy output file for the first c32 load")
    parser.add_argument("--profile-batch", help="py-spy output file for the first batch load")
    children.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
