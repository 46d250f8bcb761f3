"""What a stream sends from an article's history: nothing superseded, history re-read, and a
stream that fell behind the history is told so rather than silently skipping changes."""

import pytest

from services.query.change_history import Change, FellBehind, History


def change(offset: int, comment_id: str, body: str = "x") -> Change:
    """A change read when it was published."""
    return Change(offset, comment_id, "comment", body.encode())


def test_a_superseded_change_is_not_sent_and_history_is_read_again() -> None:
    """A comment posted then deleted is sent once, at its deletion; changes from before the
    stream followed live are marked to be read again, live ones are sent as read."""
    history = History(8)
    for c in [change(1, "a", "secret"), change(2, "b"), change(3, "a", "tombstone")]:
        history.append(c)
    sent = history.after(last=0, live_from=3)
    assert [(s.change.offset, s.change.comment_id, s.reread) for s in sent] == [
        (2, "b", True),
        (3, "a", True),
    ]
    history.append(change(4, "c"))
    assert [(s.change.offset, s.reread) for s in history.after(last=3, live_from=3)] == [(4, False)]


def test_a_stream_behind_what_the_history_holds_fell_behind() -> None:
    """Once a change the stream has not sent leaves the history, the stream fell behind; a
    stream that sent it, or anything newer, has not."""
    history = History(2)
    for offset in range(1, 4):
        history.append(change(offset, f"c{offset}"))
    with pytest.raises(FellBehind):
        history.after(last=0, live_from=3)
    assert [s.change.offset for s in history.after(last=1, live_from=3)] == [2, 3]


def test_an_erasure_forgets_every_stored_view() -> None:
    """After an erasure no change keeps the view it was read with: each is read again when
    sent, so an erased author's text held in memory never reaches a stream."""
    from services.query.change_history import Change, History

    history = History(4)
    history.append(Change(1, "c1", "comment", b'{"body": "zebra-pancake"}'))
    history.append(Change(2, "c2", "comment", b'{"body": "other"}'))
    history.forget_views()
    assert [c.data for c in history.changes] == [None, None]
    assert all(sent.reread for sent in history.after(0, live_from=5))
    assert history.changes.maxlen == 4
