"""Assemble comments and their inlined replies into nested views (pure)."""

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from projections.threads.statuses import DELETED
from services.query.views import CommentView


class Row(Protocol):
    """A comments row (a Record or a dict) with the columns of `queries.COMMENT_COLUMNS`."""

    def __getitem__(self, key: str, /) -> Any: ...


def build_tree(
    roots: Sequence[Row], descendants: Sequence[Row], cursor_after: Callable[[Row], str]
) -> list[CommentView]:
    """Nest `descendants` under `roots` (kept in their order); replies go oldest first.

    `cursor_after(row)` makes the cursor that continues a comment's replies after `row`. A
    descendant whose parent is not among the rows is left out. Built without recursion, so a
    chain of replies of any depth cannot exhaust the stack.
    """
    children: dict[str, list[Row]] = defaultdict(list)
    for row in sorted(descendants, key=lambda r: (r["posted_at"], r["comment_id"])):
        children[row["parent_id"]].append(row)
    # Breadth-first from the roots gives every reachable row after its parent; building the
    # views in the reverse of that order finds each row's replies already built.
    order: list[Row] = list(roots)
    for row in order:
        order.extend(children.get(row["comment_id"], ()))
    built: dict[str, CommentView] = {}
    for row in reversed(order):
        inlined = children.get(row["comment_id"], [])
        more = max(row["reply_count"] - len(inlined), 0)
        tombstone = row["status"] == DELETED
        built[row["comment_id"]] = CommentView(
            comment_id=row["comment_id"],
            parent_id=row["parent_id"],
            author_id=None if tombstone else row["author_id"],
            author_name=None if tombstone else row["author_name"],
            body=None if tombstone else row["body"],
            status=row["status"],
            posted_at=row["posted_at"],
            edited_at=row["edited_at"],
            featured=row["featured"],
            pinned=row["pinned"],
            score=row["score"],
            reply_count=row["reply_count"],
            flag_count=row["flag_count"],
            erased=row["erased"],
            replies=[built[c["comment_id"]] for c in inlined],
            more_replies=more,
            replies_cursor=cursor_after(inlined[-1]) if more and inlined else None,
        )
    return [built[root["comment_id"]] for root in roots]
