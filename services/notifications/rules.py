"""Who gets notified of an event, decided purely from the event and its target's author.

- A reply notifies the author of the comment it replies to (not when they reply to themselves).
- A moderator's decision (approve, reject, feature, unfeature) notifies the comment's author, and
  so does a moderator deleting someone else's comment.
- Imported history (`importedfrom`) notifies nobody.

Whether the event took effect is not decided here: the log holds events the worker refuses, so
notifications are served only once the worker applied their event (see `store.py`).
"""

from datetime import datetime
from typing import Literal

import msgspec

from events import CommentDeleted, CommentModerated, CommentPosted, Envelope

Kind = Literal["reply", "moderation"]


class Notice(msgspec.Struct, frozen=True, kw_only=True):
    """One notification for one recipient, identified by (recipient_id, event_id)."""

    recipient_id: str
    event_id: str
    kind: Kind
    article_id: str
    comment_id: str
    """The recipient's comment."""
    actor_id: str
    """Who replied, or which moderator decided."""
    at: datetime
    reply_id: str | None = None
    action: str | None = None


def target(envelope: Envelope) -> tuple[str, str] | None:
    """The (article, comment) whose author an event may notify, or None for other events and
    for imported history (old news from another system: an import must not flood authors)."""
    if envelope.importedfrom is not None:
        return None
    match envelope.data:
        case CommentPosted(article_id=article, parent_id=str(parent)):
            return article, parent
        case CommentModerated(article_id=article, comment_id=comment):
            return article, comment
        case CommentDeleted(article_id=article, comment_id=comment, moderator=True):
            return article, comment
    return None


def notice(envelope: Envelope, target_author: str | None) -> Notice | None:
    """The notification `envelope` gives the author of its target, if any."""
    reply: str | None = None
    action: str | None = None
    if envelope.importedfrom is not None:
        return None
    match envelope.data:
        case CommentPosted(article_id=article, comment_id=reply, parent_id=str(comment)):
            kind: Kind = "reply"
            actor = envelope.data.author_id
        case CommentModerated(article_id=article, comment_id=comment, action=action):
            kind = "moderation"
            actor = envelope.data.moderator_id
        case CommentDeleted(article_id=article, comment_id=comment, moderator=True):
            kind, action = "moderation", "delete"
            actor = envelope.data.deleted_by
        case _:
            return None
    if target_author is None or actor == target_author:
        # Nobody is told about their own reply, or their own comment deleted by themselves.
        return None
    return Notice(
        recipient_id=target_author,
        event_id=envelope.id,
        kind=kind,
        article_id=article,
        comment_id=comment,
        actor_id=actor,
        at=envelope.time,
        reply_id=reply,
        action=action,
    )
