"""`threadlog dlq list|show|redrive|purge`: inspect and deal with dead letters.

Redrive and purge say how many dead letters they will touch before touching any, and touch none
with `--dry-run`. See projections/dead_letter_ops.py for what a redrive guarantees.

A parked record is anyone's input: its text is printed with control characters escaped, so that
it cannot move the cursor, retitle the window or reverse the text of the operator's terminal.
"""

import argparse
import asyncio
import re
import sys
from datetime import datetime
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer

from eventlog.connection import client_args, start_client
from projections.dead_letter_ops import (
    DeadLetter,
    Filter,
    original_headers,
    purge,
    read_dead_letters,
    redrive,
)
from projections.store import migrate_operations
from threadlog.settings import Settings


def _time(text: str) -> datetime:
    when = datetime.fromisoformat(text)
    if when.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} needs a zone, e.g. {text}Z")
    return when


def _filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--error", help="the error contains this text (case-insensitive)")
    parser.add_argument("--type", dest="event_type", help="event type, e.g. CommentPosted")
    parser.add_argument("--article", help="the record's key: an article id or author:<id>")
    parser.add_argument("--since", type=_time, help="parked at or after this ISO 8601 time")
    parser.add_argument("--until", type=_time, help="parked before this ISO 8601 time")
    parser.add_argument(
        "--all", dest="include_resolved", action="store_true", help="include redriven and purged"
    )


def add_parser(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add `dlq` and its subcommands to the `threadlog` parser."""
    dlq = commands.add_parser("dlq", help="list, show, redrive and purge dead letters")
    actions = dlq.add_subparsers(dest="dlq_command", required=True)
    listing = actions.add_parser("list", help="unresolved dead letters, oldest first")
    _filters(listing)
    show = actions.add_parser("show", help="one dead letter whole: headers, value, error")
    show.add_argument("id", help="<partition>:<offset> on the dead-letter topic, or an event id")
    for name, text in (
        ("redrive", "append the original records to the event log again (after a fix)"),
        ("purge", "mark dead letters dealt with; they stay on the topic but no longer count"),
    ):
        action = actions.add_parser(name, help=text)
        action.add_argument("ids", nargs="*", metavar="ID", help="<partition>:<offset> or event id")
        _filters(action)
        action.add_argument("--dry-run", action="store_true", help="say what, touch nothing")
        action.add_argument("--yes", action="store_true", help="no question before acting")


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
"""C0 and C1 controls (escape sequences, bells, carriage returns) and the bidirectional marks."""


def escaped(text: str) -> str:
    """`text` with each control character written as its escape (`\\x1b`, `\\u202e`)."""
    return _CONTROL.sub(lambda m: m[0].encode("unicode_escape").decode("ascii"), text)


def _line(d: DeadLetter) -> str:
    at = f"{d.at:%Y-%m-%d %H:%M:%S}" if d.at else "?"
    state = f" [{d.resolved}]" if d.resolved else ""
    return (
        escaped(
            f"{d.id:>8}  {at}  {d.stage:<6} {d.event_type or '?':<17} {d.key or '-':<24}"
            f" {d.event_id or '-'}{state}"
        )
        + f"\n          {escaped(d.error[:160])}"
    )


async def _main(settings: Settings, args: argparse.Namespace) -> None:
    conn: asyncpg.Connection[Any] = await asyncpg.connect(
        settings.database_url,
        timeout=settings.db_timeout_s,
        server_settings={"search_path": settings.pg_schema},
    )
    try:
        await migrate_operations(conn, settings.pg_schema)
        letters = await read_dead_letters(settings.kafka(), settings.dlq_topic, conn)
        command = args.dlq_command
        if command == "show":
            found = [d for d in letters if args.id in (d.id, d.event_id)]
            if not found:
                sys.exit(f"threadlog dlq show: no dead letter {args.id} on {settings.dlq_topic}")
            for d in found:
                print(_line(d))
                print(f"source  {escaped(d.source)}")
                for name, value in original_headers(d):
                    print(escaped(f"header  {name}: {value.decode('utf-8', 'replace')}"))
                print(f"value   {escaped((d.value or b'').decode('utf-8', 'replace'))}")
                print(f"error   {escaped(d.error)}")
            return
        chosen = Filter(
            ids=tuple(getattr(args, "ids", ())),
            error=args.error,
            event_type=args.event_type,
            article=args.article,
            since=args.since,
            until=args.until,
            include_resolved=args.include_resolved,
        )
        selected = [d for d in letters if chosen.matches(d)]
        if command == "list":
            for d in selected:
                print(_line(d))
            print(f"{len(selected)} dead letter(s) on {settings.dlq_topic}")
            return
        verb = "redrive to " + settings.topic if command == "redrive" else "purge"
        print(f"{len(selected)} dead letter(s) to {verb}" + (" (dry run)" if args.dry_run else ""))
        for d in selected:
            print(_line(d))
        if args.dry_run or not selected:
            return
        if (
            not args.yes
            and not sys.stdin.isatty()
            and chosen == Filter(include_resolved=chosen.include_resolved)
        ):
            # No filter names what to touch, and no one is there to answer the question: a
            # script that forgot its filter must not redrive or purge the whole topic.
            sys.exit(
                f"threadlog dlq {command}: no filter (ids, --error, --type, --article, --since,"
                f" --until) and no terminal to ask; this would {command} all {len(selected)}."
                " Name what to touch, or pass --yes to mean every one."
            )
        if (
            not args.yes
            and sys.stdin.isatty()
            and (await asyncio.to_thread(input, "go on? [y/N] ")).lower() != "y"
        ):
            sys.exit("nothing done")
        if command == "purge":
            await purge(conn, settings.dlq_topic, selected)
            print(f"purged {len(selected)}")
            return
        producer = AIOKafkaProducer(
            **client_args(settings.kafka()), acks="all", enable_idempotence=True
        )
        await start_client(producer, settings.kafka())
        try:
            await redrive(producer, settings.topic, conn, settings.dlq_topic, selected)
        finally:
            await producer.stop()
        print(f"redrove {len(selected)}; each applies once (its event id is recorded)")
    finally:
        await conn.close()


def run(settings: Settings, args: argparse.Namespace) -> None:
    """Run `threadlog dlq <subcommand>`."""
    asyncio.run(_main(settings, args))
