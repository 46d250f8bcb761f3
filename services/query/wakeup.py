"""A wake-up call for many waiters, safe across event loops.

asyncio's Condition and Event wake only waiters of the loop that fires them. The query service's
background watchers run in the loop of the app's lifespan, which a test client (and some servers)
keep apart from the loop serving requests; waking each waiter through its own loop works in both.
A waiter costs one future and one list entry, nothing while it sleeps.
"""

import asyncio
from contextlib import suppress


def _wake(future: "asyncio.Future[None]") -> None:
    if not future.done():
        future.set_result(None)


class Wakeup:
    """`await wakeup.wait()` returns at the next `wakeup.fire()`, whichever loop fires it."""

    def __init__(self) -> None:
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []

    def __len__(self) -> int:
        return len(self._waiters)

    async def wait(self) -> None:
        """Sleep until the next fire."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        entry = (loop, future)
        self._waiters.append(entry)
        try:
            await future
        finally:
            # Still listed when cancelled (a timeout): drop it rather than wait for a fire.
            with suppress(ValueError):
                self._waiters.remove(entry)

    def fire(self) -> None:
        """Wake every current waiter."""
        waiters, self._waiters = self._waiters, []
        for loop, future in waiters:
            loop.call_soon_threadsafe(_wake, future)
