"""The demo reader backend turns a reader's action into the event a site's backend would post."""

import msgspec
import pytest

from events import CommentFlagged, CommentPosted, CommentVoted, Limits, decode_request
from services.web.reader import ReaderAction, event_for


def _action(**fields: object) -> ReaderAction:
    body = {"article_id": "a1", "reader_id": "reader-1", **fields}
    action: ReaderAction = msgspec.convert(body, ReaderAction)
    return action


@pytest.mark.parametrize(
    ("fields", "kind"),
    [
        ({"action": "post", "reader_name": "Mira", "body": "Sources?"}, CommentPosted),
        (
            {"action": "post", "reader_name": "Mira", "body": "Sources?", "parent_id": "c3"},
            CommentPosted,
        ),
        ({"action": "vote", "comment_id": "c1", "vote": "up"}, CommentVoted),
        ({"action": "flag", "comment_id": "c1", "reason": "hate", "note": "Slur."}, CommentFlagged),
    ],
)
def test_each_action_is_an_event_ingest_accepts(fields: dict[str, str], kind: type) -> None:
    """The envelope passes ingest's own validation, as the reader, with its fields."""
    envelope, new_id = event_for(_action(**fields))
    (decoded,) = decode_request(msgspec.json.encode(envelope), Limits())
    assert isinstance(decoded.data, kind)
    assert isinstance(decoded.data, CommentPosted | CommentVoted | CommentFlagged)
    assert decoded.data.article_id == "a1"
    if isinstance(decoded.data, CommentPosted):
        assert decoded.data.author_id == "reader-1"
        assert decoded.data.comment_id == new_id
        assert decoded.data.parent_id == fields.get("parent_id")
    else:
        assert new_id is None


def test_a_post_gets_a_new_comment_id_each_time() -> None:
    """Two posts of the same text are two comments, not one applied twice."""
    action = _action(action="post", reader_name="Mira", body="Same.")
    assert event_for(action)[1] != event_for(action)[1]


def test_an_unknown_action_is_refused() -> None:
    """Only post, vote and flag reach ingest through the demo key."""
    with pytest.raises(msgspec.ValidationError, match="Invalid value 'delete'"):
        _action(action="delete", comment_id="c1")
