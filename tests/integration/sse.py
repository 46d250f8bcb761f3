"""A minimal Server-Sent Events reader for the tests and the benchmark."""

from collections.abc import AsyncIterator

import httpx
import msgspec


class Message(msgspec.Struct, frozen=True):
    """One SSE message: its event name, id, data, or a comment line."""

    event: str | None = None
    id: str | None = None
    data: str = ""
    comment: str | None = None


async def messages(response: httpx.Response) -> AsyncIterator[Message]:
    """Each message of an open event-stream response, as it arrives."""
    fields: dict[str, str] = {}
    async for line in response.aiter_lines():
        if line == "":
            if fields:
                yield Message(**fields)
            fields = {}
        elif line.startswith(":"):
            fields["comment"] = line[1:].strip()
        else:
            name, _, value = line.partition(":")
            if name in ("event", "id", "data"):
                value = value.removeprefix(" ")
                fields[name] = fields[name] + "\n" + value if name in fields else value
