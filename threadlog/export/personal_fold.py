"""The personal export as a pure fold of the log: envelopes in, one person's document out.

Fed every event that names the person, and every event about a comment of theirs (a deletion
or a moderator's decision names the moderator, not them). Those come after the post in log
order, since a thread's events share one partition, so `wants` can tell them from the rest by
the comments seen so far. An event id the log holds twice (a producer's retry) counts once.
"""

from datetime import datetime
from typing import Literal, TypedDict

from aiokafka.structs import ConsumerRecord

from events import (
    AuthorBanned,
    AuthorErased,
    AuthorUnbanned,
    CommentDeleted,
    CommentEdited,
    CommentFlagged,
    CommentModerated,
    CommentPinned,
    CommentPosted,
    CommentUnpinned,
    CommentVoted,
    Envelope,
)
from threadlog.export.personal_document import (
    Ban,
    Comment,
    Deletion,
    Edit,
    Erasure,
    Flag,
    Logged,
    ModerationStep,
    OtherEvent,
    PersonalExport,
    Vote,
)
from threadlog.export.roles import roles


class _At(TypedDict):
    event_id: str
    time: datetime
    accepted_at: datetime
    importedfrom: str | None


class PersonalFold:
    """Builds `document` for `author_id` from the events added in log order."""

    def __init__(self, author_id: str, generated_at: datetime, log_read_to: dict[int, int]):
        self.author_id = author_id
        self.document = PersonalExport(
            author_id=author_id, generated_at=generated_at, log_read_to=log_read_to
        )
        self._quoted = f'"{author_id}"'.encode()
        self._comments: dict[tuple[str, str], Comment] = {}
        self._articles: set[bytes] = set()
        self._seen: set[str] = set()

    def wants(self, record: ConsumerRecord) -> bool:
        """Whether a record may concern the person, before it is decoded: its JSON holds their
        id (ids need no escaping in JSON), or it belongs to a thread they posted in."""
        value = record.value or b""
        return self._quoted in value or record.key in self._articles

    def add(self, envelope: Envelope) -> None:
        """Fold one event; those about neither the person nor a comment of theirs change
        nothing."""
        if envelope.id in self._seen:
            return
        self._seen.add(envelope.id)
        me, doc, data = self.author_id, self.document, envelope.data
        at: _At = {
            "event_id": envelope.id,
            "time": envelope.time,
            "accepted_at": envelope.accepted_at,
            "importedfrom": envelope.importedfrom,
        }
        mine = self._comments.get(
            (getattr(data, "article_id", ""), getattr(data, "comment_id", ""))
        )
        match data:
            case CommentPosted() if data.author_id == me:
                comment = Comment(
                    **at,
                    article_id=data.article_id,
                    comment_id=data.comment_id,
                    parent_id=data.parent_id,
                    author_name=data.author_name,
                    body=data.body,
                )
                doc.comments.append(comment)
                self._comments.setdefault((data.article_id, data.comment_id), comment)
                self._articles.add(data.article_id.encode())
                if data.author_name and data.author_name not in doc.names:
                    doc.names.append(data.author_name)
            case CommentEdited() if mine is not None and data.editor_id == me:
                mine.edits.append(Edit(**at, body=data.body))
            case CommentDeleted() if mine is not None:
                by: Literal["author", "moderator"] = (
                    "author" if data.deleted_by == me else "moderator"
                )
                mine.deletions.append(Deletion(**at, by=by, reason=data.reason))
            case CommentModerated() if mine is not None:
                mine.moderation.append(ModerationStep(**at, action=data.action, note=data.note))
            case CommentPinned() | CommentUnpinned() if mine is not None:
                action: Literal["pin", "unpin"] = (
                    "pin" if isinstance(data, CommentPinned) else "unpin"
                )
                mine.moderation.append(ModerationStep(**at, action=action, note=data.note))
            case CommentVoted() if data.voter_id == me:
                doc.votes.append(
                    Vote(
                        **at, article_id=data.article_id, comment_id=data.comment_id, vote=data.vote
                    )
                )
            case CommentFlagged() if data.flagger_id == me:
                doc.flags.append(
                    Flag(
                        **at,
                        article_id=data.article_id,
                        comment_id=data.comment_id,
                        reason=data.reason,
                        note=data.note,
                    )
                )
            case AuthorBanned() if data.author_id == me:
                doc.bans.append(Ban(**at, kind="banned", until=data.until, reason=data.reason))
            case AuthorErased() if data.author_id == me:
                if doc.erased is None:
                    doc.erased = Erasure(**at)
            case AuthorUnbanned() if data.author_id == me:
                doc.bans.append(Ban(**at, kind="unbanned", reason=data.reason))
            case _:
                if named := roles(data, me):
                    doc.other_events.append(
                        OtherEvent(
                            **at,
                            type=envelope.type,
                            roles=named,
                            article_id=getattr(data, "article_id", None),
                            comment_id=getattr(data, "comment_id", None),
                        )
                    )

    def finish(self, log_read_to: dict[int, int]) -> PersonalExport:
        """The document, each list in the order the log accepted its events."""
        doc = self.document
        doc.log_read_to = log_read_to
        for items in (doc.comments, doc.votes, doc.flags, doc.bans, doc.other_events):
            items.sort(key=lambda item: (item.accepted_at, item.event_id))
        return doc

    def logged(self) -> list[Logged]:
        """Every event of the document, for their outcomes."""
        doc = self.document
        found: list[Logged] = []
        for comment in doc.comments:
            found += [comment, *comment.edits, *comment.deletions, *comment.moderation]
        erasure = [doc.erased] if doc.erased is not None else []
        return [*found, *doc.votes, *doc.flags, *doc.bans, *doc.other_events, *erasure]
