"""A thread's history for the export tests: the demo thread, then edits (one refused), deletions
by an author and by a moderator, votes (one withdrawn), flags, a moderator's decisions, a pin, a
premoderated article approved then closed, and bans: one that hides a later comment, one lifted.

Everything is posted through ingest, as producers post it, so the log holds what ingest writes
(its `recordedtime`, its `producerkey` header, its transactions)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from projections import Worker
from projections.verify import Verdict, verify
from tests.integration.conftest import committed_end, eventually
from tests.integration.test_rebuild import applied_through
from threadlog.demo_thread import ARTICLE_ID, demo_events
from threadlog.settings import ENVIRONMENT, Settings

SECOND = "2026-export-second"
PERSON = "searchin4truth"
"""The demo's first commenter, who does a bit of everything here."""


def _on(article: str, number: str, type_: str, **data: Any) -> dict[str, Any]:
    return {
        "id": f"x-{number}",
        "type": type_,
        "source": "/test",
        "data": {"article_id": article, **data},
    }


def _about(number: str, type_: str, comment: str, **data: Any) -> dict[str, Any]:
    return _on(ARTICLE_ID, number, type_, comment_id=comment, **data)


def _author(number: str, type_: str, author: str, **data: Any) -> dict[str, Any]:
    return {
        "id": f"x-{number}",
        "type": type_,
        "source": "/test",
        "data": {"author_id": author, **data},
    }


REQUESTS: list[list[dict[str, Any]]] = [
    demo_events(),
    [
        _about("e1", "CommentEdited", "c1", editor_id=PERSON, body="Take it to Trump (edited)."),
        _about("e2", "CommentEdited", "c3", editor_id="jjohannes", body="Biased, as I said."),
        _about("e3", "CommentEdited", "c1", editor_id="peter", body="Not his to edit."),
        _about("d1", "CommentDeleted", "c4", deleted_by="momcilo", reason="changed my mind"),
        _about("d2", "CommentDeleted", "c6", deleted_by="mod-1", moderator=True, reason="hate"),
        _about("v1", "CommentVoted", "c1", voter_id="reader-ana", vote="up"),
        _about("v2", "CommentVoted", "c1", voter_id="reader-ben", vote="up"),
        _about("v3", "CommentVoted", "c3", voter_id=PERSON, vote="down"),
        _about("v4", "CommentVoted", "c3", voter_id=PERSON, vote="none"),
        _about("v5", "CommentVoted", "c5", voter_id=PERSON, vote="up"),
        _about("f1", "CommentFlagged", "c5", flagger_id=PERSON, reason="off_topic"),
        _about("m1", "CommentModerated", "c2", moderator_id="mod-1", action="reject"),
        _about("m2", "CommentModerated", "c1", moderator_id="mod-1", action="feature"),
        _about("pin", "CommentPinned", "c3", moderator_id="mod-1", note="context"),
    ],
    [
        _author("b1", "AuthorBanned", "vincent", moderator_id="mod-1", reason="abuse"),
        _author("b2", "AuthorBanned", PERSON, moderator_id="mod-1", reason="cooling off"),
    ],
    [
        _about("p7", "CommentPosted", "c7", author_id="vincent", body="Still here."),
        _about("p8", "CommentPosted", "c8", author_id=PERSON, parent_id="c3", body="A reply."),
    ],
    [_author("u1", "AuthorUnbanned", PERSON, moderator_id="mod-1", reason="served")],
    [
        _on(SECOND, "a2", "ArticlePublished", title="Second", premoderated=True),
        _on(SECOND, "p9", "CommentPosted", comment_id="c1", author_id=PERSON, body="Held first."),
        _on(
            SECOND,
            "m3",
            "CommentModerated",
            comment_id="c1",
            moderator_id="mod-1",
            action="approve",
        ),
        _on(SECOND, "close", "ArticleClosed", by="mod-1", reason="done"),
        _on(SECOND, "p10", "CommentPosted", comment_id="c2", author_id="peter", body="Too late."),
    ],
]
"""Requests in order: a later one may depend on an earlier one's events (an edit on a post)."""

EVENTS = sum(len(request) for request in REQUESTS)


async def post_history(ingest: AsyncTestClient[Any]) -> None:
    """Post every request, one after the other."""
    for events in REQUESTS:
        response = await ingest.post("/v1/events", json=events)
        assert response.status_code == 202, response.text


ROOT = Path(__file__).resolve().parents[2]


def environment(settings: Settings) -> dict[str, str]:
    """The environment a `threadlog` process needs to work on the test's topic and schema."""
    names = (
        "kafka_bootstrap_servers",
        "database_url",
        "topic",
        "pg_schema",
        "topic_partitions",
        "key_store_schema",
        "encrypt_personal_data",
        "kek",
        "kek_file",
        "db_timeout_s",
    )
    return os.environ | {ENVIRONMENT[name]: _text(getattr(settings, name)) for name in names}


def _text(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def threadlog(settings: Settings, *args: str) -> subprocess.CompletedProcess[bytes]:
    """Run the `threadlog` command on the test's topic and schema."""
    return subprocess.run(
        [sys.executable, "-m", "threadlog", *args],
        env=environment(settings),
        cwd=ROOT,
        capture_output=True,
        timeout=120,
        check=False,
    )


async def erase_peter(
    ingest: AsyncTestClient[Any], settings: Settings, db: asyncpg.Connection[Any]
) -> None:
    """Erase Peter (event `x-erase`) through ingest, which destroys his key; wait until the
    worker on `db`'s schema applied it."""
    erased = {
        "id": "x-erase",
        "type": "AuthorErased",
        "source": "/test",
        "data": {"author_id": "peter", "moderator_id": "mod-1", "reason": "asked"},
    }
    assert (await ingest.post("/v1/events", json=[erased])).status_code == 202
    await applied(settings, db)


async def applied(settings: Settings, db: asyncpg.Connection[Any]) -> None:
    """Wait until the worker on `db`'s schema applied every committed record of the topic."""
    end = await committed_end(settings)
    await eventually(lambda: applied_through(db, end), what="the worker to apply the log")


@pytest.fixture(name="source")
async def source_fixture(
    settings: Settings, ingest: AsyncTestClient[Any], worker: Worker, db: asyncpg.Connection[Any]
) -> Verdict:
    """(`source`) The installation exported: the history posted and applied; its verify verdict."""
    await post_history(ingest)
    await applied(settings, db)
    verdict = await verify(settings.worker(), db, "threads")
    assert verdict.differences == []
    assert verdict.events == EVENTS
    return verdict
