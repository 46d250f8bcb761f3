"""Scopes: what a key may do, and which scope each event type needs. Pure."""

from collections.abc import Collection, Sequence
from typing import Final, Literal, get_args

Scope = Literal["produce", "moderate", "operate", "admin"]
"""produce: content events; moderate: moderation events and the queue; operate: operator
endpoints; admin: everything."""

SCOPES: Final[tuple[Scope, ...]] = get_args(Scope)

MODERATOR_DELETION: Final = "CommentDeleted(moderator)"
"""How a deletion of someone else's comment (`moderator: true`) is named for its scope."""

_MODERATION_EVENTS: Final = frozenset(
    {
        "CommentModerated",
        "AuthorBanned",
        "AuthorUnbanned",
        "ArticleClosed",
        "ArticleReopened",
        MODERATOR_DELETION,
    }
)


def scope_for_event(event_type: str) -> Scope:
    """The scope a key needs to post an event of this type (by its CloudEvents `type`).

    Types not named here need `produce`: content is the default, and an unknown type is refused
    by validation anyway, so it must not unlock anything.
    """
    return "moderate" if event_type in _MODERATION_EVENTS else "produce"


def grants(granted: Collection[str], needed: Scope) -> bool:
    """Whether a key holding `granted` may do what needs `needed`; `admin` may do everything."""
    return "admin" in granted or needed in granted


def missing_event_scopes(granted: Collection[str], types: Sequence[str]) -> list[tuple[int, Scope]]:
    """(index, scope) of each event in a batch that `granted` does not allow; empty when all do."""
    return [
        (index, needed)
        for index, event_type in enumerate(types)
        if not grants(granted, needed := scope_for_event(event_type))
    ]
