"""Erasing an author (#17): their text leaves every API answer, stream, table and record, and a
rebuild cannot bring it back; nobody else's data changes; a key store that is down loses and
erases nothing."""

import contextlib
import json
import subprocess
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import msgspec
import pytest
from aiokafka import AIOKafkaProducer

from events import CommentPosted, Envelope, decode_record
from projections import Worker
from projections.log_reader import read_range
from projections.rebuild import rebuild
from projections.verify import verify
from subject_keys import KeyStore, open_keys_for
from tests.integration.conftest import eventually, produce
from tests.integration.test_lifecycle_api import Client, ev, post, send
from tests.integration.test_stream import next_change, open_stream
from threadlog.erasure import erase_author, replay_erasures
from threadlog.seal_topic import seal_topic
from threadlog.settings import Settings


@pytest.fixture
def base_settings(base_settings: Settings) -> Settings:
    """Sealing on whatever THREADLOG_ENCRYPT_PERSONAL_DATA says: these tests are about it."""
    return msgspec.structs.replace(base_settings, encrypt_personal_data=True)


SECRET = "zebrapancake"
"""In everything Mira writes, so one grep finds any of it."""
NAME = "Mira Quillfeather"


def _scene() -> list[dict[str, Any]]:
    """Mira posts, is replied to, edits, flags Olga's comment with a note; Olga has a thread
    of her own Mira never touched."""
    mira = post("m1", 1, author="mira", body=f"{SECRET} first words")
    mira["data"]["author_name"] = NAME
    return [
        ev("ArticlePublished", 0, article_id="art", title="T"),
        ev("ArticlePublished", 0, article_id="other", title="O"),
        mira,
        post("o1", 2, author="olga", parent="m1", body="Olga replies"),
        post("o2", 2, author="olga", article="other", body="Olga alone"),
        ev("CommentEdited", 3, article_id="art", comment_id="m1", editor_id="mira",
           body=f"{SECRET} second words"),
        ev("CommentFlagged", 4, article_id="art", comment_id="o1", flagger_id="mira",
           reason="other", note=f"{SECRET} flag note"),
        ev("CommentFlagged", 4, article_id="art", comment_id="m1", flagger_id="olga",
           reason="spam", note="olga's note"),
    ]  # fmt: skip


async def _raw_values(settings: Settings, topic: str) -> bytes:
    """Every record of `topic` (values and headers), as a plain read_committed Kafka consumer
    reads them (`read_range` opens nothing)."""
    seen = b""
    async for r in read_range(settings.kafka_bootstrap_servers, topic):
        seen += (r.value or b"") + b"".join(v for _, v in r.headers)
    return seen


