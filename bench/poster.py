"""Posting at a steady rate from Python without the client being what is measured.

httpx spends about a millisecond of CPU per request: at 1,000 posts/s on two cores the soak's
client fell behind (about 205 posts/s reached the log in 34 minutes while its queue of pending
posts grew to 1 GB), and the rate it claimed was not the rate ingest saw. This client writes
prebuilt HTTP/1.1 requests on keep-alive connections and reads back only the status line and
the body's length: tens of microseconds a post.
"""

import asyncio
import time
from collections.abc import Callable
from urllib.parse import urlsplit


class PostError(Exception):
    """Ingest answered with something other than 2xx, or the connection failed twice."""


class RawPoster:
    """`connections` keep-alive connections to one HTTP/1.1 server, posting JSON bodies."""

    def __init__(self, url: str, token: str, connections: int = 32) -> None:
        parts = urlsplit(url)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        self._head = (
            f"POST {parts.path or '/'} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        ).encode()
        self._idle: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter] | None] = (
            asyncio.Queue()
        )
        for _ in range(connections):
            self._idle.put_nowait(None)  # opened on first use

    async def post(self, body: bytes) -> int:
        """Post `body`; its status code. A connection the server closed between requests (its
        keep-alive ended) is reopened and the post sent again: ids make a repeat harmless."""
        connection = await self._idle.get()
        try:
            for attempt in (1, 2):
                if connection is None:
                    connection = await asyncio.open_connection(self._host, self._port)
                try:
                    status = await self._exchange(connection, body)
                    break
                except (ConnectionError, asyncio.IncompleteReadError) as error:
                    connection[1].close()
                    connection = None
                    if attempt == 2:
                        raise PostError(f"the connection failed twice: {error!r}") from error
        except BaseException:
            if connection is not None:
                connection[1].close()
            self._idle.put_nowait(None)
            raise
        self._idle.put_nowait(connection)
        return status

    async def _exchange(
        self, connection: tuple[asyncio.StreamReader, asyncio.StreamWriter], body: bytes
    ) -> int:
        reader, writer = connection
        writer.write(self._head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if length:
            await reader.readexactly(length)
        return status

    async def close(self) -> None:
        """Close every open connection."""
        while not self._idle.empty():
            connection = self._idle.get_nowait()
            if connection is not None:
                connection[1].close()


async def post_at_rate(
    poster: RawPoster,
    bodies: list[bytes],
    rate: float,
    acknowledged: Callable[[int, float], None],
) -> None:
    """Post `bodies` open loop, the n-th due `n / rate` seconds after the start whether or not
    the ones before were answered; `acknowledged(n, unix_time)` as each 2xx arrives. Raises
    `PostError` on the first answer that is not 2xx."""

    async def one(n: int) -> None:
        status = await poster.post(bodies[n])
        if not 200 <= status < 300:
            raise PostError(f"post {n} answered {status}")
        acknowledged(n, time.time())

    tasks: list[asyncio.Task[None]] = []
    started = time.perf_counter()
    try:
        for n in range(len(bodies)):
            await asyncio.sleep(max(0.0, started + n / rate - time.perf_counter()))
            tasks.append(asyncio.create_task(one(n)))
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
