"""`threadlog erase-author`: erase an author (AuthorErased, then their data key destroyed), or
destroy again every key whose erasure is in the log (after a key-store restore)."""

import argparse
import asyncio
import sys
import uuid
from datetime import UTC, datetime

from aiokafka import AIOKafkaProducer

from eventlog.connection import client_args, start_client
from events import AuthorErased, Envelope, UndecodableRecord, decode_record
from projections.log_reader import read_range
from subject_keys import KeyStore, KeyStoreUnavailable, sealed_records
from threadlog.settings import Settings

COMMAND = "erase-author"


def add_parser(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add `erase-author` to the `threadlog` parser."""
    erase = commands.add_parser(
        COMMAND,
        help="erase an author everywhere (crypto-shredding), or --replay-erasures after a"
        " key-store restore",
    )
    erase.add_argument("author_id", nargs="?", help="the author to erase")
    erase.add_argument("--reason", help="why (kept sealed under the moderator's key)")
    erase.add_argument("--by", default="operator", help="who erases (default: operator)")
    erase.add_argument(
        "--replay-erasures",
        action="store_true",
        help="destroy again the key of every author erased in the log (a key store restored"
        " from a backup must not bring anyone back)",
    )


async def erase_author(settings: Settings, author_id: str, by: str, reason: str | None) -> str:
    """Append AuthorErased (acks=all), then destroy the author's key; return the event id."""
    now = datetime.now(UTC)
    envelope = Envelope(
        id=str(uuid.uuid4()),
        type="AuthorErased",
        source="/threadlog/erase-author",
        time=now,
        recordedtime=now,
        data=AuthorErased(author_id=author_id, moderator_id=by, reason=reason),
    )
    async with KeyStore(settings.key_store()) as keys:
        [(key, value, headers)] = await sealed_records(keys, [envelope])
        producer = AIOKafkaProducer(
            **client_args(settings.kafka()), acks="all", enable_idempotence=True
        )
        await start_client(producer, settings.kafka())
        try:
            await producer.send_and_wait(settings.topic, key=key, value=value, headers=headers)
        finally:
            await producer.stop()
        await keys.destroy(author_id)
    return envelope.id


async def replay_erasures(settings: Settings) -> list[str]:
    """Destroy the key of every author an AuthorErased in the log names; return them."""
    authors: list[str] = []
    async for record in read_range(settings.kafka(), settings.topic):
        if (dict(record.headers).get("ce_type") or b"") != b"AuthorErased":
            continue
        try:
            data = decode_record(record.headers, record.value).data
        except UndecodableRecord:
            continue
        if isinstance(data, AuthorErased) and data.author_id not in authors:
            authors.append(data.author_id)
    async with KeyStore(settings.key_store()) as keys:
        for author in authors:
            await keys.destroy(author)
    return authors


def run(settings: Settings, args: argparse.Namespace) -> None:
    """Run `erase-author` as parsed."""
    try:
        if args.replay_erasures:
            authors = asyncio.run(replay_erasures(settings))
            print(f"keys destroyed again: {len(authors)} author(s) erased in the log")
            return
        if not args.author_id:
            sys.exit("threadlog erase-author: give an author id, or --replay-erasures")
        event_id = asyncio.run(erase_author(settings, args.author_id, args.by, args.reason))
    except KeyStoreUnavailable as error:
        sys.exit(f"threadlog erase-author: {error}; run it again (it is idempotent)")
    print(f"erased {args.author_id}: AuthorErased {event_id} appended, data key destroyed")
