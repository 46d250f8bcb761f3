"""The comment lifecycle through the real pipeline: ingest, Kafka, worker, query service."""

import asyncio
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from projections import Worker
from tests.integration.conftest import eventually

Client = AsyncTestClient[Any]
_counter = iter(range(1_000_000))


def ev(type_: str, minute: float = 0, **data: Any) -> dict[str, Any]:
    """An envelope with a fresh id at 2024-01-01 10:00 plus `minute` minutes."""
    seconds = round(minute * 60)
    at = f"2024-01-01T{10 + seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}Z"
    return {"id": f"ev-{next(_counter)}", "type": type_, "time": at, "data": data}


def post(
    comment_id: str,
    minute: float = 0,
    author: str = "ann",
    parent: str | None = None,
    article: str = "art",
    body: str | None = None,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "article_id": article,
        "comment_id": comment_id,
        "author_id": author,
        "author_name": author.title(),
        "body": body or f"text of {comment_id}",
    }
    if parent:
        data["parent_id"] = parent
    return ev("CommentPosted", minute, **data)


async def send(ingest: Client, query: Client, events: list[dict[str, Any]]) -> dict[str, Any]:
    """Post `events` in one request and wait until the worker decided every one; return
    event id -> {"status", "reason"}."""
    response = await ingest.post("/v1/events", json=events)
    assert response.status_code == 202, response.text

    async def decided() -> bool:
        last = await query.get(f"/v1/events/{events[-1]['id']}")
        return bool(last.json()["status"] != "pending")

    await eventually(decided, what="the worker to decide the batch")
    return {e["id"]: (await query.get(f"/v1/events/{e['id']}")).json() for e in events}


async def get(query: Client, path: str, **params: Any) -> Any:
    response = await query.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.worker_settings(edit_window_s=1.0)
async def test_rules_are_decided_by_the_worker_and_reported_per_event(
    ingest: Client, query: Client, worker: Worker
) -> None:
    """Each rule rejects its event with a reason GET /v1/events/{id} reports, and nothing else.
    The edit window runs on the log's clock: an edit accepted after it is refused, whatever time
    its producer claims."""
    script = [
        ev("ArticlePublished", 0, article_id="art", title="T"),
        ok := post("c1", 1),
        other := ev(
            "CommentEdited", 2, article_id="art", comment_id="c1", editor_id="bob", body="mine now"
        ),
        edit := ev(
            "CommentEdited", 5, article_id="art", comment_id="c1", editor_id="ann", body="fixed"
        ),
        ev("CommentDeleted", 6, article_id="art", comment_id="c1", deleted_by="ann"),
        orphan := post("c2", 7, parent="c1"),
        unknown := ev(
            "CommentVoted", 8, article_id="art", comment_id="nope", voter_id="v", vote="up"
        ),
        ev("ArticleClosed", 9, article_id="art", by="mod", reason="too heated"),
        closed := post("c3", 10),
        ev("ArticleReopened", 11, article_id="art", by="mod"),
        ev("AuthorBanned", 12, author_id="troll", moderator_id="mod", reason="abuse"),
        banned := post("c4", 13, author="troll"),
        fine := post("c5", 14),
    ]
    late = ev(
        "CommentEdited", 1.5, article_id="art", comment_id="c1", editor_id="ann", body="too late"
    )
    outcomes = await send(ingest, query, script[:4])
    await asyncio.sleep(1.1)  # past the 1 s edit window, by ingest's clock
    outcomes |= await send(ingest, query, [late])
    outcomes |= await send(ingest, query, script[4:])
    assert {
        k: (v["status"], v.get("reason"))
        for k, v in outcomes.items()
        if k in {e["id"] for e in (ok, other, late, edit, orphan, unknown, closed, banned, fine)}
    } == {
        ok["id"]: ("applied", None),
        other["id"]: ("rejected", "not_author"),
        late["id"]: ("rejected", "edit_window_expired"),
        edit["id"]: ("applied", None),
        orphan["id"]: ("rejected", "parent_deleted"),
        unknown["id"]: ("rejected", "unknown_comment"),
        closed["id"]: ("rejected", "article_closed"),
        banned["id"]: ("rejected", "author_banned"),
        fine["id"]: ("applied", None),
    }
    assert (await get(query, "/v1/events/never-posted")) == {
        "id": "never-posted",
        "status": "pending",
    }
    thread = await get(query, "/v1/articles/art/thread")
    assert [
        (c["comment_id"], c["status"], c["body"], c["author_id"]) for c in thread["comments"]
    ] == [
        ("c1", "deleted", None, None),
        ("c5", "visible", "text of c5", "ann"),
    ]
    assert thread["article"]["comment_count"] == 1
    timeline = await get(query, "/v1/authors/ann/timeline")
    assert [(i["comment_id"], i["status"], i["body"]) for i in timeline["items"]] == [
        ("c5", "visible", "text of c5"),
        ("c1", "deleted", None),
    ]


