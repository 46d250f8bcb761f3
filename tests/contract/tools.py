"""The third-party checkers the contract tests run, as a fresh clone's `make test` installs them
(`deploy/bin/ensure-system --contract`): the npm packages locked in tests/contract/node, and
promtool taken out of Debian's prometheus package into .state/tools/bin."""

import os
import shutil
import subprocess
from pathlib import Path
from typing import NoReturn

import pytest

NODE_DIR = Path(__file__).resolve().parent / "node"
REPO = NODE_DIR.parents[2]
_INSTALL = "`deploy/bin/ensure-system --contract` installs it (`make test` runs it)"


def _missing(what: str) -> NoReturn:
    message = f"{what} is not installed; {_INSTALL}"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def run_node(script: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """Run one of tests/contract/node's scripts with the locked packages; output as text."""
    node = shutil.which("node")
    if node is None or not (NODE_DIR / "node_modules" / ".threadlog-lock.sha256").is_file():
        _missing("node, or the npm packages of tests/contract/node,")
    return subprocess.run(
        [str(node), str(NODE_DIR / script), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def promtool() -> str:
    """The path of promtool: on PATH, or where ensure-system put it."""
    state = Path(os.environ.get("THREADLOG_STATE_DIR", REPO / ".state"))
    found = shutil.which("promtool") or shutil.which("promtool", path=str(state / "tools" / "bin"))
    if found is None:
        _missing("promtool")
    return found
