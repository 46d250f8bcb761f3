"""Pinned comments lead every sort of their thread, through ingest, Kafka, worker and query."""

from typing import Any

from litestar.testing import AsyncTestClient

from projections import Worker
from tests.integration.test_lifecycle_api import ev, get, post, send

Client = AsyncTestClient[Any]


def _pin(type_: str, comment_id: str, minute: float) -> dict[str, Any]:
    return ev(type_, minute, article_id="art", comment_id=comment_id, moderator_id="mod")


async def _order(query: Client, sort: str, limit: int) -> list[tuple[str, bool]]:
    """Every top-level comment of the thread, page after page of `limit`."""
    seen: list[tuple[str, bool]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"sort": sort, "limit": limit, "replies": 0}
        if cursor:
            params["cursor"] = cursor
        page = await get(query, "/v1/articles/art/thread", **params)
        seen += [(c["comment_id"], c["pinned"]) for c in page["comments"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return seen


async def test_pinned_comments_lead_every_sort_and_pages_go_on_after_them(
    ingest: Client, query: Client, worker: Worker
) -> None:
    """Pinned comments come first in oldest, newest and top order (in that order among
    themselves), marked `pinned`; paging one by one gives the same sequence, each comment once.
    A hidden comment is not pinned, an unknown one is refused, and unpinning puts a comment back
    in its place."""
    script = [
        ev("ArticlePublished", 0, article_id="art", title="T"),
        *(post(f"c{i}", i) for i in range(1, 6)),
        post("r1", 6, parent="c2"),
        ev("CommentVoted", 7, article_id="art", comment_id="c3", voter_id="v", vote="up"),
        ev("CommentDeleted", 7, article_id="art", comment_id="c5", deleted_by="ann"),
        _pin("CommentPinned", "c4", 8),
        _pin("CommentPinned", "c2", 8),
        gone := _pin("CommentPinned", "c5", 9),
        unknown := _pin("CommentPinned", "c9", 9),
    ]
    outcomes = await send(ingest, query, script)
    assert outcomes[gone["id"]]["reason"] == "comment_not_visible"
    assert outcomes[unknown["id"]]["reason"] == "unknown_comment"
    pinned = [("c2", True), ("c4", True)]
    expected = {
        "oldest": [*pinned, ("c1", False), ("c3", False), ("c5", False)],
        "newest": [*pinned[::-1], ("c5", False), ("c3", False), ("c1", False)],
        "top": [*pinned, ("c3", False), ("c1", False), ("c5", False)],
    }
    for sort, order in expected.items():
        assert await _order(query, sort, 10) == order, sort
        assert await _order(query, sort, 1) == order, f"{sort}, one per page"
    await send(ingest, query, [_pin("CommentUnpinned", "c4", 10)])
    assert await _order(query, "oldest", 2) == [
        ("c2", True),
        ("c1", False),
        ("c3", False),
        ("c4", False),
        ("c5", False),
    ]