def _dump(settings: Settings) -> str:
    """pg_dump of the test's schema and of its key store's schema."""
    return subprocess.run(
        ["pg_dump", settings.database_url, "--schema", settings.pg_schema,
         "--schema", settings.key_store_schema],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip


async def _answers(query: Client) -> str:
    """Every API answer that could show Mira's words: the thread, the permalink with its edit
    history, her timeline, the moderation queue, the other thread."""
    paths = [
        "/v1/articles/art/thread",
        "/v1/comments/m1?article_id=art",
        "/v1/comments/o1?article_id=art",
        "/v1/authors/mira/timeline",
        "/v1/moderation/queue",
        "/v1/articles/other/thread",
    ]
    # Each answer prefixed with its path, so that a failure names the one that leaks.
    return "".join([f"\n{p}: {(await query.get(p)).text}" for p in paths])


async def _verify(settings: Settings) -> tuple[str, list[str]]:
    conn = await asyncpg.connect(
        settings.database_url, server_settings={"search_path": settings.pg_schema}
    )
    try:
        verdict = await verify(settings.worker(), conn, "threads")
    finally:
        await conn.close()
    return verdict.tables_digest, verdict.differences


async def test_an_erased_author_is_gone_from_every_answer_stream_table_and_record(
    settings: Settings,
    ingest: Client,
    query: Client,
    query_server: httpx.AsyncClient,
    worker: Worker,
) -> None:
    """Posted, edited, flagged with a note, then erased: Mira's words and name are in no API
    answer, no stream (a reconnect with an old Last-Event-ID included), no table of the test's
    schema or of the key store, no record of the event topic or the dead-letter topic; they
    stay absent after a rebuild, which verifies equal; Olga's rows are untouched."""
    await send(ingest, query, _scene()[:2])
    async with open_stream(query_server) as stream:
        await send(ingest, query, _scene()[2:])
        first = await next_change(stream)
    assert SECRET in await _answers(query)  # the scene is served before the erasure
    raw = await _raw_values(settings, settings.topic)
    assert SECRET.encode() not in raw
    assert NAME.encode() not in raw
    before, differences = await _verify(settings)
    assert differences == []

    erased = ev("AuthorErased", 5, author_id="mira", moderator_id="mod", reason="Art. 17")
    decided = await send(ingest, query, [erased])
    assert decided[erased["id"]]["status"] == "applied"

    # Pages are cached until the process hears of the batch (NOTIFY): soon, not at once.
    async def erased_from_answers() -> bool:
        answers = await _answers(query)
        return SECRET not in answers and NAME not in answers

    await eventually(erased_from_answers, what="every answer to drop Mira's words", timeout_s=10)
    m1 = (await query.get("/v1/comments/m1?article_id=art")).json()["comment"]
    assert m1["status"] == "deleted"
    assert m1["body"] is None
    thread = (await query.get("/v1/articles/art/thread")).json()
    assert [c["comment_id"] for c in thread["comments"]] == ["m1"]
    assert thread["comments"][0]["replies"][0]["comment_id"] == "o1"  # the reply keeps its place
    assert "olga's note" in _dump(settings)  # other people's notes stay
    assert first.id is not None
    async with open_stream(query_server, last_event_id=first.id) as resumed:
        replayed = [await next_change(resumed)]
        with contextlib.suppress(TimeoutError):
            while True:  # every change after the old id, until the history is sent
                replayed.append(await next_change(resumed, timeout_s=2))
    assert "m1" in {json.loads(m.data)["comment_id"] for m in replayed}
    assert SECRET not in "".join(m.data for m in replayed)
    dump = _dump(settings)
    assert SECRET not in dump
    assert NAME not in dump
    for topic in (settings.topic, settings.dlq_topic):
        raw = await _raw_values(settings, topic)
        assert SECRET.encode() not in raw
        assert NAME.encode() not in raw
    erased_digest, differences = await _verify(settings)
    assert differences == []

    conn = await asyncpg.connect(settings.database_url)
    try:
        await rebuild(settings.worker(), conn, "threads")
    finally:
        await conn.close()
    assert (await _verify(settings)) == (erased_digest, [])
    dump = _dump(settings)
    assert SECRET not in dump
    assert NAME not in dump
    assert SECRET not in await _answers(query)
    other = (await query.get("/v1/articles/other/thread")).json()
    assert other["comments"][0]["body"] == "Olga alone"
    assert before != erased_digest


async def test_seal_topic_copies_a_clear_log_into_a_sealed_one(
    settings: Settings, producer: AIOKafkaProducer
) -> None:
    """History written before sealing: `threadlog seal-topic` copies every record to the same
    partition of a new topic, in order, the clear ones sealed; read back with the keys, the
    events are those of the old log, and no text is left in the new topic."""
    clear = [
        Envelope(
            id=f"old-{i}",
            type="CommentPosted",
            source="/old",
            time=datetime(2024, 1, 1, tzinfo=UTC),
            data=CommentPosted(
                article_id=f"a{i % 4}",
                comment_id=f"c{i}",
                author_id=f"u{i % 3}",
                author_name=NAME,
                body=f"{SECRET} {i}",
            ),
        )
        for i in range(40)
    ]
    await produce(producer, settings.topic, clear)
    assert SECRET.encode() in await _raw_values(settings, settings.topic)
    new_topic = f"{settings.topic}.sealed"
    copied, sealed = await seal_topic(settings, new_topic)
    assert (copied, sealed) == (40, 40)
    raw = await _raw_values(settings, new_topic)
    assert SECRET.encode() not in raw
    assert NAME.encode() not in raw
    moved = msgspec.structs.replace(settings, topic=new_topic)
    old = [r async for r in read_range(settings.kafka_bootstrap_servers, settings.topic)]
    new = [r async for r in read_range(settings.kafka_bootstrap_servers, new_topic)]
    assert sorted((r.partition, r.offset, r.key) for r in new) == sorted(
        (r.partition, r.offset, r.key) for r in old
    )
    async with KeyStore(moved.key_store()) as keys:
        opened = await open_keys_for(keys, (r.headers for r in new))
        events = [decode_record(r.headers, r.value, opened) for r in new]
    assert sorted(events, key=lambda e: e.id) == sorted(clear, key=lambda e: e.id)


async def test_replay_erasures_destroys_again_the_keys_a_restore_brought_back(
    settings: Settings, ingest: Client, query: Client, worker: Worker
) -> None:
    """`threadlog erase-author` appends AuthorErased and destroys the key; a key store restored
    from a backup taken before holds the key again, and `--replay-erasures` destroys it anew,
    reading the erasures from the log."""
    await send(ingest, query, [_scene()[0], _scene()[2]])  # the article, Mira's post
    conn = await asyncpg.connect(settings.database_url)
    try:
        table = f'"{settings.key_store_schema}".subject_keys'
        backup = await conn.fetchrow(f"select * from {table} where subject_id = 'mira'")
        assert backup is not None
        assert backup["dek_wrapped"] is not None
        await erase_author(settings, "mira", "mod", "asked")
        assert (
            await conn.fetchval(f"select dek_wrapped from {table} where subject_id = 'mira'")
            is None
        )
        await conn.execute(  # the restore
            f"update {table} set dek_wrapped = $1, destroyed_at = null where subject_id = 'mira'",
            backup["dek_wrapped"],
        )
        assert await replay_erasures(settings) == ["mira"]
        row = await conn.fetchrow(f"select * from {table} where subject_id = 'mira'")
        assert row is not None
        assert (row["dek_wrapped"], row["destroyed_at"] is not None) == (None, True)
    finally:
        await conn.close()


async def test_an_erased_author_s_notifications_go(
    settings: Settings, ingest: Client, query: Client, worker: Worker, notifier: None
) -> None:
    """A reply notifies Mira; once she is erased, the notifier drops her notifications and
    the ones she caused (a reply of hers to Olga, which also shows no more)."""
    await send(
        ingest,
        query,
        [
            _scene()[0],
            post("m1", 1, author="mira", body=f"{SECRET} 1"),
            post("o1", 2, author="olga"),
            post("o2", 3, author="olga", parent="m1"),
            post("m2", 4, author="mira", parent="o1", body=f"{SECRET} 2"),
        ],
    )

    async def notified() -> bool:
        mira = (await query.get("/v1/authors/mira/notifications")).json()["items"]
        olga = (await query.get("/v1/authors/olga/notifications")).json()["items"]
        return len(mira) == 1 and len(olga) == 1

    await eventually(notified, what="the notifier to tell Mira and Olga of the replies")
    await send(ingest, query, [ev("AuthorErased", 5, author_id="mira", moderator_id="mod")])

    async def forgotten() -> bool:
        conn = await asyncpg.connect(
            settings.database_url, server_settings={"search_path": settings.pg_schema}
        )
        try:
            return bool(
                await conn.fetchval(
                    "select count(*) from notifications"
                    " where recipient_id = 'mira' or actor_id = 'mira'"
                )
                == 0
            )
        finally:
            await conn.close()

    await eventually(forgotten, what="the notifier to drop Mira's notifications")
    assert (await query.get("/v1/authors/olga/notifications")).json()["items"] == []
