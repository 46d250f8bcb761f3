"""The state the threads rules read and change: whole in memory, a window of it in the worker.

The worker loads, for each batch, exactly the rows the batch's events can read (`write`),
folds the events into them with `rules.evolve`, and writes back what changed. The in-memory
reference (`fold`) holds every row and runs the same `evolve`; tests compare the two.
"""

from dataclasses import dataclass, field
from datetime import datetime

from projections.threads.statuses import DELETED, PENDING, REJECTED, VISIBLE

CommentKey = tuple[str, str]
"""(article_id, comment_id): comment ids are unique within their article."""

BANNED = "author_banned"
"""The reason a ban gives, for the post it hides and in the comment's hold reasons."""


@dataclass
class ArticleState:
    """An article of the threads model."""

    article_id: str
    title: str
    url: str | None
    author: str | None
    published_at: datetime
    premoderated: bool = False
    closed: bool = False
    closed_reason: str | None = None


@dataclass
class CommentState:
    """A comment with its moderation state; counts are derived from other rows, not kept here.

    Two things decide whether a comment is served, and they are kept apart so that the result
    does not depend on how partitions interleave. `own_status` is decided by the thread's own
    events, all in one partition, in log order: the rules read only it. `banned` is an overlay
    from the author's bans (another partition): whether any of them covers `accepted_at`. It is
    recomputed whenever a ban or an unban arrives, so an unban gives back what its ban hid.
    `status` and `hold_reasons`, what readers see, are derived from the two.
    """

    article_id: str
    comment_id: str
    parent_id: str | None
    author_id: str
    author_name: str | None
    body: str
    posted_at: datetime
    """The producer's time, as shown to readers."""
    event_id: str
    accepted_at: datetime
    """When the log accepted the post (ingest's clock): the time bans and the edit window use."""
    own_status: str = VISIBLE
    own_holds: list[str] = field(default_factory=list)
    post_rejection: str | None = None
    """Why the thread's rules refused the post itself (closed thread, parent gone), if they did."""
    banned: bool = False
    featured: bool = False
    pinned: bool = False
    """Leads its thread's top-level comments, whatever the sort (a moderator's pin)."""
    erased: bool = False
    """Its author was erased (AuthorErased, another partition): an overlay like `banned`, so
    that the thread's own decisions, and with them every outcome, do not depend on whether
    the erasure was applied first. It shows as a tombstone without text or name."""
    approved: bool = False
    edited_at: datetime | None = None
    edit_count: int = 0
    deleted_at: datetime | None = None
    imported_from: str | None = None
    """The format the post was imported from (its `importedfrom`): imported history was
    decided by its source, so no ban ever covers it (`rules._recheck_bans`)."""
    imported_score: int = 0
    """The score its source counted without voters; the served score adds the votes to it."""

    @property
    def key(self) -> CommentKey:
        """Where the comment is stored."""
        return (self.article_id, self.comment_id)

    @property
    def hidden_by_ban(self) -> bool:
        """A ban hides what would otherwise be shown or waiting; decisions and tombstones stay."""
        return self.banned and self.own_status in (VISIBLE, PENDING)

    @property
    def status(self) -> str:
        """What readers see: a tombstone once its author is erased, else the thread's decision,
        unless a ban hides the comment."""
        if self.erased:
            return DELETED
        return REJECTED if self.hidden_by_ban else self.own_status

    @property
    def hold_reasons(self) -> list[str]:
        """Why the comment is not shown, as readers and moderators see it."""
        if self.erased:
            return []
        return [BANNED] if self.hidden_by_ban else self.own_holds

    def erase(self) -> None:
        """Drop the author's text and name (the comment's place and ids stay)."""
        self.erased, self.body, self.author_name = True, "", None

    @property
    def post_outcome(self) -> tuple[str, str | None]:
        """The outcome of the post that made the comment: refused by its thread's rules, else
        rejected while a ban covers it, else applied."""
        reason = self.post_rejection or (BANNED if self.banned else None)
        return ("rejected" if reason else "applied", reason)


@dataclass(frozen=True)
class Flag:
    """One reader's flag on one comment."""

    article_id: str
    comment_id: str
    flagger_id: str
    reason: str
    note: str | None
    flagged_at: datetime


@dataclass
class Ban:
    """A period in which an author may not comment: [banned_at, until or lifted_at)."""

    author_id: str
    banned_at: datetime
    until: datetime | None
    lifted_at: datetime | None
    reason: str | None
    moderator_id: str

    def covers(self, at: datetime) -> bool:
        """Whether `at` falls inside the ban."""
        ends = [t for t in (self.until, self.lifted_at) if t is not None]
        return self.banned_at <= at and all(at < end for end in ends)


@dataclass(frozen=True)
class Edit:
    """A comment's text before an edit: the thread keeps its history."""

    article_id: str
    comment_id: str
    version: int
    body: str
    replaced_at: datetime
    editor_id: str


@dataclass(frozen=True)
class Outcome:
    """What became of one event: applied, or rejected with a machine-readable reason."""

    event_id: str
    event_type: str
    outcome: str
    reason: str | None
    at: datetime


@dataclass
class State:
    """Rows of the threads model, and which of them the events folded so far changed."""

    articles: dict[str, ArticleState] = field(default_factory=dict)
    comments: dict[CommentKey, CommentState] = field(default_factory=dict)
    flags: dict[CommentKey, dict[str, Flag]] = field(default_factory=dict)
    votes: dict[tuple[str, str, str], int] = field(default_factory=dict)
    bans: dict[str, list[Ban]] = field(default_factory=dict)
    dirty_articles: set[str] = field(default_factory=set)
    dirty_comments: set[CommentKey] = field(default_factory=set)
    new_flags: list[Flag] = field(default_factory=list)
    dirty_votes: set[tuple[str, str, str]] = field(default_factory=set)
    dirty_bans: set[str] = field(default_factory=set)
    edits: list[Edit] = field(default_factory=list)
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    erased: dict[str, datetime] = field(default_factory=dict)
    """Authors erased (AuthorErased), with the earliest time the log accepted it: loaded for
    the batch's authors, flaggers and moderators, so that their later events are erased too."""
    dirty_erased: set[str] = field(default_factory=set)
    by_author: dict[str, list[CommentState]] = field(default_factory=dict)
    """Each author's comments: what a ban or an unban decides again, without a scan of all."""

    def add_comment(self, comment: CommentState) -> None:
        """Keep a comment (new, or loaded by the worker), findable by its key and its author."""
        self.comments[comment.key] = comment
        self.by_author.setdefault(comment.author_id, []).append(comment)

    def clear_changes(self) -> None:
        """Forget what changed (after writing it), keeping the rows."""
        self.dirty_articles.clear()
        self.dirty_comments.clear()
        self.new_flags.clear()
        self.dirty_votes.clear()
        self.dirty_bans.clear()
        self.dirty_erased.clear()
        self.edits.clear()
        self.outcomes.clear()
