"""The query service's pure parts: nesting a page into a tree, and opaque cursors."""

from datetime import UTC, datetime, timedelta

import pytest

from services.query.cursors import Cursor, decode_cursor, encode_cursor
from services.query.handlers import as_api_error
from services.query.read_errors import InvalidCursor
from services.query.tree import build_tree

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def row(comment_id: str, parent_id: str | None, minute: int) -> dict[str, object]:
    return {
        "comment_id": comment_id,
        "parent_id": parent_id,
        "author_id": "u",
        "author_name": None,
        "body": comment_id,
        "posted_at": T0 + timedelta(minutes=minute),
        "reply_count": 0,
        "flag_count": 0,
        "status": "visible",
        "edited_at": None,
        "featured": False,
        "pinned": False,
        "score": 0,
        "erased": False,
    }


def shape(views: list) -> list:  # type: ignore[type-arg]
    return [(v.comment_id, shape(v.replies)) for v in views]


def test_replies_nest_oldest_first_under_roots_in_page_order() -> None:
    """Roots keep the page's order; replies at every depth are sorted oldest first."""
    roots = [row("r2", None, 5), row("r1", None, 1)]
    descendants = [row("b", "r1", 9), row("a", "r1", 3), row("a1", "a", 4), row("x", "r2", 6)]
    assert shape(build_tree(roots, descendants, lambda r: f"after-{r['comment_id']}")) == [
        ("r2", [("x", [])]),
        ("r1", [("a", [("a1", [])]), ("b", [])]),
    ]


def test_more_replies_and_tombstones() -> None:
    """A comment says how many direct replies were not inlined and where to continue; a deleted
    comment is served without text or author."""
    root = row("r", None, 0) | {"reply_count": 3, "status": "deleted"}
    [view] = build_tree(
        [root], [row("a", "r", 1), row("b", "r", 2)], lambda r: f"after-{r['comment_id']}"
    )
    assert (view.more_replies, view.replies_cursor) == (1, "after-b")
    assert (view.body, view.author_id, view.author_name, view.status) == (
        None,
        None,
        None,
        "deleted",
    )
    [leaf] = build_tree([row("x", None, 0) | {"reply_count": 2}], [], str)
    assert (leaf.more_replies, leaf.replies_cursor) == (2, None)


def test_a_chain_deeper_than_the_recursion_limit_is_built() -> None:
    """Nesting has no depth cap: a chain of 5,000 replies builds without exhausting the stack."""
    chain = [row(f"n{i}", f"n{i - 1}" if i else "root", i + 1) for i in range(5000)]
    [root] = build_tree([row("root", None, 0)], chain, str)
    depth, node = 0, root
    while node.replies:
        depth, node = depth + 1, node.replies[0]
    assert depth == 5000


def test_cursor_round_trip_and_refusals() -> None:
    """A cursor decodes only for the listing and order that issued it; junk is a 400 on `cursor`."""
    cursor = Cursor("thread:oldest", T0, ["c1"])
    assert decode_cursor(encode_cursor(cursor), "thread:oldest", ("id",)) == cursor
    for token, kind in [
        (encode_cursor(cursor), "thread:newest"),
        ("!!", "thread:oldest"),
        ("e30", "timeline"),
    ]:
        with pytest.raises(InvalidCursor) as caught:
            decode_cursor(token, kind, ("id",))
        answer = as_api_error(caught.value)
        assert (answer.status, answer.code, answer.details[0].field) == (
            400,
            "invalid_cursor",
            "cursor",
        )
