"""The reference fold: the whole threads model in memory, decided by the same `evolve`.

Tests fold any sequence of events here and compare the result with what the worker wrote to
Postgres, table by table, as sorted tuples (`Snapshot`).
"""

from collections import Counter
from collections.abc import Iterable

from events import Envelope
from projections.policy import Policy
from projections.snapshot import Snapshot, normalized
from projections.threads.rules import evolve
from projections.threads.state import Outcome, State
from projections.threads.statuses import SHOWN, VISIBLE


class ReadModels:
    """Every row of the threads model, folded in memory."""

    def __init__(self, policy: Policy | None = None) -> None:
        self.policy = policy or Policy()
        self.state = State()
        self.seen_ids: set[str] = set()
        self.edits: list[tuple[object, ...]] = []
        self.outcomes: dict[str, tuple[object, ...]] = {}

    def fold(self, events: Iterable[Envelope]) -> None:
        """Apply events in log order, each event id once."""
        for event in events:
            if event.id in self.seen_ids:
                continue
            self.seen_ids.add(event.id)
            evolve(self.state, event, self.policy)
        state = self.state
        self.edits += [
            (e.article_id, e.comment_id, e.version, e.body, e.replaced_at, e.editor_id)
            for e in state.edits
        ]
        for o in state.outcomes.values():
            self.outcomes[o.event_id] = (o.event_id, o.event_type, o.outcome, o.reason, o.at)
        state.clear_changes()

    def park(self, outcome: Outcome) -> None:
        """A parked record's event (`threads.parked`): dead-lettered, unless an event of the
        same id applied before."""
        if outcome.event_id not in self.seen_ids:
            o = outcome
            self.outcomes[o.event_id] = (o.event_id, o.event_type, o.outcome, o.reason, o.at)

    def snapshot(self) -> Snapshot:
        """Every table's rows with derived counts, in the column order of `store.snapshot`."""
        s = self.state
        replies = Counter(
            (c.article_id, c.parent_id)
            for c in s.comments.values()
            if c.parent_id is not None and c.status in SHOWN
        )
        visible = Counter(c.article_id for c in s.comments.values() if c.status == VISIBLE)
        scores: Counter[tuple[str, str]] = Counter()
        for (article_id, comment_id, _), vote in s.votes.items():
            scores[(article_id, comment_id)] += vote
        return {
            "articles": normalized(
                (
                    a.article_id,
                    a.title,
                    a.url,
                    a.author,
                    a.published_at,
                    a.premoderated,
                    a.closed,
                    a.closed_reason,
                    visible[a.article_id],
                )
                for a in s.articles.values()
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
                    c.accepted_at,
                    c.own_status,
                    c.own_holds,
                    c.post_rejection,
                    c.banned,
                    c.status,
                    c.hold_reasons,
                    c.featured,
                    c.approved,
                    c.edited_at,
                    c.edit_count,
                    c.deleted_at,
                    replies[c.key],
                    len(s.flags.get(c.key, {})),
                    scores[c.key],
                    c.pinned,
                )
                for c in s.comments.values()
            ),
            "flags": normalized(
                (f.article_id, f.comment_id, f.flagger_id, f.reason, f.note, f.flagged_at)
                for flags in s.flags.values()
                for f in flags.values()
            ),
            "votes": normalized((*key, vote) for key, vote in s.votes.items() if vote),
            "bans": normalized(
                (b.author_id, b.banned_at, b.until, b.lifted_at, b.reason, b.moderator_id)
                for bans in s.bans.values()
                for b in bans
            ),
            "comment_edits": normalized(self.edits),
            "event_outcomes": normalized(self.outcomes.values()),
        }
