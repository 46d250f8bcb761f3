"""The reference fold: the whole threads model in memory, decided by the same `evolve`.

Tests fold any sequence of events here and compare the result with what the worker wrote to
Postgres, table by table, as sorted tuples (`Snapshot`).
"""

from collections import Counter
from collections.abc import Iterable

from events import Envelope
from projections.policy import Policy
from projections.snapshot import Snapshot, normalized
from projections.threads.columns import (
    ARTICLES,
    BANS,
    COMMENT_EDITS,
    COMMENTS,
    ERASED_AUTHORS,
    EVENT_OUTCOMES,
    FLAGS,
    VOTES,
)
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
        self.edits += [COMMENT_EDITS.snapshot_values(e) for e in state.edits]
        if state.dirty_erased:
            # What `write_state` deletes: the history of every erased comment.
            self.edits = [
                e for e in self.edits if not state.comments[(str(e[0]), str(e[1]))].erased
            ]
        for o in state.outcomes.values():
            self.outcomes[o.event_id] = EVENT_OUTCOMES.snapshot_values(o)
        state.clear_changes()

    def park(self, outcome: Outcome) -> None:
        """A parked record's event (`threads.parked`): dead-lettered, unless an event of the
        same id applied before."""
        if outcome.event_id not in self.seen_ids:
            self.outcomes[outcome.event_id] = EVENT_OUTCOMES.snapshot_values(outcome)

    def snapshot(self) -> Snapshot:
        """Every table's rows with derived counts, in each table's `columns` order."""
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
            ARTICLES.name: normalized(
                ARTICLES.snapshot_values(a, comment_count=visible[a.article_id])
                for a in s.articles.values()
            ),
            COMMENTS.name: normalized(
                COMMENTS.snapshot_values(
                    c,
                    reply_count=replies[c.key],
                    flag_count=len(s.flags.get(c.key, {})),
                    score=scores[c.key] + c.imported_score,
                )
                for c in s.comments.values()
            ),
            FLAGS.name: normalized(
                FLAGS.snapshot_values(f) for flags in s.flags.values() for f in flags.values()
            ),
            VOTES.name: normalized(
                VOTES.snapshot_values(None, **dict(zip(VOTES.key, key, strict=True)), vote=vote)
                for key, vote in s.votes.items()
                if vote
            ),
            BANS.name: normalized(
                BANS.snapshot_values(b) for bans in s.bans.values() for b in bans
            ),
            COMMENT_EDITS.name: normalized(self.edits),
            ERASED_AUTHORS.name: normalized(
                ERASED_AUTHORS.snapshot_values(None, author_id=a, erased_at=at)
                for a, at in s.erased.items()
            ),
            EVENT_OUTCOMES.name: normalized(self.outcomes.values()),
        }
