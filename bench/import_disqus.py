"""Import benchmark through the whole command: `threadlog import disqus FILE` on a generated
Disqus export (bench/disqus_export.py), then the worker applying what it appended.

    python -m bench.import_disqus [--megabytes 400] [--seed 16] [--repeat N]

The export is written once per seed and size under .state/ (400 MB takes a minute to write)
and reused by later runs. Each run gets a fresh topic and schema; the command runs as a child
process, timed from its start to its exit (the file read, spilled, planned, validated and
appended: comments/s file to log); its CPU time is the kernel's account of it (wait4), its peak
RSS the kernel's high-water mark (VmHWM, sampled). Then one `threadlog worker` starts on the
imported log and is timed, as bench/catchup.py times it, until the threads projection has applied every event. Prints the
figures with their conditions; asserts nothing. Drops its topic and schema at the end.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import children
from bench.conditions import conditions
from bench.disqus_export import write_export
from bench.import_pipeline import _drop, _prepare
from bench.spread import quoted
from bench.stack import bench_settings, cpu_seconds, threadlog_env, wait_applied
from threadlog.log_end import caught_up_total
from threadlog.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
_APPENDED = re.compile(rb"^appended: (\d+) events$", re.MULTILINE)
_READ = re.compile(rb"\(of (\d+) comments read\)")


def export_file(megabytes: float, seed: int, folder: Path = ROOT / ".state") -> Path:
    """The generated export of this seed and size, written on first use and kept."""
    path = folder / f"bench-disqus-seed{seed}-{megabytes:g}mb.xml"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        print(f"== writing a {megabytes:g} MB Disqus export (seed {seed}) to {path}")
        partial = path.with_suffix(".partial")
        write_export(partial, int(megabytes * 1024 * 1024), seed)
        partial.rename(path)  # a run stopped halfway leaves no file that looks whole
    return path


def _peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory so far (VmHWM), in MiB; 0 once it has exited."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except FileNotFoundError:
        pass
    return 0.0


def _import(settings: Settings, path: Path) -> dict[str, Any]:
    """Run the command as a child; its wall clock, CPU and peak RSS, and what it appended."""
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        process = children.spawn(
            [sys.executable, "-m", "threadlog", "import", "disqus", str(path)],
            env=threadlog_env(settings),
            stdout=out,
            stderr=subprocess.DEVNULL,
        )
        # The peak from /proc, sampled: wait4's ru_maxrss survives exec, so a child of a big
        # process (the suite's) reports its parent's peak. The CPU is wait4's: this child's own.
        peak = 0.0
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            peak = max(peak, _peak_rss_mb(process.pid))
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        children.stop(process)
        out.seek(0)
        output = out.read()
    appended, read = _APPENDED.search(output), _READ.search(output)
    if process.returncode != 0 or appended is None or read is None:
        sys.exit(f"threadlog import exited with {process.returncode}:\n{output.decode()}")
    comments = int(read.group(1))
    cpu = usage.ru_utime + usage.ru_stime
    return {
        "comments": comments,
        "events_appended": int(appended.group(1)),
        "seconds": round(elapsed, 2),
        "comments_per_s": round(comments / elapsed),
        "importer_cpu_s": round(cpu, 2),
        "comments_per_importer_cpu_s": round(comments / cpu),
        "importer_peak_rss_mb": round(peak, 1),
    }


async def _apply(settings: Settings, events: int) -> dict[str, Any]:
    """One worker on the imported log from its start, timed until it applied every record."""
    # The import's transactions leave markers past the last record: wait for the records.
    records = await caught_up_total(
        settings.kafka_bootstrap_servers, settings.topic, settings.topic_partitions
    )
    started = time.perf_counter()
    worker = children.spawn(
        [sys.executable, "-m", "threadlog", "worker"],
        env=threadlog_env(settings),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        await wait_applied(settings, records)
        elapsed = time.perf_counter() - started
        cpu = cpu_seconds(worker.pid)
    finally:
        children.stop(worker)
    return {
        "worker_seconds": round(elapsed, 2),
        "worker_events_per_s": round(events / elapsed),
        "worker_cpu_us_per_event": round(cpu * 1e6 / events, 1),
    }


async def run(megabytes: float, seed: int = 16) -> dict[str, Any]:
    """One run on a fresh topic and schema: import the export, then apply it."""
    path = export_file(megabytes, seed)
    settings = bench_settings("import")
    await _prepare(settings)
    try:
        load = [round(x, 2) for x in os.getloadavg()]
        figures = _import(settings, path)
        print(
            f"imported {figures['comments']:,} comments ({figures['events_appended']:,} events)"
            f" from {megabytes:g} MB in {figures['seconds']} s: {figures['comments_per_s']:,}"
            f" comments/s; {figures['importer_cpu_s']} CPU s,"
            f" peak RSS {figures['importer_peak_rss_mb']} MiB"
        )
        figures |= await _apply(settings, figures["events_appended"])
        print(
            f"the worker applied them in {figures['worker_seconds']} s:"
            f" {figures['worker_events_per_s']:,} events/s"
        )
        figures["load_average_at_start"] = load
    finally:
        await _drop(settings)
    return figures


async def scenario(megabytes: float, repeat: int, seed: int = 16) -> dict[str, Any]:
    """`repeat` runs, quoted by comments/s, for the suite's results."""
    runs = []
    for n in range(repeat):
        print(f"== import: {megabytes:g} MB Disqus export (run {n + 1} of {repeat})")
        runs.append(await run(megabytes, seed))
    setup = (
        f"`threadlog import disqus` on a generated {megabytes:g} MB Disqus export"
        f" (bench/disqus_export.py, seed {seed}) as a child process, from its start to its exit,"
        " into a fresh topic (12 partitions) and schema; its CPU from wait4, its peak RSS"
        " from /proc (VmHWM); then one worker applying the imported log from its start"
    )
    spread = ["comments_per_s", "comments_per_importer_cpu_s", "importer_peak_rss_mb"]
    return {"setup": setup} | quoted(runs, "comments_per_s", [*spread, "worker_events_per_s"])


def main() -> None:
    """Entry point: `python -m bench.import_disqus`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=400)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()

    async def every_run() -> None:
        found = await scenario(args.megabytes, args.repeat, args.seed)
        found["conditions"] = await conditions(bench_settings("import"))
        print(json.dumps(found, indent=2))

    children.run(every_run())


if __name__ == "__main__":
    main()
