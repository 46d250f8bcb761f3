"""The import mark: history brought in from another comment system, and what only it may carry.

An imported event carries the CloudEvents extension attribute `importedfrom`, the format it was
read from. The mark stays in the log, so the worker (and every rebuild or replay) decides such an
event by the source's history, not by today's holds and windows (projections/threads/rules.py).
Only a key with the `import` scope may post it (services/auth/scopes.py). Pure.
"""

from collections.abc import Mapping
from typing import TYPE_CHECKING, Final, Literal, get_args

import msgspec

from events.catalog import CommentPosted, Event
from events.problems import Problem

if TYPE_CHECKING:
    from events.envelope import Envelope

ImportSource = Literal["disqus", "wordpress", "isso", "remark42", "commento", "threadlog"]
"""The formats `threadlog import` reads; the value of an imported event's `importedfrom`."""

IMPORT_SOURCES: Final[tuple[str, ...]] = get_args(ImportSource)

IMPORT_ONLY_FIELDS: Final[Mapping[type[Event], tuple[str, ...]]] = {
    CommentPosted: ("held", "score"),
}
"""Data fields that describe a source's history (a comment it held, votes it counted without
voters): valid only on an imported event, and optional, their default meaning "live". A live
producer holds a comment by the rules and counts votes with `CommentVoted`."""

_DEFAULTS: Final = {
    cls: {f.name: f.default for f in msgspec.structs.fields(cls) if f.name in names}
    for cls, names in IMPORT_ONLY_FIELDS.items()
}


def import_only_problems(index: int, envelope: "Envelope") -> list[Problem]:
    """One problem per import-only field an unmarked event sets (none when it is marked)."""
    defaults = _DEFAULTS.get(type(envelope.data))
    if defaults is None or envelope.importedfrom is not None:
        return []
    return [
        Problem(
            index,
            f"data.{name}",
            f"Only imported history (an event with `importedfrom`) may set `{name}`; leave it"
            " out of a live event",
        )
        for name, default in defaults.items()
        if getattr(envelope.data, name) != default
    ]
