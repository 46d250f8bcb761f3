"""The threads model's comment statuses as SQL predicates, built from the rules' constants.

Every statement that filters comments by status (the write side's counts, the query service's
reads, the notifier) uses these, so a status is spelled once (`state`). schema.sql's partial
index predicates are DDL and spell them out; a unit test checks they agree with these.
"""

from projections.threads.statuses import PENDING, SHOWN, VISIBLE


def status_is(*statuses: str, column: str = "status") -> str:
    """`column = 'a'`, or `column in ('a', 'b')`: a predicate over comment statuses."""
    quoted = [f"'{status}'" for status in statuses]
    if len(quoted) == 1:
        return f"{column} = {quoted[0]}"
    return f"{column} in ({', '.join(quoted)})"


SHOWN_SQL = status_is(*SHOWN)
"""What a public read shows: visible comments and the tombstones of deleted ones."""
VISIBLE_SQL = status_is(VISIBLE)
"""What the comment counts count."""
PENDING_SQL = status_is(PENDING)
"""Held for a moderator."""
FLAGGED_SQL = f"flag_count > 0 and {VISIBLE_SQL} and not approved"
"""Flagged, still shown, and not yet approved by a moderator."""
TO_MODERATE_SQL = f"{PENDING_SQL} or ({FLAGGED_SQL})"
"""Either queue: the predicate of the moderation queue's partial index."""
