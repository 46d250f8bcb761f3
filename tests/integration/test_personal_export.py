"""`threadlog export --author ID --personal`: one person's data as one document, on the real log
and read model, for a data-access request."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import asyncpg
import jsonschema
import msgspec
import pytest
from litestar.testing import AsyncTestClient

from events.sealing import ERASED_TEXT
from projections.verify import Verdict
from tests.integration.export_history import (
    PERSON,
    SECOND,
    erase_peter,
    source_fixture,  # noqa: F401 (the `source` fixture: pytest finds it here by its name)
    threadlog,
)
from threadlog.contract import DEFAULT_DIR
from threadlog.demo_thread import ARTICLE_ID
from threadlog.export.command import export_personal
from threadlog.export.personal_document import SCHEMA_FILE, PersonalExport
from threadlog.settings import Settings


@pytest.fixture
def base_settings(base_settings: Settings) -> Settings:
    """Sealing on whatever THREADLOG_ENCRYPT_PERSONAL_DATA says: the export opens the log's
    sealed fields with the key store."""
    return msgspec.structs.replace(base_settings, encrypt_personal_data=True)


async def test_a_personal_export_holds_their_comments_with_history_votes_flags_and_bans(
    source: Verdict, settings: Settings, tmp_path: Path
) -> None:
    """The command writes one document, valid against the published schema: each comment they
    posted with its text as posted, its edits, the moderators' decisions and its state as
    served now (an edit's text, a ban's hiding); every vote they cast, withdrawn ones too, and
    every flag, with the log's times and each event's outcome; the bans of them and their
    lifting. Other people (moderators, other voters) are not named."""
    path = tmp_path / "personal.json"
    done = await asyncio.to_thread(
        threadlog, settings, "export", "--author", PERSON, "--personal", "--output", str(path)
    )
    assert done.returncode == 0, done.stderr.decode()
    assert f"personal export of {PERSON}: 3 comment(s)".encode() in done.stderr
    raw = path.read_bytes()
    jsonschema.validate(json.loads(raw), json.loads((DEFAULT_DIR / SCHEMA_FILE).read_text()))
    for other in (b'"mod-1"', b'"reader-ana"', b'"reader-ben"'):
        assert other not in raw
    doc = msgspec.json.decode(raw, type=PersonalExport)
    assert doc.names == ["Searchin4Truth"]
    assert sum(doc.log_read_to.values()) > 0
    comments = {(c.article_id, c.comment_id): c for c in doc.comments}
    assert sorted(comments) == [(ARTICLE_ID, "c1"), (ARTICLE_ID, "c8"), (SECOND, "c1")]

    first = comments[(ARTICLE_ID, "c1")]
    assert first.event_id == "demo-comment-1"
    assert first.body.startswith("Serbia should take its case")
    assert [(e.event_id, e.body) for e in first.edits] == [("x-e1", "Take it to Trump (edited).")]
    assert [(m.action, m.event_id) for m in first.moderation] == [("feature", "x-m2")]
    assert first.served is not None
    assert (first.served.status, first.served.body, first.served.featured) == (
        "visible",
        "Take it to Trump (edited).",
        True,
    )
    assert first.served.score == 2
    assert first.outcome is not None
    assert first.outcome.outcome == "applied"
    assert first.accepted_at > first.time  # posted in 2019, accepted by this test's ingest

    during_ban = comments[(ARTICLE_ID, "c8")]
    assert during_ban.served is not None
    assert (during_ban.served.status, during_ban.served.hold_reasons) == (
        "rejected",
        ["author_banned"],
    )
    assert during_ban.outcome is not None
    assert (during_ban.outcome.outcome, during_ban.outcome.reason) == ("rejected", "author_banned")

    held = comments[(SECOND, "c1")]
    assert [m.action for m in held.moderation] == ["approve"]
    assert held.served is not None
    assert held.served.status == "visible"

    assert [(v.event_id, v.comment_id, v.vote) for v in doc.votes] == [
        ("x-v3", "c3", "down"),
        ("x-v4", "c3", "none"),
        ("x-v5", "c5", "up"),
    ]
    assert all(v.outcome is not None and v.outcome.outcome == "applied" for v in doc.votes)
    assert [(f.event_id, f.comment_id, f.reason) for f in doc.flags] == [
        ("x-f1", "c5", "off_topic")
    ]
    assert [(b.kind, b.reason) for b in doc.bans] == [
        ("banned", "cooling off"),
        ("unbanned", "served"),
    ]
    assert doc.other_events == []


async def test_refused_acts_and_deletions_by_moderators_are_in_the_document(
    source: Verdict, settings: Settings
) -> None:
    """What the rules refused is data we hold too: a post to a closed thread and an edit of
    someone else's comment appear with their refusal; a comment a moderator deleted keeps its
    text as posted, its deletion by "a moderator" and its tombstone state."""
    doc = await export_personal(settings, "peter")
    comments = {(c.article_id, c.comment_id): c for c in doc.comments}
    deleted = comments[(ARTICLE_ID, "c6")]
    assert [(d.by, d.reason) for d in deleted.deletions] == [("moderator", "hate")]
    assert deleted.body.startswith("Answers that every commenter")
    assert deleted.served is not None
    assert deleted.served.status == "deleted"
    late = comments[(SECOND, "c2")]
    assert late.outcome is not None
    assert (late.outcome.outcome, late.outcome.reason) == ("rejected", "article_closed")
    [edit] = doc.other_events
    assert (edit.event_id, edit.type, edit.roles) == ("x-e3", "CommentEdited", ["editor"])
    assert edit.outcome is not None
    assert (edit.outcome.outcome, edit.outcome.reason) == ("rejected", "not_author")


async def test_an_erased_person_s_document_says_so_and_holds_no_text(
    source: Verdict,
    settings: Settings,
    ingest: AsyncTestClient[Any],
    db: asyncpg.Connection[Any],
    tmp_path: Path,
) -> None:
    """Once Peter is erased (his key destroyed), his document says when, and holds the ids and
    times of what he did but none of his words or his name: each text reads as the erased
    placeholder, as the worker reads it, and his comments are served as tombstones."""
    await erase_peter(ingest, settings, db)
    path = tmp_path / "peter.json"
    done = await asyncio.to_thread(
        threadlog, settings, "export", "--author", "peter", "--personal", "--output", str(path)
    )
    assert done.returncode == 0, done.stderr.decode()
    raw = path.read_bytes()
    jsonschema.validate(json.loads(raw), json.loads((DEFAULT_DIR / SCHEMA_FILE).read_text()))
    for gone in (b"Answers that every commenter", b"Too late.", b"Peter", b'"enc"', b"asked"):
        assert gone not in raw
    doc = msgspec.json.decode(raw, type=PersonalExport)
    assert doc.erased is not None
    assert doc.erased.event_id == "x-erase"
    assert doc.erased.outcome is not None
    assert doc.erased.outcome.outcome == "applied"
    assert doc.names == []
    assert len(doc.comments) == 2
    for comment in doc.comments:
        assert comment.body == ERASED_TEXT
        assert comment.author_name is None
        assert comment.served is None or comment.served.status == "deleted"
    assert [e.event_id for e in doc.other_events] == ["x-e3"]
