"""`threadlog export [--article ID | --author ID [--personal]] [--output FILE]`."""

import argparse
import asyncio
import re
import sys
import time
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

import asyncpg
import msgspec
from aiokafka.errors import KafkaConnectionError

from events.fields import ID_PATTERN
from subject_keys import KeyStore, KeyStoreUnavailable
from subject_keys.kek import BadKek
from threadlog.export.log_export import Selection, export_log
from threadlog.export.log_order import ReadStats, read_in_export_order
from threadlog.export.personal_document import PersonalExport
from threadlog.export.personal_fold import PersonalFold
from threadlog.export.personal_read_model import fill_in
from threadlog.settings import Settings

_ID = re.compile(ID_PATTERN)
_SHOWN_UNDECODABLE = 5
_T = TypeVar("_T")


def _id(text: str) -> str:
    if not _ID.match(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not an id: 1-128 of A-Z a-z 0-9 . _ : -")
    return text


def add_parser(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add `export` to the `threadlog` parser."""
    export = commands.add_parser(
        "export",
        help="the log as CloudEvents JSON Lines (all, one article, one person), or with"
        " --author ID --personal all we hold about a person as one JSON document",
    )
    which = export.add_mutually_exclusive_group()
    which.add_argument("--article", type=_id, metavar="ID", help="only this article's events")
    which.add_argument(
        "--author", type=_id, metavar="ID", help="only events naming this person, in any role"
    )
    export.add_argument(
        "--personal",
        action="store_true",
        help="with --author: one JSON document of everything about them (data-access request)",
    )
    export.add_argument(
        "--output", "-o", type=Path, metavar="FILE", help="default: standard output"
    )


@contextmanager
def output_to(path: Path | None) -> Iterator[BinaryIO]:
    """The file to write, under a `.partial` name until it is whole: an export killed halfway
    never leaves a file that looks complete (a truncated one would import as far as it goes)."""
    if path is None:
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    partial = path.with_name(f"{path.name}.partial")
    try:
        with partial.open("wb") as out:
            yield out
        partial.replace(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


async def export_personal(settings: Settings, author: str) -> PersonalExport:
    """Everything about `author`: their events from the log, with outcomes and served states
    from the read model on `settings`' schema."""
    stats = ReadStats()
    fold = PersonalFold(author, datetime.now(UTC), {})
    async with KeyStore(settings.key_store()) as keys:
        async for clear in read_in_export_order(
            settings.kafka(), settings.topic, fold.wants, stats, keys
        ):
            fold.add(clear.envelope)
    _warn_undecodable(stats)
    conn: asyncpg.Connection[Any] = await asyncpg.connect(
        settings.database_url,
        timeout=settings.db_timeout_s,
        server_settings={"search_path": settings.pg_schema},
    )
    try:
        await fill_in(conn, fold)
    finally:
        await conn.close()
    return fold.finish(stats.ends)


def _warn_undecodable(stats: ReadStats) -> None:
    if not stats.undecodable:
        return
    shown = "; ".join(f"{p.token()}: {e}" for p, e in stats.undecodable[:_SHOWN_UNDECODABLE])
    print(
        f"skipped {len(stats.undecodable):,} record(s) that are not events (the worker parked"
        f" them; `threadlog dlq list` shows them): {shown}",
        file=sys.stderr,
    )


def _ends(ends: dict[int, int]) -> str:
    return ",".join(f"{p}:{end}" for p, end in sorted(ends.items()))


def _complete(settings: Settings, work: Coroutine[Any, Any, _T]) -> _T:
    """Run `work`; a server that is down or a topic that is missing ends the command with the
    reason and the fix, not a traceback."""
    try:
        return asyncio.run(work)
    except (LookupError, KeyStoreUnavailable, BadKek) as error:
        # Without the keys the export could only write ciphertext or placeholders: none.
        sys.exit(f"threadlog export: {error}; the export is not complete, run it again")
    except KafkaConnectionError:
        sys.exit(
            f"threadlog export: Kafka at {settings.kafka_bootstrap_servers} did not answer; is"
            " it running? `make up` starts it"
        )
    except (OSError, asyncpg.PostgresError) as error:
        # Not the URL: it may hold a password (`threadlog config` prints it masked).
        sys.exit(f"threadlog export: the read model's PostgreSQL: {error}; is it running?")


async def _export_log(settings: Settings, selection: Selection, out: BinaryIO) -> ReadStats:
    async with KeyStore(settings.key_store()) as keys:
        return await export_log(settings.kafka(), settings.topic, selection, out, keys)


def run(settings: Settings, args: argparse.Namespace) -> None:
    """Run `threadlog export` as parsed in `args`."""
    if args.personal and args.author is None:
        sys.exit("threadlog export: --personal needs --author ID (whose data to export)")
    started = time.monotonic()
    if args.personal:
        document = _complete(settings, export_personal(settings, args.author))
        with output_to(args.output) as out:
            out.write(msgspec.json.format(msgspec.json.encode(document), indent=2) + b"\n")
        print(
            f"personal export of {args.author}: {len(document.comments):,} comment(s),"
            f" {len(document.votes):,} vote(s), {len(document.flags):,} flag(s),"
            f" {len(document.bans):,} ban event(s), {len(document.other_events):,} other"
            f" event(s); log read up to {_ends(document.log_read_to)}",
            file=sys.stderr,
        )
        return
    selection = Selection(article=args.article, author=args.author)
    with output_to(args.output) as out:
        stats = _complete(settings, _export_log(settings, selection, out))
    _warn_undecodable(stats)
    print(
        f"exported {stats.events:,} event(s) of {settings.topic} in"
        f" {time.monotonic() - started:,.1f} s, up to the ends taken at the start"
        f" {_ends(stats.ends)}",
        file=sys.stderr,
    )
