"""The reference fold: every read model in memory, with the same rules as the Postgres shell.

Tests fold any sequence of events here and compare the result with what the worker wrote to
Postgres, table by table, as sorted tuples (`Snapshot`).
"""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from events import Envelope
from projections.rows import ArticleRow, CommentRow, FlagRow, TimelineItemRow
from projections.threads import ThreadChanges, plan_threads
from projections.timelines import TimelineChanges, plan_timelines

Snapshot = dict[str, list[tuple[object, ...]]]
"""Table name to its rows, as tuples in a fixed column order, sorted."""


def _normal(value: object) -> object:
    # Postgres hands timestamps back in UTC; events may carry any offset for the same instant.
    return value.astimezone(UTC) if isinstance(value, datetime) else value


def normalized(rows: Iterable[tuple[object, ...]]) -> list[tuple[object, ...]]:
    """Rows with timestamps in UTC, in a total order that tolerates NULLs."""
    normal = [tuple(_normal(v) for v in row) for row in rows]
    return sorted(normal, key=lambda row: tuple((v is None, str(v)) for v in row))


@dataclass
class ReadModels:
    """The threads and timelines models held in dicts."""

    articles: dict[str, ArticleRow] = field(default_factory=dict)
    comments: dict[tuple[str, str], CommentRow] = field(default_factory=dict)
    flags: dict[tuple[str, str, str], FlagRow] = field(default_factory=dict)
    timeline: dict[tuple[str, str], TimelineItemRow] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)
    seen_ids: set[str] = field(default_factory=set)

    def apply_threads(self, changes: ThreadChanges) -> None:
        """Apply a batch's thread changes as `threads_store.write_threads` does."""
        for article in changes.articles:
            existing = self.articles.get(article.article_id)
            if existing is not None:
                article = ArticleRow(
                    article_id=article.article_id,
                    title=article.title,
                    url=article.url,
                    author=article.author,
                    published_at=existing.published_at,
                )
            self.articles[article.article_id] = article
        for comment in changes.comments:
            self.comments.setdefault((comment.article_id, comment.comment_id), comment)
        for flag in changes.flags:
            self.flags.setdefault((flag.article_id, flag.comment_id, flag.flagger_id), flag)

    def apply_timelines(self, changes: TimelineChanges) -> None:
        """Apply a batch's timeline changes as `timelines_store.write_timelines` does."""
        for item in changes.items:
            self.timeline.setdefault((item.article_id, item.comment_id), item)
        for title in changes.titles:
            self.titles[title.article_id] = title.title

    def fold(self, events: Iterable[Envelope]) -> None:
        """Apply events in log order, each event id once, in one batch."""
        fresh = []
        for event in events:
            if event.id not in self.seen_ids:
                self.seen_ids.add(event.id)
                fresh.append(event)
        self.apply_threads(plan_threads(fresh))
        self.apply_timelines(plan_timelines(fresh))

    def snapshot(self) -> Snapshot:
        """Every table's rows with derived counts, in the column order of `store.snapshot`."""
        replies = Counter(
            (c.article_id, c.parent_id) for c in self.comments.values() if c.parent_id is not None
        )
        flag_counts = Counter((f.article_id, f.comment_id) for f in self.flags.values())
        per_article = Counter(c.article_id for c in self.comments.values())
        return {
            "articles": normalized(
                (a.article_id, a.title, a.url, a.author, a.published_at, per_article[a.article_id])
                for a in self.articles.values()
            ),
            "comments": normalized(
                (
                    c.article_id,
                    c.comment_id,
                    c.parent_id,
                    c.author_id,
                    c.author_name,
                    c.body,
                    c.posted_at,
                    c.event_id,
                    replies[(c.article_id, c.comment_id)],
                    flag_counts[(c.article_id, c.comment_id)],
                )
                for c in self.comments.values()
            ),
            "flags": normalized(
                (f.article_id, f.comment_id, f.flagger_id, f.reason, f.note, f.flagged_at)
                for f in self.flags.values()
            ),
            "timeline_items": normalized(
                (t.author_id, t.article_id, t.comment_id, t.body, t.posted_at)
                for t in self.timeline.values()
            ),
            "timeline_articles": normalized(self.titles.items()),
        }
