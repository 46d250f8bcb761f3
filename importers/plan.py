"""From what a reader yields to the events of each article, in the order the log must hold them.

Pure: no Kafka, no PostgreSQL. Items are spilled to a temporary SQLite file (importers/spill.py)
and planned one article at a time, so memory is bounded by the largest article, not the file.

Per article: ArticlePublished; then the comments, parents before replies (the earliest comment
whose parent is in goes next, ties by id: the same comments in any file order give the same
events); each visible comment's votes and pin right after it; then the
deletions of the placeholders kept for deleted comments' replies; then ArticleClosed. What each
source status becomes, and why, is in the README ("Importing").
"""

import heapq
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal

import msgspec

from events.limits import Limits
from importers.bodies import clean_body, clean_line
from importers.ids import IdMaker, comment_id
from importers.source import SourceArticle, SourceComment, SourceItem, SourceProblem
from importers.spill import Spill, Spilled

PLACEHOLDER: Final = "[deleted]"
"""The body of a deleted comment kept because replies hang from it; deleted at the end."""
BY: Final = "import"
"""Who closed, deleted, rejected or pinned, for the moderation events an import writes."""
_TITLE_CHARS: Final = 500
_NAME_CHARS: Final = 200
_URL_CHARS: Final = 2048
_NAMES_KEPT: Final = 100_000

Fate = Literal["post", "hold", "tombstone", "skip"]


class PlannedEvent(msgspec.Struct, frozen=True):
    """One event as a producer would post it, before ingest's validation (importers/envelopes)."""

    id: str
    type: str
    time: datetime
    data: dict[str, Any]


class ArticlePlan(msgspec.Struct, kw_only=True):
    """One article's events and what the import says about it."""

    source: str
    """The source's key for the thread."""
    article_id: str
    events: list[PlannedEvent] = msgspec.field(default_factory=list)
    comments: int = 0
    """Comments imported with their text (visible or held)."""
    tombstones: int = 0
    """Deleted comments kept as placeholders for their replies."""
    skipped: dict[str, int] = msgspec.field(default_factory=dict)
    """Comments not imported, by reason: deleted, spam, empty_body, no_date, time_out_of_range,
    duplicate_id, article_deleted."""
    problems: list[SourceProblem] = msgspec.field(default_factory=list)
    """The reader's problems about this article, then the plan's (orphans, repairs)."""


@dataclass(eq=False, slots=True)
class _Node:
    comment: SourceComment
    seq: int
    id: str
    """The comment's id in the thread (comment_id of the source's)."""
    time: datetime | None
    """Its own time if usable; a placeholder's is its earliest reply's."""
    body: str = ""
    parent: "_Node | None" = None
    children: list["_Node"] = field(default_factory=list)
    fate: Fate = "skip"


