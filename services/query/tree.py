"""Assemble a page of top-level comments and their descendants into nested views (pure)."""

from collections import defaultdict
from collections.abc import Sequence
from typing import Any, Protocol

from services.query.views import CommentView


class Row(Protocol):
    """A comments row (an asyncpg Record or a dict): comment_id, parent_id, author_id,
    author_name, body, posted_at, reply_count, flag_count."""

    def __getitem__(self, key: str, /) -> Any: ...


def build_tree(roots: Sequence[Row], descendants: Sequence[Row]) -> list[CommentView]:
    """Nest `descendants` under `roots` (kept in their order); replies go oldest first.

    A descendant whose parent is not among the rows is not reachable from the page and is left
    out. Built without recursion, so a chain of replies of any depth cannot exhaust the stack.
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
        built[row["comment_id"]] = CommentView(
            comment_id=row["comment_id"],
            parent_id=row["parent_id"],
            author_id=row["author_id"],
            author_name=row["author_name"],
            body=row["body"],
            posted_at=row["posted_at"],
            reply_count=row["reply_count"],
            flag_count=row["flag_count"],
            replies=[built[c["comment_id"]] for c in children.get(row["comment_id"], ())],
        )
    return [built[root["comment_id"]] for root in roots]
