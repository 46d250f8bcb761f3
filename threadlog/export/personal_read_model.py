"""What the threads read model adds to a personal export: each comment as served now, and what
became of each event. Two statements over its tables, both by index (the author's comments,
the outcomes by event id); the read model's own read side (projections/threads/queries.py) has
no statement for either, since only this export asks."""

from projections.sql_rows import Conn
from threadlog.export.personal_document import Outcome, Served
from threadlog.export.personal_fold import PersonalFold

_SERVED = """
    select event_id, status, hold_reasons, body, score, featured, pinned
    from comments where author_id = $1
"""
_OUTCOMES = "select event_id, outcome, reason from event_outcomes where event_id = any($1::text[])"


async def fill_in(conn: Conn, fold: PersonalFold) -> None:
    """Set each comment's `served` state and each event's `outcome` from the read model."""
    served = {
        row["event_id"]: Served(
            status=row["status"],
            hold_reasons=list(row["hold_reasons"]),
            body=row["body"],
            score=row["score"],
            featured=row["featured"],
            pinned=row["pinned"],
        )
        for row in await conn.fetch(_SERVED, fold.author_id)
    }
    # A comment row carries the id of the post that created it: a second post under the same
    # comment id (refused as a duplicate) is not the row's.
    for comment in fold.document.comments:
        comment.served = served.get(comment.event_id)
    logged = fold.logged()
    ids = sorted({item.event_id for item in logged})
    outcomes = {
        row["event_id"]: Outcome(outcome=row["outcome"], reason=row["reason"])
        for row in await conn.fetch(_OUTCOMES, ids)
    }
    for item in logged:
        item.outcome = outcomes.get(item.event_id)
