"""The rules of a comment's events, one function per type (dispatched by `rules.evolve`).

Each reads only the comment its event names (and, for a post, its parent, its article and its
author's bans: what `write.rows_to_load` loads), and raises `Rejected` with the reason
when the event breaks a rule.
"""

from events import (
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
from projections.threads.lookups import Rejected, banned_at, find_comment, touch
from projections.threads.state import BANNED, CommentState, Edit, Flag, State
from projections.threads.statuses import DELETED, PENDING, REJECTED, VISIBLE

_VOTES = {"up": 1, "down": -1, "none": 0}

HELD_AT_SOURCE = "held_at_source"
"""The hold reason of an imported comment its source had not approved (`CommentPosted.held`)."""


def posted(state: State, event: Envelope, data: CommentPosted, policy: Policy) -> None:
    """A new comment, stored even when refused (so a later ban or decision commutes with it).

    Imported history (`importedfrom`) was decided by its source: no closed thread, ban,
    pre-moderation or automatic hold applies to it; it is held only when the source held it
    (`held`). Which parent it answers and whether that parent is gone still count."""
    key = (data.article_id, data.comment_id)
    if key in state.comments:
        raise Rejected("duplicate_comment_id")
    imported = event.importedfrom is not None
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
        imported_from=event.importedfrom,
        # Ingest and the codec refuse `score` unmarked; the fold ignores it there all the same.
        imported_score=(data.score or 0) if imported else 0,
    )
    state.add_comment(comment)
    if data.author_id in state.erased:
        comment.erase()
    touch(state, comment)
    # The row is stored even when rejected, so that the outcome does not depend on whether a
    # later ban or a moderator's decision was applied before or after it.
    article = state.articles.get(data.article_id)
    parent = state.comments.get((data.article_id, data.parent_id)) if data.parent_id else None
    comment.banned = not imported and banned_at(state, data.author_id, comment.accepted_at)
    if article is not None and article.closed and not imported:
        comment.post_rejection = "article_closed"
    elif parent is not None and parent.own_status in (DELETED, REJECTED):
        comment.post_rejection = f"parent_{parent.own_status}"
    if comment.post_rejection is not None:
        comment.own_status, comment.own_holds = REJECTED, [comment.post_rejection]
        raise Rejected(comment.post_rejection)
    if imported:
        holds = [HELD_AT_SOURCE] if data.held else []
    else:
        holds = policy.content_holds(data.body)
        if policy.premoderate_all or (article is not None and article.premoderated):
            holds.insert(0, "premoderation")
    if holds:
        comment.own_status, comment.own_holds = PENDING, holds
    if comment.banned:
        raise Rejected(BANNED)


def edited(state: State, event: Envelope, data: CommentEdited, policy: Policy) -> None:
    """The author changes the text within the edit window; the earlier text is kept. An
    imported edit (the source's history) knows no window, closed thread or hold."""
    comment = find_comment(state, data.article_id, data.comment_id)
    if comment.own_status == DELETED:
        raise Rejected("comment_deleted")
    if data.editor_id != comment.author_id:
        raise Rejected("not_author")
    imported = event.importedfrom is not None
    # The log's clocks, not the producer's: an edit cannot claim its post's time.
    if not imported and event.accepted_at - comment.accepted_at > policy.edit_window:
        raise Rejected("edit_window_expired")
    article = state.articles.get(data.article_id)
    if not imported and article is not None and article.closed:
        raise Rejected("article_closed")
    if not comment.erased:
        # An erased comment keeps no history: its text is gone, whichever came first.
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
        comment.body = data.body
    comment.edited_at = event.time
    comment.edit_count += 1
    holds = [] if imported else policy.content_holds(data.body)
    if holds and comment.own_status == VISIBLE:
        comment.own_status, comment.own_holds = PENDING, holds
    touch(state, comment)


def deleted(state: State, event: Envelope, data: CommentDeleted) -> None:
    """A tombstone: the text and the name go, the place in the tree stays."""
    comment = find_comment(state, data.article_id, data.comment_id)
    if comment.own_status == DELETED:
        raise Rejected("already_deleted")
    if data.deleted_by != comment.author_id and not data.moderator:
        raise Rejected("not_author")
    comment.own_status, comment.body, comment.author_name = DELETED, "", None
    comment.deleted_at, comment.featured, comment.pinned = event.time, False, False
    touch(state, comment)


def voted(state: State, data: CommentVoted) -> None:
    """One vote per voter on a visible comment; "none" withdraws it."""
    comment = find_comment(state, data.article_id, data.comment_id)
    if comment.own_status != VISIBLE:
        raise Rejected("comment_not_visible")
    key = (data.article_id, data.comment_id, data.voter_id)
    state.votes[key] = _VOTES[data.vote]
    state.dirty_votes.add(key)
    touch(state, comment)


def flagged(state: State, event: Envelope, data: CommentFlagged, policy: Policy) -> None:
    """One flag per reader; the threshold's flag holds the comment unless approved, or unless
    it is imported (the source decided what its flags did; they count toward later ones)."""
    comment = find_comment(state, data.article_id, data.comment_id)
    flags = state.flags.setdefault(comment.key, {})
    if data.flagger_id in flags:
        raise Rejected("already_flagged")
    flag = Flag(
        article_id=data.article_id,
        comment_id=data.comment_id,
        flagger_id=data.flagger_id,
        reason=data.reason,
        note=None if data.flagger_id in state.erased else data.note,
        flagged_at=event.time,
    )
    flags[data.flagger_id] = flag
    state.new_flags.append(flag)
    # A moderator's approval stands: flags hold a comment only until someone decided.
    held = (
        event.importedfrom is None
        and len(flags) >= policy.flag_threshold
        and comment.own_status == VISIBLE
    )
    if held and not comment.approved:
        comment.own_status = PENDING
        comment.own_holds = [*comment.own_holds, "flagged"]
    touch(state, comment)


def moderated(state: State, data: CommentModerated) -> None:
    """A moderator's decision: approve, reject, feature or unfeature."""
    comment = find_comment(state, data.article_id, data.comment_id)
    if comment.own_status == DELETED:
        raise Rejected("comment_deleted")
    match data.action:
        case "approve":
            comment.own_status, comment.own_holds, comment.approved = VISIBLE, [], True
        case "reject":
            comment.own_status, comment.featured, comment.pinned = REJECTED, False, False
            comment.own_holds = ["moderator"]
        case "feature":
            if comment.own_status != VISIBLE:
                raise Rejected("comment_not_visible")
            comment.featured = True
        case "unfeature":
            comment.featured = False
    touch(state, comment)


def pinned(state: State, data: CommentPinned) -> None:
    """A visible comment leads its thread. Reads `own_status`: a ban hides a comment without
    deciding it, so a pin applies and shows once the ban is lifted."""
    comment = find_comment(state, data.article_id, data.comment_id)
    if comment.own_status != VISIBLE:
        raise Rejected("comment_not_visible")
    comment.pinned = True
    touch(state, comment)


def unpinned(state: State, data: CommentUnpinned) -> None:
    """The comment goes back to its place in the thread."""
    comment = find_comment(state, data.article_id, data.comment_id)
    comment.pinned = False
    touch(state, comment)
