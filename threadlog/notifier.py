"""`threadlog notifier`: run the reply-notification subscriber until SIGTERM or SIGINT."""

import argparse
import asyncio
import signal
from contextlib import suppress

from services.notifications import run_notifier
from threadlog.settings import Settings


def add_parser(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add `notifier` to the `threadlog` parser."""
    commands.add_parser(
        "notifier", help="run the subscriber that stores reply and moderation notifications"
    )


async def _main(settings: Settings) -> None:
    task = asyncio.create_task(run_notifier(settings.notifier()))
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        # Cancelling ends the subscription, which commits what was processed and stops.
        loop.add_signal_handler(sig, task.cancel)
    with suppress(asyncio.CancelledError):
        await task


def run(settings: Settings, _: argparse.Namespace) -> None:
    """Run the notifier on uvloop."""
    import uvloop

    uvloop.run(_main(settings))