async def test_big_threads_page_replies_and_sort_by_score(
    ingest: Client, query: Client, worker: Worker
) -> None:
    """Replies beyond the per-level limit are counted and paged by cursor; sort=top puts the
    featured comment first, then by score; permalinks carry the edit history; counts and the
    moderation queue answer for lists."""
    events = [
        ev("ArticlePublished", 0, article_id="art", title="T"),
        ev("ArticlePublished", 0, article_id="other", title="O"),
    ]
    events += [post(f"t{i}", i) for i in range(3)]
    events += [post(f"r{i}", 10 + i, author="bob", parent="t0") for i in range(7)]
    events += [post("rr", 20, parent="r0")]
    events += [
        ev("CommentVoted", 21, article_id="art", comment_id="t1", voter_id=f"v{i}", vote="up")
        for i in range(3)
    ]
    events += [ev("CommentVoted", 21, article_id="art", comment_id="t2", voter_id="v1", vote="up")]
    events += [
        ev(
            "CommentModerated",
            22,
            article_id="art",
            comment_id="t2",
            moderator_id="m",
            action="feature",
        )
    ]
    events += [
        ev(
            "CommentEdited",
            23,
            article_id="art",
            comment_id="rr",
            editor_id="ann",
            body="edited reply",
        )
    ]
    events += [
        ev(
            "CommentFlagged",
            24,
            article_id="art",
            comment_id="t0",
            flagger_id=f"f{i}",
            reason="spam",
        )
        for i in range(2)
    ]
    events += [
        ev("CommentFlagged", 25, article_id="art", comment_id="t1", flagger_id="f1", reason="hate")
    ]
    events += [post("other-1", 26, article="other")]
    await send(ingest, query, events)

    thread = await get(query, "/v1/articles/art/thread", replies=5)
    t0 = thread["comments"][0]
    assert [r["comment_id"] for r in t0["replies"]] == ["r0", "r1", "r2", "r3", "r4"]
    assert (t0["reply_count"], t0["more_replies"]) == (7, 2)
    assert t0["replies"][0]["replies"][0]["body"] == "edited reply"
    assert t0["replies"][0]["replies"][0]["edited_at"] == "2024-01-01T10:23:00Z"
    rest = await get(query, "/v1/comments/t0/replies", cursor=t0["replies_cursor"])
    assert [r["comment_id"] for r in rest["replies"]] == ["r5", "r6"]
    assert rest["next_cursor"] is None

    top = await get(query, "/v1/articles/art/thread", sort="top", limit=1)
    seen = [c["comment_id"] for c in top["comments"]]
    while top["next_cursor"]:
        top = await get(
            query, "/v1/articles/art/thread", sort="top", limit=1, cursor=top["next_cursor"]
        )
        seen += [c["comment_id"] for c in top["comments"]]
    assert seen == ["t2", "t1", "t0"], "featured first, then by score"

    permalink = await get(query, "/v1/comments/rr")
    assert permalink["article_id"] == "art"
    assert [(e["version"], e["body"]) for e in permalink["edits"]] == [(1, "text of rr")]
    missing = await query.get("/v1/comments/none")
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "comment_not_found")

    counts = await query.get("/v1/counts?article_id=art&article_id=other&article_id=ghost")
    assert counts.json() == {"counts": {"art": 11, "other": 1, "ghost": 0}}
    too_many = await query.get("/v1/counts?" + "&".join(f"article_id=a{i}" for i in range(101)))
    assert (too_many.status_code, too_many.json()["error"]["details"][0]["field"]) == (
        400,
        "article_id",
    )

    flagged = await get(query, "/v1/moderation/queue", status="flagged", limit=1)
    assert [(i["comment_id"], i["flag_count"], i["flag_reasons"]) for i in flagged["items"]] == [
        ("t0", 2, ["spam", "spam"])
    ]
    second = await get(
        query, "/v1/moderation/queue", status="flagged", limit=1, cursor=flagged["next_cursor"]
    )
    assert [(i["comment_id"], i["flag_count"]) for i in second["items"]] == [("t1", 1)]
    assert second["next_cursor"] is None


async def test_holds_and_moderator_decisions(ingest: Client, query: Client, worker: Worker) -> None:
    """A pre-moderated thread holds new comments in the pending queue with the reason; approval
    shows them, rejection keeps them out, and neither thread nor timeline serves held comments."""
    events = [
        ev("ArticlePublished", 0, article_id="art", title="T", premoderated=True),
        post("c1", 1),
        post("c2", 2),
        post("c3", 3, body="see http://a.example http://b.example http://c.example"),
    ]
    await send(ingest, query, events)
    pending = await get(query, "/v1/moderation/queue", status="pending")
    assert [(i["comment_id"], i["hold_reasons"]) for i in pending["items"]] == [
        ("c1", ["premoderation"]),
        ("c2", ["premoderation"]),
        ("c3", ["premoderation", "links:3>2"]),
    ]
    assert (await get(query, "/v1/articles/art/thread"))["comments"] == []
    assert (await get(query, "/v1/authors/ann/timeline"))["items"] == []
    await send(
        ingest,
        query,
        [
            ev(
                "CommentModerated",
                4,
                article_id="art",
                comment_id="c1",
                moderator_id="m",
                action="approve",
            ),
            ev(
                "CommentModerated",
                4,
                article_id="art",
                comment_id="c2",
                moderator_id="m",
                action="reject",
                note="off topic",
            ),
        ],
    )
    thread = await get(query, "/v1/articles/art/thread")
    assert [c["comment_id"] for c in thread["comments"]] == ["c1"]
    assert [i["comment_id"] for i in (await get(query, "/v1/moderation/queue"))["items"]] == ["c3"]