class Planner:
    """Plans articles for one import: its ids, the deployment's limits, the map, `now`."""

    def __init__(
        self,
        ids: IdMaker,
        limits: Limits,
        now: datetime,
        article_map: Mapping[str, str] | None = None,
    ) -> None:
        self.ids = ids
        self.limits = limits
        self.latest = now + timedelta(seconds=limits.max_future_s)
        self.article_map = article_map or {}
        self._names: dict[str, str | None] = {}

    def _usable(self, time: datetime | None) -> datetime | None:
        if time is None:
            return None
        if time.tzinfo is None:  # readers give UTC; a reader that forgot the zone meant it
            time = time.replace(tzinfo=UTC)
        return time if self.limits.earliest_time <= time <= self.latest else None

    def article_id(self, key: str, article: SourceArticle | None) -> str:
        """The mapped id (by key, then by url), else the one derived from the key."""
        mapped = self.article_map.get(key)
        if mapped is None and article is not None and article.url is not None:
            mapped = self.article_map.get(article.url)
        return mapped if mapped is not None else self.ids.article_id(key)

    def plan_article(self, spilled: Spilled) -> ArticlePlan:
        """The events of one article, what was skipped and every problem."""
        article = spilled.article
        plan = ArticlePlan(
            source=spilled.key,
            article_id=self.article_id(spilled.key, article),
            problems=list(spilled.problems),
        )
        skipped: Counter[str] = Counter()
        if article is not None and article.deleted:
            skipped["article_deleted"] = len(spilled.comments)
            plan.skipped = dict(skipped)
            return plan
        if article is None:
            article = SourceArticle(key=spilled.key)
            self._problem(
                plan,
                "article",
                "unknown_article",
                "comments name an article the file does not describe;"
                " imported with its key as its title",
            )
        nodes = self._nodes(plan, spilled.comments, skipped)
        roots, order = self._link(plan, nodes)
        for node in order:
            self._decide(plan, node, skipped)
        self._emit(plan, article, roots)
        plan.skipped = {reason: n for reason, n in sorted(skipped.items())}
        return plan

    def _problem(self, plan: ArticlePlan, where: str, code: str, detail: str) -> None:
        plan.problems.append(
            SourceProblem(where=where, code=code, detail=detail, article_key=plan.source)
        )

    def _nodes(
        self, plan: ArticlePlan, comments: list[SourceComment], skipped: Counter[str]
    ) -> dict[str, _Node]:
        """Each comment once: the first of an id is kept, later ones reported and skipped."""
        nodes: dict[str, _Node] = {}
        for seq, comment in enumerate(comments):
            if comment.id in nodes:
                skipped["duplicate_id"] += 1
                self._problem(
                    plan,
                    f"comment {comment.id}",
                    "duplicate_id",
                    "a second comment with this id; the first is kept",
                )
                continue
            nodes[comment.id] = _Node(
                comment, seq, comment_id(comment.id), self._usable(comment.posted_at)
            )
        return nodes

    def _link(self, plan: ArticlePlan, nodes: dict[str, _Node]) -> tuple[list[_Node], list[_Node]]:
        """Attach replies to parents; orphans (parent missing, or in a loop) become top-level.
        The roots, and every node after its replies."""
        roots: list[_Node] = []
        for node in nodes.values():
            parent_id = node.comment.parent_id
            parent = nodes.get(parent_id) if parent_id is not None else None
            if parent_id is not None and (parent is None or parent is node):
                missing = (
                    "itself" if parent is node else f"{parent_id}, which is not in this article"
                )
                self._problem(
                    plan,
                    f"comment {node.comment.id}",
                    "orphan",
                    f"replies to {missing}; imported as a top-level comment",
                )
            if parent is None or parent is node:
                roots.append(node)
            else:
                node.parent = parent
                parent.children.append(node)
        order = _replies_first(roots)
        if len(order) == len(nodes):
            return roots, order
        reached = {id(n) for n in order}
        # What no root reaches hangs in a loop of parents: cut each loop at its first comment in
        # the file (nodes keep the file's order).
        for node in nodes.values():
            if id(node) in reached:
                continue
            loop_head = node
            assert loop_head.parent is not None
            loop_head.parent.children.remove(loop_head)
            loop_head.parent = None
            roots.append(loop_head)
            reached.update(id(n) for n in _replies_first([loop_head]))
            self._problem(
                plan,
                f"comment {node.comment.id}",
                "orphan",
                "its replies lead back to it (a loop of parents); imported as a top-level comment",
            )
        return roots, _replies_first(roots)

    def _decide(self, plan: ArticlePlan, node: _Node, skipped: Counter[str]) -> None:
        """What becomes of one comment, its replies already decided."""
        comment = node.comment
        reason = self._own_reason(plan, node)
        live = [child.time for child in node.children if child.fate != "skip"]
        if reason is None:
            node.fate = "hold" if comment.status == "pending" else "post"
        elif live:
            node.fate = "tombstone"
            node.time = node.time or min(t for t in live if t is not None)
        else:
            skipped[reason] += 1

    def _own_reason(self, plan: ArticlePlan, node: _Node) -> str | None:
        """Why the comment's own text is not imported, or None when it is."""
        comment = node.comment
        if comment.status in ("deleted", "spam"):
            return comment.status
        if node.time is None:
            return "no_date" if comment.posted_at is None else "time_out_of_range"
        body = clean_body(comment.body, self.limits.max_comment_chars)
        where = f"comment {comment.id}"
        if body.removed:
            self._problem(
                plan,
                where,
                "invalid_characters",
                f"{body.removed} invalid character(s) (NUL, controls) removed",
            )
        if body.blank:
            self._problem(plan, where, "empty_body", "no visible text; not imported")
            return "empty_body"
        if body.truncated:
            self._problem(
                plan,
                where,
                "truncated",
                f"longer than {self.limits.max_comment_chars}"
                " characters; cut, ending with the truncation mark",
            )
        node.body = body.text
        return None

    def _emit(self, plan: ArticlePlan, article: SourceArticle, roots: list[_Node]) -> None:
        article_id = plan.article_id
        events = plan.events
        tombstones: list[_Node] = []
        ready = [(n.time, n.id, n.seq, n) for n in roots if n.fate != "skip"]
        heapq.heapify(ready)
        while ready:
            *_, node = heapq.heappop(ready)
            assert node.time is not None
            events.extend(self._comment_events(article_id, node))
            if node.fate == "tombstone":
                tombstones.append(node)
            for child in node.children:
                if child.fate != "skip":
                    heapq.heappush(ready, (child.time, child.id, child.seq, child))
        if not events:
            return  # nothing to show: the article is left to the site to publish
        plan.comments = sum(1 for e in events if e.type == "CommentPosted") - len(tombstones)
        plan.tombstones = len(tombstones)
        last = max(e.time for e in events)
        for node in tombstones:
            events.append(
                self._event(
                    article_id,
                    node.id,
                    "deleted",
                    "CommentDeleted",
                    last,
                    deleted_by=BY,
                    moderator=True,
                )
            )
        first = min(e.time for e in events)
        title = (
            clean_line(article.title, _TITLE_CHARS)
            or clean_line(article.url, _TITLE_CHARS)
            or clean_line(article.key, _TITLE_CHARS)
            or article_id
        )
        published: dict[str, Any] = {"title": title}
        url = clean_line(article.url, _URL_CHARS)
        if url is not None:
            published["url"] = url
        when = self._usable(article.published_at) or first
        events.insert(
            0,
            self._event(
                article_id, "", "published", "ArticlePublished", min(when, first), **published
            ),
        )
        if article.closed:
            events.append(self._event(article_id, "", "closed", "ArticleClosed", last, by=BY))

    def _comment_events(self, article_id: str, node: _Node) -> Iterator[PlannedEvent]:
        comment, time = node.comment, node.time
        assert time is not None
        data: dict[str, Any]
        if node.fate == "tombstone":
            data = {"author_id": self.ids.deleted, "body": PLACEHOLDER}
        else:
            data = {"author_id": self.ids.author_id(comment.author_key), "body": node.body}
            name = self._name(comment.author_name)
            if name is not None:
                data["author_name"] = name
            if node.fate == "hold":
                data["held"] = True
            if comment.score is not None:
                data["score"] = comment.score
        if node.parent is not None:
            data["parent_id"] = node.parent.id
        yield self._event(article_id, node.id, "posted", "CommentPosted", time, **data)
        if node.fate != "post":
            return  # votes and pins are for comments readers see
        votes = {self.ids.author_id(v.voter_key): v.up for v in comment.votes}
        for voter, up in votes.items():
            yield self._event(
                article_id,
                node.id,
                f"vote.{voter}",
                "CommentVoted",
                time,
                voter_id=voter,
                vote="up" if up else "down",
            )
        if comment.pinned:
            yield self._event(article_id, node.id, "pinned", "CommentPinned", time, moderator_id=BY)

    def _name(self, name: str | None) -> str | None:
        """The name shown, cleaned once per name: authors comment many times."""
        if name is None:
            return None
        if name not in self._names:
            if len(self._names) >= _NAMES_KEPT:
                self._names.clear()
            self._names[name] = clean_line(name, _NAME_CHARS)
        return self._names[name]

    def _event(
        self, article_id: str, comment: str, kind: str, type_: str, time: datetime, **data: Any
    ) -> PlannedEvent:
        data["article_id"] = article_id
        if comment:
            data["comment_id"] = comment
        return PlannedEvent(self.ids.event_id(article_id, comment, kind), type_, time, data)


def _replies_first(roots: list[_Node]) -> list[_Node]:
    """Every node under `roots`, each after all of its replies: a pre-order walk (iterative:
    threads run deep), reversed."""
    order: list[_Node] = []
    stack = list(roots)
    while stack:
        node = stack.pop()
        order.append(node)
        stack.extend(node.children)
    order.reverse()
    return order


def plan_items(items: Iterable[SourceItem], planner: Planner) -> Iterator[ArticlePlan]:
    """Every article's plan (the command drives a Spill itself, to report progress and a fatal
    problem; here the articles read before a fatal problem are planned)."""
    with Spill() as spill:
        spill.fill(items)
        yield from (planner.plan_article(spilled) for spilled in spill.by_article())
