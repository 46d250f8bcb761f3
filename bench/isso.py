"""Isso, the comment server a Python shop would otherwise pick, run beside threadlog.

Installed in its own venv under .state (it is a benchmark peer, not a dependency), with SQLite,
its own HTTP server, moderation and the rate-limiting guard off, and a `title` in every post so
that it never fetches the page to find one.
"""

import asyncio
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from bench import children
from bench.ports import refuse_taken
from bench.stack import wait_until_listening

ISSO_VERSION = "0.14.0"
PORT = 18080


def ensure_installed(state: Path) -> Path:
    """The isso executable, installed in `state`/isso-venv on first use."""
    venv = state / "isso-venv"
    executable = venv / "bin" / "isso"
    if not executable.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(venv / "bin" / "pip"), "install", "-q", f"isso=={ISSO_VERSION}"], check=True
        )
    return executable


@contextmanager
def serving(state: Path) -> Iterator[None]:
    """A fresh Isso (new database) on 127.0.0.1:PORT, once it answers; stopped on leaving."""
    refuse_taken([PORT])
    home = state / "isso"
    home.mkdir(parents=True, exist_ok=True)
    database = home / "comments.db"
    database.unlink(missing_ok=True)
    config = home / "isso.cfg"
    config.write_text(
        f"[general]\ndbpath = {database}\nhost = http://127.0.0.1:{PORT}/\n"
        f"[server]\nlisten = http://127.0.0.1:{PORT}/\n"
        "[moderation]\nenabled = false\n[guard]\nenabled = false\n"
    )
    executable = ensure_installed(state)
    with open(home / "isso.log", "ab") as log:
        process = children.spawn(
            [str(executable), "-c", str(config), "run"], stdout=log, stderr=log
        )
    try:
        wait_until_listening(PORT, process, timeout_s=30)
        yield
    finally:
        children.stop(process)


def seed_text(n: int) -> str:
    """The text of the n-th seeded comment; threadlog's copy of the thread uses the same."""
    return f"A considered opinion about the story, number {n}."


async def seed(uri: str, comments: int, concurrency: int = 8) -> float:
    """Post `comments` comments to one Isso thread; return posts per second."""
    counter = iter(range(comments))

    async def poster(client: httpx.AsyncClient) -> None:
        for n in counter:
            response = await client.post(
                f"/new?uri={uri}",
                json={
                    "text": f"A considered opinion, number {n}.",
                    "author": "Reader",
                    "title": "T",
                },
            )
            response.raise_for_status()
            # Isso hands out a cookie per comment (its edit right); keeping them all would
            # soon make the request headers too long for its server.
            client.cookies.clear()

    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{PORT}", timeout=30) as client:
        await asyncio.gather(*(poster(client) for _ in range(concurrency)))
    return comments / (time.perf_counter() - started)
