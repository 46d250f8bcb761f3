"""Reads return results or domain errors; the query service's one mapping turns each into the
shared error shape with the status, code, field and message clients already rely on."""

import pytest

from services.errors import ApiError, ErrorDetail
from services.query.cursors import decode_cursor
from services.query.handlers import as_api_error
from services.query.read_errors import (
    AmbiguousCommentId,
    CommentNotFound,
    InvalidCursor,
    ReadError,
)


def test_a_bad_cursor_is_a_domain_error_not_an_http_one() -> None:
    """Below the handlers nothing speaks HTTP: decoding a cursor raises InvalidCursor."""
    with pytest.raises(InvalidCursor) as caught:
        decode_cursor("!!", "timeline", ("id", "id"))
    assert not isinstance(caught.value, ApiError)
    assert caught.value.why == "is not a cursor this service issued"


@pytest.mark.parametrize(
    ("error", "answer"),
    [
        (
            InvalidCursor("is longer than 2048 characters"),
            ApiError(
                400,
                "invalid_cursor",
                "The cursor is longer than 2048 characters; pass the next_cursor of the previous"
                " page unchanged, or omit it.",
                [ErrorDetail(field="cursor", message="Cursor is longer than 2048 characters")],
            ),
        ),
        (
            CommentNotFound("c1"),
            ApiError(404, "comment_not_found", "No comment 'c1' is served."),
        ),
        (
            AmbiguousCommentId("c1"),
            ApiError(
                409,
                "ambiguous_comment_id",
                "Comment id 'c1' is used in several articles; add ?article_id=.",
            ),
        ),
    ],
)
def test_each_read_error_keeps_its_http_answer(error: ReadError, answer: ApiError) -> None:
    """Status, code, message and details are what the service answered before the split."""
    mapped = as_api_error(error)
    assert (mapped.status, mapped.code, mapped.message, mapped.details) == (
        answer.status,
        answer.code,
        answer.message,
        answer.details,
    )
