"""Ingest's uvicorn protocol sends a response's head and body in one write."""

import asyncio
from typing import Any

from uvicorn.config import Config
from uvicorn.server import ServerState

from services.ingest.coalesced_writes import CoalescingHttpToolsProtocol


class _Transport(asyncio.Transport):
    """A connection's far end: records every write."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8001), "peername": ("127.0.0.1", 5000)}.get(name)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def _app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await receive()
    head = [(b"content-length", b"15")]
    await send({"type": "http.response.start", "status": 202, "headers": head})
    await send({"type": "http.response.body", "body": b'{"accepted":[]}'})


async def _serve(raw: bytes) -> _Transport:
    config = Config(app=_app, lifespan="off", log_config=None, access_log=False)
    config.load()
    protocol = CoalescingHttpToolsProtocol(
        config=config, server_state=ServerState(), app_state={}, _loop=asyncio.get_running_loop()
    )
    transport = _Transport()
    protocol.connection_made(transport)
    protocol.data_received(raw)
    for _ in range(20):
        await asyncio.sleep(0)
    return transport


async def test_head_and_body_of_a_response_leave_in_one_write() -> None:
    """A POST answered 202 reaches the socket as one write holding the status line, the
    headers and the body; two requests on one connection, one write each."""
    post = b"POST /v1/events HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\n{}"
    transport = await _serve(post)
    [write] = transport.writes
    assert write.startswith(b"HTTP/1.1 202 ")
    assert write.endswith(b'\r\n\r\n{"accepted":[]}')
    transport = await _serve(post + post)
    assert [w.startswith(b"HTTP/1.1 202 ") for w in transport.writes] == [True, True]


async def test_an_answer_before_close_is_sent_first() -> None:
    """A request uvicorn refuses itself (a malformed one) is answered, then the connection is
    closed: the answer is written before the close, not lost in the buffer."""
    transport = await _serve(b"NOT HTTP AT ALL\r\n\r\n")
    assert transport.closed
    [write] = transport.writes
    assert write.startswith(b"HTTP/1.1 400 ")
