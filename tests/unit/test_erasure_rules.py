"""AuthorErased in the pure fold: an author's text and name leave every row, in any order."""

from events import (
    ArticlePublished,
    AuthorBanned,
    AuthorErased,
    CommentEdited,
    CommentFlagged,
    CommentPosted,
)
from projections.threads.fold import ReadModels
from tests.unit.test_lifecycle import Thread, _orders

SECRET = "zebra-pancake"


def _scene(t: Thread) -> list:  # type: ignore[type-arg]
    """Mira posts, is replied to, edits, flags Olga's comment with a note, is flagged by Olga,
    and bans someone (as a moderator) with a reason of her own; then she is erased."""
    return [
        t.at(0, ArticlePublished(article_id="a1", title="T")),
        t.at(
            1,
            CommentPosted(
                article_id="a1",
                comment_id="m1",
                author_id="mira",
                author_name="Mira K.",
                body=f"{SECRET} one",
            ),
        ),
        t.at(
            2,
            CommentPosted(
                article_id="a1", comment_id="o1", author_id="olga", body="reply", parent_id="m1"
            ),
        ),
        t.at(
            3,
            CommentEdited(article_id="a1", comment_id="m1", editor_id="mira", body=f"{SECRET} two"),
        ),
        t.at(
            4,
            CommentFlagged(
                article_id="a1",
                comment_id="o1",
                flagger_id="mira",
                reason="other",
                note=f"{SECRET} note",
            ),
        ),
        t.at(
            5,
            CommentFlagged(
                article_id="a1",
                comment_id="m1",
                flagger_id="olga",
                reason="spam",
                note="olga's own note",
            ),
        ),
        t.at(6, AuthorBanned(author_id="troll", moderator_id="mira", reason=f"{SECRET} ban")),
        t.at(7, AuthorErased(author_id="mira", moderator_id="mod", reason="Art. 17")),
    ]


def _texts(model: ReadModels) -> str:
    return repr(model.snapshot())


def test_erasure_removes_the_authors_text_and_name_from_every_row() -> None:
    """After AuthorErased, no row holds the author's text or name: their comment is a tombstone
    marked erased, its edit history is gone, their flag note and ban reason are gone; the reply
    keeps its place, and other people's notes stay."""
    t = Thread()
    model = ReadModels()
    model.fold(_scene(t))
    assert SECRET not in _texts(model)
    assert "Mira K." not in _texts(model)
    mira = model.state.comments[("a1", "m1")]
    assert (mira.status, mira.erased, mira.body, mira.author_name) == ("deleted", True, "", None)
    assert model.state.comments[("a1", "o1")].status == "visible"
    assert "olga's own note" in _texts(model)
    [comments] = [model.snapshot()["comments"]]
    counts = {row[1]: row for row in comments}
    assert counts["m1"] is not None
    assert (
        model.snapshot()["erased_authors"] == [("mira",)]
        or model.snapshot()["erased_authors"][0][0] == "mira"
    )


def test_erasure_commutes_with_the_authors_events() -> None:
    """Whichever the worker applies first, the erasure or the author's events (another
    partition), the read models end the same: a post applied after the erasure is erased too."""
    t = Thread()
    scene = _scene(t)
    # The article's events and the two author-keyed events: every interleaving of the keys.
    models = _orders(*scene[1:])
    assert len(models) > 2
    snapshots = [m.snapshot() for m in models]
    assert all(s == snapshots[0] for s in snapshots)
    assert SECRET not in repr(snapshots[0])
