"""The import mark: history brought in from another comment system, and what only it may carry.

An imported event carries the CloudEvents extension attribute `importedfrom`, the format it was
read from. The mark stays in the log, so the worker (and every rebuild or replay) decides such an
event by the source's history, not by today's holds and windows (projections/threads/rules.py).
Only a key with the `import` scope may post it (services/auth/scopes.py). Pure.
"""

from typing import TYPE_CHECKING, Final, Literal, get_args

from events.catalog import CommentPosted
from events.problems import Problem

if TYPE_CHECKING:
    from events.envelope import Envelope

ImportSource = Literal["disqus", "wordpress", "isso", "remark42", "commento", "threadlog"]
"""The formats `threadlog import` reads; the value of an imported event's `importedfrom`."""

IMPORT_SOURCES: Final[tuple[str, ...]] = get_args(ImportSource)

IMPORT_ONLY_FIELDS: Final = {CommentPosted: ("held", "score")}
"""Data fields that describe a source's history (a comment it held, votes it counted without
voters): valid only on an imported event. A live producer holds a comment by the rules and
counts votes by `CommentVoted`."""


def import_only_problems(index: int, envelope: "Envelope") -> list[Problem]:
    """One problem per import-only field an unmarked event sets (none when it is marked)."""
    if envelope.importedfrom is not None:
        return []
    data = envelope.data
    if not isinstance(data, CommentPosted):
        return []
    found = []
    if data.held:
        found.append(Problem(index, "data.held", "Only an imported event may arrive held"))
    if data.score is not None:
        found.append(
            Problem(index, "data.score", "Only an imported event may carry a counted score")
        )
    return found
