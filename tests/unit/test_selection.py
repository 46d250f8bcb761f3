"""Markers select what they say: `-m integration` runs what needs the servers, `-m "not
integration"` runs what does not, whatever file the tests sit in."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NEEDS_SERVERS = ("integration", "browser")


def first_module(directory: str) -> str:
    """One test module of `directory`, as pytest names it."""
    found = (ROOT / "tests" / directory).glob("test_*.py")
    return min(path.relative_to(ROOT).as_posix() for path in found)


def test_the_integration_mark_follows_the_directory() -> None:
    """`-m "not integration"` collects a unit module and nothing of an integration or browser
    module; `-m integration` is its complement. (Before, `pytestmark` in their conftest files
    marked nothing, and `-m "not integration"` ran every test that needs the servers.)"""
    modules = [first_module(d) for d in ("unit", *NEEDS_SERVERS)]
    chosen = _collect("not integration", modules)
    assert chosen
    assert [node for node in chosen if not node.startswith(f"{modules[0]}::")] == []


def _collect(marks: str, paths: list[str]) -> list[str]:
    # A subprocess: the markers are applied by tests/conftest.py at collection, as in a real run.
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            "--strict-markers",
            "-m",
            marks,
            *paths,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return [line for line in done.stdout.splitlines() if "::" in line]
