"""The rules of a comment's life, decided in log order by the worker (pure: no I/O).

Ingest cannot see a consistent thread; the worker sees every event of a thread in log order, so
the rules live here and a replay decides exactly as the first run did. An event that breaks a
rule stays in the log and is recorded as rejected with a reason; nothing is dropped silently.
"""

from datetime import datetime

from events import (
    ArticleClosed,
    ArticlePublished,
    ArticleReopened,
    ArticleUpdated,
    AuthorBanned,
    AuthorUnbanned,
    CommentDeleted,
    CommentEdited,
    CommentFlagged,
    CommentModerated,
    CommentPosted,
    CommentVoted,
    Envelope,
)
from projections.policy import Policy
from projections.state import (
    BANNED,
    DELETED,
    PENDING,
    REJECTED,
    VISIBLE,
    ArticleState,
    Ban,
    CommentState,
    Edit,
    Flag,
    Outcome,
    State,
)

_VOTES = {"up": 1, "down": -1, "none": 0}


class Rejected(Exception):
    """An event broke a rule; `reason` is the machine-readable code stored as its outcome."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def evolve(state: State, event: Envelope, policy: Policy) -> Outcome:
    """Fold one event into `state`; return (and record) whether it applied or why not."""
    try:
        _apply(state, event, policy)
        outcome = Outcome(event.id, event.type, "applied", None, event.time)
    except Rejected as rejected:
        outcome = Outcome(event.id, event.type, "rejected", rejected.reason, event.time)
    state.outcomes[event.id] = outcome
    return outcome


def _article(state: State, article_id: str) -> ArticleState:
    article = state.articles.get(article_id)
    if article is None:
        raise Rejected("unknown_article")
    state.dirty_articles.add(article_id)
    return article


def _comment(state: State, article_id: str, comment_id: str) -> CommentState:
    comment = state.comments.get((article_id, comment_id))
    if comment is None:
        raise Rejected("unknown_comment")
    return comment


def _touch(state: State, comment: CommentState) -> None:
    state.dirty_comments.add(comment.key)


def _banned(state: State, author_id: str, at: datetime) -> bool:
    return any(ban.covers(at) for ban in state.bans.get(author_id, ()))


def _apply(state: State, event: Envelope, policy: Policy) -> None:  # one case per type
    match event.data:
        case ArticlePublished() as data:
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
        case ArticleUpdated() as data:
            updated = _article(state, data.article_id)
            updated.title = data.title if data.title is not None else updated.title
            updated.url = data.url if data.url is not None else updated.url
            if data.premoderated is not None:
                updated.premoderated = data.premoderated
        case ArticleClosed() as data:
            closed = _article(state, data.article_id)
            closed.closed, closed.closed_reason = True, data.reason
        case ArticleReopened() as data:
            reopened = _article(state, data.article_id)
            reopened.closed, reopened.closed_reason = False, None
        case CommentPosted() as data:
            _post(state, event, data, policy)
        case CommentEdited() as data:
            comment = _comment(state, data.article_id, data.comment_id)
            if comment.own_status == DELETED:
                raise Rejected("comment_deleted")
            if data.editor_id != comment.author_id:
                raise Rejected("not_author")
            # The log's clocks, not the producer's: an edit cannot claim its post's time.
            if event.accepted_at - comment.accepted_at > policy.edit_window:
                raise Rejected("edit_window_expired")
            article = state.articles.get(data.article_id)
            if article is not None and article.closed:
                raise Rejected("article_closed")
            state.edits.append(
                Edit(
                    article_id=comment.article_id,
                    comment_id=comment.comment_id,
                    version=comment.edit_count + 1,
                    body=comment.body,
                    replaced_at=event.time,
                    editor_id=data.editor_id,
                )
            )
            comment.body, comment.edited_at = data.body, event.time
            comment.edit_count += 1
            holds = policy.content_holds(data.body)
            if holds and comment.own_status == VISIBLE:
                comment.own_status, comment.own_holds = PENDING, holds
            _touch(state, comment)
        case CommentDeleted() as data:
            comment = _comment(state, data.article_id, data.comment_id)
            if comment.own_status == DELETED:
                raise Rejected("already_deleted")
            if data.deleted_by != comment.author_id and not data.moderator:
                raise Rejected("not_author")
            # A tombstone: the text and the name go, the place in the tree stays.
            comment.own_status, comment.body, comment.author_name = DELETED, "", None
            comment.deleted_at, comment.featured = event.time, False
            _touch(state, comment)
        case CommentVoted() as data:
            comment = _comment(state, data.article_id, data.comment_id)
            if comment.own_status != VISIBLE:
                raise Rejected("comment_not_visible")
            key = (data.article_id, data.comment_id, data.voter_id)
            state.votes[key] = _VOTES[data.vote]
            state.dirty_votes.add(key)
            _touch(state, comment)
        case CommentFlagged() as data:
            comment = _comment(state, data.article_id, data.comment_id)
            flags = state.flags.setdefault(comment.key, {})
            if data.flagger_id in flags:
                raise Rejected("already_flagged")
            flag = Flag(
                article_id=data.article_id,
                comment_id=data.comment_id,
                flagger_id=data.flagger_id,
                reason=data.reason,
                note=data.note,
                flagged_at=event.time,
            )
            flags[data.flagger_id] = flag
            state.new_flags.append(flag)
            # A moderator's approval stands: flags hold a comment only until someone decided.
            held = len(flags) >= policy.flag_threshold and comment.own_status == VISIBLE
            if held and not comment.approved:
                comment.own_status = PENDING
                comment.own_holds = [*comment.own_holds, "flagged"]
            _touch(state, comment)
        case CommentModerated() as data:
            comment = _comment(state, data.article_id, data.comment_id)
            if comment.own_status == DELETED:
                raise Rejected("comment_deleted")
            match data.action:
                case "approve":
                    comment.own_status, comment.own_holds, comment.approved = VISIBLE, [], True
                case "reject":
                    comment.own_status, comment.featured = REJECTED, False
                    comment.own_holds = ["moderator"]
                case "feature":
                    if comment.own_status != VISIBLE:
                        raise Rejected("comment_not_visible")
                    comment.featured = True
                case "unfeature":
                    comment.featured = False
            _touch(state, comment)
        case AuthorBanned() as data:
            at = event.accepted_at
            ban = Ban(data.author_id, at, data.until, None, data.reason, data.moderator_id)
            state.bans.setdefault(data.author_id, []).append(ban)
            state.dirty_bans.add(data.author_id)
            _recheck_bans(state, data.author_id, at)
        case AuthorUnbanned() as data:
            at = event.accepted_at
            for ban in state.bans.get(data.author_id, []):
                if ban.banned_at <= at and (ban.lifted_at is None or ban.lifted_at > at):
                    ban.lifted_at = at
            state.dirty_bans.add(data.author_id)
            _recheck_bans(state, data.author_id, at)


def _post(state: State, event: Envelope, data: CommentPosted, policy: Policy) -> None:
    key = (data.article_id, data.comment_id)
    if key in state.comments:
        raise Rejected("duplicate_comment_id")
    comment = CommentState(
        article_id=data.article_id,
        comment_id=data.comment_id,
        parent_id=data.parent_id,
        author_id=data.author_id,
        author_name=data.author_name,
        body=data.body,
        posted_at=event.time,
        event_id=event.id,
        accepted_at=event.accepted_at,
    )
    state.add_comment(comment)
    _touch(state, comment)
    # The row is stored even when rejected, so that the outcome does not depend on whether a
    # later ban or a moderator's decision was applied before or after it.
    article = state.articles.get(data.article_id)
    parent = state.comments.get((data.article_id, data.parent_id)) if data.parent_id else None
    comment.banned = _banned(state, data.author_id, comment.accepted_at)
    if article is not None and article.closed:
        comment.post_rejection = "article_closed"
    elif parent is not None and parent.own_status in (DELETED, REJECTED):
        comment.post_rejection = f"parent_{parent.own_status}"
    if comment.post_rejection is not None:
        comment.own_status, comment.own_holds = REJECTED, [comment.post_rejection]
        raise Rejected(comment.post_rejection)
    holds = policy.content_holds(data.body)
    if policy.premoderate_all or (article is not None and article.premoderated):
        holds.insert(0, "premoderation")
    if holds:
        comment.own_status, comment.own_holds = PENDING, holds
    if comment.banned:
        raise Rejected(BANNED)


def _recheck_bans(state: State, author_id: str, since: datetime) -> None:
    """After a ban or an unban at `since`, decide again which of the author's comments a ban
    covers (only those accepted since can change), whichever arrived first: a ban hides what it
    covers, an unban shows again what its ban hid, and each post's outcome follows."""
    for comment in state.by_author.get(author_id, ()):
        if comment.accepted_at < since:
            continue
        banned = _banned(state, author_id, comment.accepted_at)
        if banned == comment.banned:
            continue
        comment.banned = banned
        _touch(state, comment)
        outcome, reason = comment.post_outcome
        state.outcomes[comment.event_id] = Outcome(
            comment.event_id, "CommentPosted", outcome, reason, comment.posted_at
        )
