"""The shape of `threadlog export --author ID --personal`: what threadlog holds about one person.

One JSON document for a data-access request (GDPR Art. 15). Its JSON Schema is published as
schemas/personal-export.v1.json (`threadlog schema` writes it from these Structs). Everything
comes from the log, which holds every event ever accepted, including the texts of edits and
deleted comments and the events the rules refused; each event's outcome and each comment's
state as served now come from the threads read model. Other people are not named: a moderator
who deleted, moderated or banned is "a moderator", and other readers' votes and flags on the
person's comments are not listed (their comments' `score` sums the votes).

The Structs are not frozen: the document is assembled as the log is read, then its outcomes and
served states are filled in from the read model.
"""

import json
from typing import Final, Literal

import msgspec

from events.fields import Timestamp

SCHEMA_ID: Final = "urn:threadlog:personal-export:1"
SCHEMA_FILE: Final = "personal-export.v1.json"


class Outcome(msgspec.Struct, kw_only=True):
    """What became of an event, as `GET /v1/events/{id}` answers it."""

    outcome: str
    """`applied`, `rejected` or `dead_lettered`."""
    reason: str | None = None
    """Why it was rejected (`edit_window_expired`, `article_closed`, ...)."""


class Logged(msgspec.Struct, kw_only=True):
    """An event of the log: its id, its producer's time and the time the log accepted it."""

    event_id: str
    time: Timestamp
    """The time the producer gave the event, as shown to readers."""
    accepted_at: Timestamp
    """When threadlog accepted it into the log (the time its rules go by)."""
    outcome: Outcome | None = None
    """None when the read model has not applied it (yet)."""
    importedfrom: str | None = None
    """The system it was imported from (`disqus`, ...), for imported history; None otherwise."""


class Edit(Logged, kw_only=True):
    """An edit of one of the person's comments, with the text it set."""

    body: str


class Deletion(Logged, kw_only=True):
    """A deletion of one of the person's comments."""

    by: Literal["author", "moderator"]
    reason: str | None = None


class ModerationStep(Logged, kw_only=True):
    """A moderator's decision on one of the person's comments."""

    action: Literal["approve", "reject", "feature", "unfeature", "pin", "unpin"]
    note: str | None = None


class Served(msgspec.Struct, kw_only=True):
    """The comment as the read model serves it now."""

    status: str
    """`visible`, `pending` (held for a moderator), `rejected` or `deleted`."""
    hold_reasons: list[str]
    body: str
    """The text shown now (the last edit's), kept after a deletion only in the log."""
    score: int
    featured: bool
    pinned: bool


class Comment(Logged, kw_only=True):
    """A comment the person posted, with everything that happened to it since."""

    article_id: str
    comment_id: str
    parent_id: str | None = None
    author_name: str | None = None
    body: str
    """The text as first posted; `edits` hold each later one."""
    edits: list[Edit] = msgspec.field(default_factory=list)
    deletions: list[Deletion] = msgspec.field(default_factory=list)
    moderation: list[ModerationStep] = msgspec.field(default_factory=list)
    served: Served | None = None
    """None when the read model holds no such comment of theirs (a refused duplicate id)."""


class Vote(Logged, kw_only=True):
    """A vote the person cast (`none` withdrew an earlier one)."""

    article_id: str
    comment_id: str
    vote: Literal["up", "down", "none"]


class Flag(Logged, kw_only=True):
    """A comment the person reported to the moderators."""

    article_id: str
    comment_id: str
    reason: str
    note: str | None = None


class Ban(Logged, kw_only=True):
    """A ban of the person, or its lifting."""

    kind: Literal["banned", "unbanned"]
    until: Timestamp | None = None
    reason: str | None = None


class OtherEvent(Logged, kw_only=True):
    """Any other event naming the person: acts as a moderator, an edit of someone else's
    comment (refused), and types added later."""

    type: str
    roles: list[str]
    """How the event names them: `moderator`, `editor`, `deleter`, ..."""
    article_id: str | None = None
    comment_id: str | None = None


class Erasure(Logged, kw_only=True):
    """The person's erasure (AuthorErased): their key is destroyed, so every text of theirs
    the log holds reads as `[erased]` (a name, a note, a reason: absent), here as everywhere.
    What is left is what the README's Erasure section says it keeps: ids, times, votes."""


class PersonalExport(msgspec.Struct, kw_only=True):
    """Everything threadlog holds about one person, from the log and the read model."""

    format: Literal["threadlog.personal-export"] = "threadlog.personal-export"
    version: Literal[1] = 1
    author_id: str
    generated_at: Timestamp
    log_read_to: dict[int, int]
    """The log as read: each partition's end offset when the export started."""
    names: list[str] = msgspec.field(default_factory=list)
    """The display names they posted under."""
    comments: list[Comment] = msgspec.field(default_factory=list)
    votes: list[Vote] = msgspec.field(default_factory=list)
    flags: list[Flag] = msgspec.field(default_factory=list)
    bans: list[Ban] = msgspec.field(default_factory=list)
    other_events: list[OtherEvent] = msgspec.field(default_factory=list)
    erased: Erasure | None = None
    """Set once the person was erased: then the document holds none of their text."""


def personal_export_schema() -> dict[str, object]:
    """The JSON Schema (2020-12) of the document, as published in schemas/."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **msgspec.json.schema(PersonalExport),
    }


def personal_export_files() -> dict[str, str]:
    """The published schema's text by its path under schemas/ (`threadlog schema` writes it)."""
    text = json.dumps(personal_export_schema(), indent=2, ensure_ascii=False) + "\n"
    return {SCHEMA_FILE: text}
