"""What every rule starts from: the row an event names (else the event is rejected), and how a
rule marks a row changed. Pure."""

from datetime import datetime

from projections.threads.state import ArticleState, CommentState, State


class Rejected(Exception):
    """An event broke a rule; `reason` is the machine-readable code stored as its outcome."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def find_article(state: State, article_id: str) -> ArticleState:
    """The article an event names, marked changed; else rejected `unknown_article`."""
    article = state.articles.get(article_id)
    if article is None:
        raise Rejected("unknown_article")
    state.dirty_articles.add(article_id)
    return article


def find_comment(state: State, article_id: str, comment_id: str) -> CommentState:
    """The comment an event names; else rejected `unknown_comment`."""
    comment = state.comments.get((article_id, comment_id))
    if comment is None:
        raise Rejected("unknown_comment")
    return comment


def touch(state: State, comment: CommentState) -> None:
    """Mark a comment changed: the shell writes it back."""
    state.dirty_comments.add(comment.key)


def banned_at(state: State, author_id: str, at: datetime) -> bool:
    """Whether a ban of the author covers the time `at`."""
    return any(ban.covers(at) for ban in state.bans.get(author_id, ()))
