"""What a page may cost: its parameters normalised and cut to a bound on its comments. Pure.

A page inlines up to `per_level` replies under each comment, `depth` levels down, under `limit`
comments: up to limit x (1 + per_level + ... + per_level^depth) comments, which the parameters'
own ranges put in the billions. Cut to `max_comments`, deepest levels first, then fewer replies
per level, every page costs at most that much to build, whatever the thread. Parameters that ask
the same page (no replies inlined: any depth; no depth: any replies) come out equal, so they share
one entry of the page cache rather than each costing a build.
"""

from typing import NamedTuple


class PageShape(NamedTuple):
    """A page's top-level size and how much of each comment's replies it inlines."""

    limit: int
    per_level: int
    depth: int

    def worst_case(self) -> int:
        """The most comments a page of this shape can hold, inlined replies included."""
        level, total = self.limit, self.limit
        for _ in range(self.depth):
            level *= self.per_level
            total += level
        return total


def bounded(limit: int, per_level: int, depth: int, max_comments: int) -> PageShape:
    """The shape to build for these parameters: the same page when it fits in `max_comments`,
    else the one with the fewest levels (then replies) cut that does."""
    if per_level == 0 or depth == 0:
        return PageShape(limit, 0, 0)
    shape = PageShape(limit, per_level, depth)
    while shape.depth > 1 and shape.worst_case() > max_comments:
        shape = shape._replace(depth=shape.depth - 1)
    if shape.worst_case() > max_comments:
        # One level still too wide: limit x (1 + per_level) <= max_comments.
        per_level = max(0, max_comments // limit - 1)
        return PageShape(limit, per_level, 1 if per_level else 0)
    return shape
