"""The rules of a comment's life, decided in log order by the worker (pure: no I/O).

Ingest cannot see a consistent thread; the worker sees every event of a thread in log order, so
the rules live here and a replay decides exactly as the first run did. An event that breaks a
rule stays in the log and is recorded as rejected with a reason; nothing is dropped silently.
"""

from dataclasses import replace
from datetime import datetime
from typing import assert_never

from events import (
    ArticleClosed,
    ArticlePublished,
    ArticleReopened,
    ArticleUpdated,
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
from projections.policy import Policy
from projections.threads import comment_rules
from projections.threads.lookups import Rejected, banned_at, find_article, touch
from projections.threads.state import ArticleState, Ban, Outcome, State

__all__ = ["Rejected", "evolve"]


def evolve(state: State, event: Envelope, policy: Policy) -> Outcome:
    """Fold one event into `state`; return (and record) whether it applied or why not."""
    try:
        _apply(state, event, policy)
        outcome = Outcome(event.id, event.type, "applied", None, event.time)
    except Rejected as rejected:
        outcome = Outcome(event.id, event.type, "rejected", rejected.reason, event.time)
    state.outcomes[event.id] = outcome
    return outcome


def _apply(state: State, event: Envelope, policy: Policy) -> None:
    """Dispatch to the rule of the event's type. Exhaustive: a type of the `Event` union
    without a case here fails the type check (`assert_never`), and at run time would raise."""
    data = event.data
    match data:
        case ArticlePublished():
            _published(state, event, data)
        case ArticleUpdated():
            _updated(state, data)
        case ArticleClosed():
            _closed(state, data)
        case ArticleReopened():
            _reopened(state, data)
        case CommentPosted():
            comment_rules.posted(state, event, data, policy)
        case CommentEdited():
            comment_rules.edited(state, event, data, policy)
        case CommentDeleted():
            comment_rules.deleted(state, event, data)
        case CommentVoted():
            comment_rules.voted(state, data)
        case CommentFlagged():
            comment_rules.flagged(state, event, data, policy)
        case CommentModerated():
            comment_rules.moderated(state, data)
        case CommentPinned():
            comment_rules.pinned(state, data)
        case CommentUnpinned():
            comment_rules.unpinned(state, data)
        case AuthorBanned():
            _author_banned(state, event, data)
        case AuthorUnbanned():
            _author_unbanned(state, event, data)
        case AuthorErased():
            _author_erased(state, event, data)
        case _:
            assert_never(data)


def _published(state: State, event: Envelope, data: ArticlePublished) -> None:
    existing = state.articles.get(data.article_id)
    state.articles[data.article_id] = ArticleState(
        article_id=data.article_id,
        title=data.title,
        url=data.url,
        author=data.author,
        published_at=existing.published_at if existing else event.time,
        premoderated=data.premoderated,
        closed=existing.closed if existing else False,
        closed_reason=existing.closed_reason if existing else None,
    )
    state.dirty_articles.add(data.article_id)


def _updated(state: State, data: ArticleUpdated) -> None:
    updated = find_article(state, data.article_id)
    updated.title = data.title if data.title is not None else updated.title
    updated.url = data.url if data.url is not None else updated.url
    if data.premoderated is not None:
        updated.premoderated = data.premoderated


def _closed(state: State, data: ArticleClosed) -> None:
    closed = find_article(state, data.article_id)
    closed.closed, closed.closed_reason = True, data.reason


def _reopened(state: State, data: ArticleReopened) -> None:
    reopened = find_article(state, data.article_id)
    reopened.closed, reopened.closed_reason = False, None


def _author_banned(state: State, event: Envelope, data: AuthorBanned) -> None:
    at = event.accepted_at
    reason = None if data.moderator_id in state.erased else data.reason
    ban = Ban(data.author_id, at, data.until, None, reason, data.moderator_id)
    state.bans.setdefault(data.author_id, []).append(ban)
    state.dirty_bans.add(data.author_id)
    _recheck_bans(state, data.author_id, at)


def _author_unbanned(state: State, event: Envelope, data: AuthorUnbanned) -> None:
    at = event.accepted_at
    for ban in state.bans.get(data.author_id, []):
        if ban.banned_at <= at and (ban.lifted_at is None or ban.lifted_at > at):
            ban.lifted_at = at
    state.dirty_bans.add(data.author_id)
    _recheck_bans(state, data.author_id, at)


def _author_erased(state: State, event: Envelope, data: AuthorErased) -> None:
    """Every comment of the author becomes an erased tombstone, their flags' notes and their
    bans' reasons (as a moderator) go. Their events applied later are erased as they arrive
    (`comment_rules`), so the result does not depend on which the worker applied first."""
    author, at = data.author_id, event.accepted_at
    state.erased[author] = min(at, state.erased.get(author, at))
    state.dirty_erased.add(author)
    for comment in state.by_author.get(author, ()):
        if not comment.erased:
            comment.erase()
            touch(state, comment)
    for flags in state.flags.values():
        if author in flags:
            flags[author] = replace(flags[author], note=None)
    state.new_flags[:] = [
        replace(f, note=None) if f.flagger_id == author else f for f in state.new_flags
    ]
    for bans in state.bans.values():
        for ban in bans:
            if ban.moderator_id == author:
                ban.reason = None


def _recheck_bans(state: State, author_id: str, since: datetime) -> None:
    """After a ban or an unban at `since`, decide again which of the author's comments a ban
    covers (only those accepted since can change), whichever arrived first: a ban hides what it
    covers, an unban shows again what its ban hid, and each post's outcome follows. An
    imported ban covers from the source's time (`Envelope.accepted_at`)."""
    for comment in state.by_author.get(author_id, ()):
        # Imported history was decided by its source: no ban of ours covers it.
        if comment.accepted_at < since or comment.imported_from is not None:
            continue
        banned = banned_at(state, author_id, comment.accepted_at)
        if banned == comment.banned:
            continue
        comment.banned = banned
        touch(state, comment)
        outcome, reason = comment.post_outcome
        state.outcomes[comment.event_id] = Outcome(
            comment.event_id, "CommentPosted", outcome, reason, comment.posted_at
        )
