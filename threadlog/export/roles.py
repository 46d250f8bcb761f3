"""Which fields of an event name a person, and in which role: what `export --author` selects.

Declared once as field names; each type's person fields are derived from its Struct, so a new
event type that names a person in one of these fields is exported without a change here.
"""

from typing import Final

import msgspec

from events import EVENT_TYPES, AuthorBanned, AuthorUnbanned, Event

PERSON_FIELDS: Final = {
    "author_id": "author",
    "editor_id": "editor",
    "deleted_by": "deleter",
    "voter_id": "voter",
    "flagger_id": "flagger",
    "moderator_id": "moderator",
    "by": "moderator",
}
"""Each field that holds a person's id, with the role it names them in."""

_FIELDS_OF: Final = {
    cls: tuple(f.name for f in msgspec.structs.fields(cls) if f.name in PERSON_FIELDS)
    for cls in EVENT_TYPES.values()
}


def roles(data: Event, person: str) -> list[str]:
    """The roles in which `data` names `person` (empty when it does not): a ban's `author_id`
    names its target ("banned"), every other field the role of `PERSON_FIELDS`."""
    found = []
    for name in _FIELDS_OF[type(data)]:
        if getattr(data, name) == person:
            banned = name == "author_id" and isinstance(data, AuthorBanned | AuthorUnbanned)
            found.append("banned" if banned else PERSON_FIELDS[name])
    return found
