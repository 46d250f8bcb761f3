"""Why a read cannot answer as asked: domain errors, which the handlers turn into HTTP answers.

Nothing here knows a status code; `services.query.handlers.as_api_error` is the one mapping.
"""

from typing import TypeAlias


class ReadRefused(Exception):
    """A read that cannot be answered as asked (the client's request, not a fault)."""


class InvalidCursor(ReadRefused):
    """A cursor token its listing never issued: forged, damaged, or from another listing."""

    def __init__(self, why: str) -> None:
        super().__init__(f"The cursor {why}")
        self.why = why
        """What is wrong with it, completing "The cursor ..."."""


class CommentNotFound(ReadRefused):
    """No served comment has this id (in this article, when one was named)."""

    def __init__(self, comment_id: str) -> None:
        super().__init__(f"No comment {comment_id!r} is served")
        self.comment_id = comment_id


class AmbiguousCommentId(ReadRefused):
    """Several articles serve a comment with this id, and no article was named."""

    def __init__(self, comment_id: str) -> None:
        super().__init__(f"Comment id {comment_id!r} is used in several articles")
        self.comment_id = comment_id


ReadError: TypeAlias = InvalidCursor | CommentNotFound | AmbiguousCommentId
"""Every error a read raises; the mapping to HTTP matches it exhaustively."""
