"""The timelines projection's pure core: each author's comments across articles.

It keeps its own copy of article titles so that it can be rebuilt without the threads model.
"""

from collections.abc import Sequence

import msgspec

from events import ArticlePublished, CommentPosted, Envelope
from projections.rows import TimelineItemRow, TitleRow


class TimelineChanges(msgspec.Struct, frozen=True, kw_only=True):
    """Timeline items to insert (first post of a comment id wins) and titles to upsert."""

    items: list[TimelineItemRow]
    titles: list[TitleRow]


def plan_timelines(events: Sequence[Envelope]) -> TimelineChanges:
    """Fold a batch of events, in log order, into the changes the timelines model needs."""
    items: dict[tuple[str, str], TimelineItemRow] = {}
    titles: dict[str, TitleRow] = {}
    for event in events:
        match event.data:
            case ArticlePublished() as data:
                titles[data.article_id] = TitleRow(article_id=data.article_id, title=data.title)
            case CommentPosted() as data:
                items.setdefault(
                    (data.article_id, data.comment_id),
                    TimelineItemRow(
                        author_id=data.author_id,
                        article_id=data.article_id,
                        comment_id=data.comment_id,
                        body=data.body,
                        posted_at=event.time,
                    ),
                )
            case _:
                pass
    return TimelineChanges(items=list(items.values()), titles=list(titles.values()))
