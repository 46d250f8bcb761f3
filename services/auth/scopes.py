"""Scopes: what a key may do, and which scope each event type needs (as it declares). Pure."""

from collections.abc import Collection, Mapping, Sequence
from types import MappingProxyType
from typing import Final, Literal, get_args

from events import EVENT_TYPES, Event

Scope = Literal["produce", "moderate", "operate", "admin", "import"]
"""produce: content events; moderate: moderation events and the queue; operate: operator
endpoints; admin: everything; import: imported history (events marked `importedfrom`), of any
type, and nothing unmarked."""

SCOPES: Final[tuple[Scope, ...]] = get_args(Scope)

IMPORT: Final[Scope] = "import"
"""The scope an imported event needs, whatever its type. It is the only scope that may post the
mark, because a marked event escapes holds, the edit window, closed threads and bans; and it
grants nothing unmarked, so an importer's key cannot post live comments or moderate."""

MODERATOR_DELETION: Final = "CommentDeleted(moderator)"
"""How a deletion of someone else's comment (`moderator: true`) is named for its scope."""


class UndeclaredEvent(LookupError):
    """A scope was asked for a type no event class declares: a bug, never a default scope."""


def _declared(cls: type[Event]) -> Scope:
    scope: Scope | None = getattr(cls, "SCOPE", None)
    if scope is None or scope not in SCOPES:
        # Refuse to start rather than guess: a default would open a moderation event to every
        # producer (tests/unit/test_event_declarations.py names the gap first).
        raise TypeError(f"{cls.__name__} declares no SCOPE; add one to its class in events/")
    return scope


EVENT_SCOPES: Final[Mapping[str, Scope]] = MappingProxyType(
    {name: _declared(cls) for name, cls in EVENT_TYPES.items()} | {MODERATOR_DELETION: "moderate"}
)
"""The scope each event type needs, as its class declares it (`SCOPE` in events/catalog.py)."""


def scope_for_event(event_type: str) -> Scope:
    """The scope a key needs to post an event of this type (by its CloudEvents `type`).

    Ingest refuses an unknown type (422) before it asks; asking anyway is a bug, and raises
    `UndeclaredEvent` rather than unlocking anything.
    """
    try:
        return EVENT_SCOPES[event_type]
    except KeyError:
        raise UndeclaredEvent(f"no event type {event_type!r} is declared") from None


def grants(granted: Collection[str], needed: Scope) -> bool:
    """Whether a key holding `granted` may do what needs `needed`; `admin` may do everything."""
    return "admin" in granted or needed in granted


def missing_event_scopes(
    granted: Collection[str], types: Sequence[str], imported: Sequence[bool] = ()
) -> list[tuple[int, Scope]]:
    """(index, scope) of each event in a batch that `granted` does not allow; empty when all do.

    `imported[i]` says whether event i carries the import mark: then it needs `import` instead
    of its type's scope (missing entries: not marked)."""
    marks = list(imported) + [False] * (len(types) - len(imported))
    return [
        (index, needed)
        for index, (event_type, marked) in enumerate(zip(types, marks, strict=True))
        if not grants(granted, needed := IMPORT if marked else scope_for_event(event_type))
    ]
