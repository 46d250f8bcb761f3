"""The bench's raw poster: what it reads back, and a keep-alive the server ended."""

import asyncio

import pytest

from bench.poster import PostError, RawPoster, post_at_rate


async def _server(
    answers: list[bytes], close_after_each: bool
) -> tuple[asyncio.Server, list[bytes]]:
    seen: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while answers:
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length")
            )
            seen.append(await reader.readexactly(length))
            writer.write(answers.pop(0))
            await writer.drain()
            if close_after_each:
                break
        writer.close()

    return await asyncio.start_server(handle, "127.0.0.1", 0), seen


def _answer(status: int, body: bytes) -> bytes:
    return b"HTTP/1.1 %d X\r\nContent-Length: %d\r\n\r\n%s" % (status, len(body), body)


async def test_bodies_are_posted_in_order_and_each_2xx_acknowledged() -> None:
    """Every body reaches the server whole, and each 2xx answer (its body read past, so the
    next answer on the connection is read from its start) is acknowledged once."""
    server, seen = await _server([_answer(202, b'{"accepted":1}')] * 5, close_after_each=False)
    port = server.sockets[0].getsockname()[1]
    poster = RawPoster(f"http://127.0.0.1:{port}/v1/events", "k", connections=1)
    acknowledged: list[int] = []
    bodies = [b'{"n":%d}' % n for n in range(5)]
    await post_at_rate(poster, bodies, 1000, lambda n, _at: acknowledged.append(n))
    await poster.close()
    server.close()
    assert seen == bodies
    assert acknowledged == [0, 1, 2, 3, 4]


async def test_a_connection_the_server_closed_is_reopened_and_the_post_sent_again() -> None:
    """A server that ends keep-alive after each answer: the next post on that connection fails
    to be read, and goes again on a new one rather than losing the post."""
    server, seen = await _server([_answer(202, b"")] * 3, close_after_each=True)
    port = server.sockets[0].getsockname()[1]
    poster = RawPoster(f"http://127.0.0.1:{port}/", "k", connections=1)
    statuses = [await poster.post(b"a"), await poster.post(b"b"), await poster.post(b"c")]
    await poster.close()
    server.close()
    assert statuses == [202, 202, 202]
    assert seen == [b"a", b"b", b"c"]


async def test_an_answer_other_than_2xx_stops_the_posting_with_its_status() -> None:
    """A 503 (ingest shedding load) ends the window with the post and status named."""
    server, _seen = await _server([_answer(202, b""), _answer(503, b"busy")], False)
    port = server.sockets[0].getsockname()[1]
    poster = RawPoster(f"http://127.0.0.1:{port}/", "k", connections=1)
    try:
        with pytest.raises(PostError, match=r"^post 1 answered 503$"):
            await post_at_rate(poster, [b"a", b"b"], 1000, lambda _n, _at: None)
    finally:
        await poster.close()
        server.close()
