"""Position tokens and the cross-loop wake-up the query service waits on."""

import asyncio
import threading

import pytest

from eventlog.position import BadPosition, Position, parse_positions
from services.query.wakeup import Wakeup


def test_tokens_round_trip_and_lists_are_comma_separated() -> None:
    """A token is `<partition>:<offset>`; a list of them is comma-separated, spaces allowed."""
    assert Position(3, 1042).token() == "3:1042"
    assert parse_positions("3:1042") == [Position(3, 1042)]
    assert parse_positions("3:1042, 7:0") == [Position(3, 1042), Position(7, 0)]


@pytest.mark.parametrize("bad", ["", "3", "3-1", ":1", "3:", "a:1", "-1:2", "3:1,", "1:2:3"])
def test_malformed_tokens_are_refused_with_the_part_at_fault(bad: str) -> None:
    """Anything but digits:digits is refused, naming the offending part."""
    with pytest.raises(BadPosition, match="is not a position token"):
        parse_positions(bad)


def test_too_many_tokens_are_refused() -> None:
    """A reader waits for at most 100 positions at once."""
    with pytest.raises(BadPosition, match="at most 100"):
        parse_positions(",".join(["1:1"] * 101))


async def test_a_wakeup_fired_from_another_thread_wakes_this_loop() -> None:
    """Waiters are woken through their own loop, so a watcher in another loop (the app's
    lifespan under a test client) still wakes requests; a fire with no waiter is lost."""
    wakeup = Wakeup()
    wakeup.fire()
    waiting = asyncio.create_task(wakeup.wait())
    await asyncio.sleep(0.01)
    assert len(wakeup) == 1
    threading.Thread(target=wakeup.fire).start()
    await asyncio.wait_for(waiting, 5)
    assert len(wakeup) == 0


async def test_a_waiter_that_times_out_is_forgotten() -> None:
    """A stream's keep-alive timeout leaves no waiter behind."""
    wakeup = Wakeup()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(wakeup.wait(), 0.01)
    assert len(wakeup) == 0
