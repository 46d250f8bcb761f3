"""uvicorn's HTTP protocol with the writes of one loop iteration sent together.

uvicorn writes a response's head when the app sends `http.response.start` and its body when it
sends `http.response.body`: two `send` syscalls for a 202 of a few hundred bytes, each of which
on loopback also runs the receiving side's TCP work. A single-event POST spent about a quarter
of its CPU in `write` (py-spy --native). Here the transport's writes are gathered and leave in
one syscall once the current callbacks have run (`call_soon`), before the loop waits again:
the head and body of a response, sent by the app back to back, go out as one segment.
"""

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class _CoalescingTransport:
    """A transport whose writes are buffered until the loop's next turn, then sent as one."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes) -> None:
        """Queue `data`; the first write of a turn schedules the flush."""
        if not self._pending:
            self._loop.call_soon(self._flush)
        self._pending.append(bytes(data))

    def _flush(self) -> None:
        if not self._pending:
            return
        data = b"".join(self._pending)
        self._pending.clear()
        if not self._transport.is_closing():
            self._transport.write(data)

    def close(self) -> None:
        """Send what is queued, then close (uvicorn closes right after an error's answer)."""
        self._flush()
        self._transport.close()

    def is_closing(self) -> bool:
        """Whether the underlying transport is closing."""
        return self._transport.is_closing()

    def __getattr__(self, name: str) -> Any:
        # Everything else (extra info, reading pauses) is the real transport's.
        return getattr(self._transport, name)


class CoalescingHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, writing through a `_CoalescingTransport`."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Set up as uvicorn does (flow control keeps the real transport), then coalesce."""
        super().connection_made(transport)
        self.transport = _CoalescingTransport(transport, self.loop)  # type: ignore[assignment]
