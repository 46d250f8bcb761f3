"""Hypothesis strategies for event logs that exercise every rule of the threads projection.

Ids come from small pools so that logs collide on purpose: replies to comments that do not exist
yet or were deleted, comments before their article, the same comment id posted twice, edits by
someone else or after the window, votes changed and withdrawn, flags reaching the threshold,
moderators deciding, bans sweeping, and producer retries (the same event again, later in the log).
"""

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import strategies as st

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
    Event,
)

ARTICLES = ["a1", "a2", "a3"]
COMMENTS = [f"c{i}" for i in range(1, 7)]
PEOPLE = ["u1", "u2", "u3"]

_zones = st.sampled_from([UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5))])
texts = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cs"], exclude_characters="\x00"),
    min_size=1,
    max_size=12,
).filter(lambda s: s.strip() != "")
bodies = texts | st.sampled_from(
    ["see http://a.example and http://b.example and www.c.example", "BUY pills"]
)
notes = st.none() | texts
article = st.sampled_from(ARTICLES)
comment = st.sampled_from(COMMENTS)
person = st.sampled_from(PEOPLE)

EVENT_STRATEGIES: dict[type[Event], st.SearchStrategy[Event]] = {
    ArticlePublished: st.builds(
        ArticlePublished,
        article_id=article,
        title=texts,
        url=st.none() | st.just("https://e.org/a"),
        author=st.none() | texts,
        premoderated=st.booleans(),
    ),
    ArticleUpdated: st.builds(
        ArticleUpdated,
        article_id=article,
        title=st.none() | texts,
        url=st.none(),
        premoderated=st.none() | st.booleans(),
    ),
    ArticleClosed: st.builds(ArticleClosed, article_id=article, by=person, reason=notes),
    ArticleReopened: st.builds(ArticleReopened, article_id=article, by=person, reason=notes),
    CommentPosted: st.builds(
        CommentPosted,
        article_id=article,
        comment_id=comment,
        author_id=person,
        body=bodies,
        author_name=st.none() | texts,
        parent_id=st.none() | comment,
        # Import-only fields: `event_logs` marks a post that sets one as imported.
        held=st.sampled_from([False, False, False, True]),
        score=st.sampled_from([None, None, None]) | st.integers(-3, 3),
    ).filter(lambda c: c.parent_id != c.comment_id),
    CommentEdited: st.builds(
        CommentEdited, article_id=article, comment_id=comment, editor_id=person, body=bodies
    ),
    CommentDeleted: st.builds(
        CommentDeleted,
        article_id=article,
        comment_id=comment,
        deleted_by=person,
        reason=notes,
        moderator=st.booleans(),
    ),
    CommentVoted: st.builds(
        CommentVoted,
        article_id=article,
        comment_id=comment,
        voter_id=person,
        vote=st.sampled_from(["up", "down", "none"]),
    ),
    CommentFlagged: st.builds(
        CommentFlagged,
        article_id=article,
        comment_id=comment,
        flagger_id=person,
        reason=st.sampled_from(["spam", "abuse", "hate", "off_topic", "other"]),
        note=notes,
    ),
    CommentModerated: st.builds(
        CommentModerated,
        article_id=article,
        comment_id=comment,
        moderator_id=person,
        action=st.sampled_from(["approve", "reject", "feature", "unfeature"]),
        note=notes,
    ),
    CommentPinned: st.builds(
        CommentPinned, article_id=article, comment_id=comment, moderator_id=person, note=notes
    ),
    CommentUnpinned: st.builds(
        CommentUnpinned, article_id=article, comment_id=comment, moderator_id=person, note=notes
    ),
    AuthorBanned: st.builds(
        AuthorBanned, author_id=person, moderator_id=st.just("mod"), reason=notes, until=st.none()
    ),
    AuthorUnbanned: st.builds(
        AuthorUnbanned, author_id=person, moderator_id=st.just("mod"), reason=notes
    ),
    # Moderators come from the people too, so that an erased moderator's ban reasons go.
    AuthorErased: st.builds(AuthorErased, author_id=person, moderator_id=person, reason=notes),
}
"""One strategy per event type (tests/unit/test_event_declarations.py checks none is missing)."""

_WEIGHTS: dict[type[Event], int] = {CommentPosted: 4}
"""Posts are drawn more often, so that logs have threads for the other events to act on."""


def _one_of(thread: bool) -> st.SearchStrategy[Event]:
    return st.one_of(
        *[
            strategy
            for cls, strategy in EVENT_STRATEGIES.items()
            if ("article_id" in cls.__struct_fields__) == thread
            for _ in range(_WEIGHTS.get(cls, 1))
        ]
    )


thread_events = _one_of(thread=True)
"""Events of one thread's partition (keyed by their article)."""
author_events = _one_of(thread=False)
"""An author's bans and unbans (keyed by the author)."""


@st.composite
def event_logs(draw: st.DrawFn, max_size: int = 40, with_bans: bool = True) -> list[Envelope]:
    """A log of envelopes with unique ids, accepted times rising (minutes apart, so that some
    edits fall inside the window and some outside), producers' times off by up to an hour
    either way (a producer's clock must not decide a rule), plus exact re-sends of earlier
    events. About one event in four is imported history (`importedfrom`), as is every post
    that sets an import-only field, so imported and live events mix in one thread."""
    kinds = st.one_of(thread_events, author_events) if with_bans else thread_events
    datas = draw(st.lists(kinds, max_size=max_size))
    start = datetime(2024, 1, 1, tzinfo=UTC)
    events, minute = [], 0
    for i, data in enumerate(datas):
        minute += draw(st.integers(0, 10))
        accepted = (start + timedelta(minutes=minute)).astimezone(draw(_zones))
        skew = timedelta(minutes=draw(st.sampled_from([0, 0, -61, -7, 3, 45])))
        import_only = isinstance(data, CommentPosted) and (data.held or data.score is not None)
        imported = import_only or draw(st.sampled_from([False, False, False, True]))
        events.append(
            Envelope(
                id=f"e{i}",
                type=type(data).__name__,
                source="/test",
                time=accepted + skew,
                data=data,
                recordedtime=accepted,
                importedfrom="disqus" if imported else None,
            )
        )
    if events:
        for retry in draw(st.lists(st.sampled_from(events), max_size=4)):
            events.insert(draw(st.integers(events.index(retry) + 1, len(events))), retry)
    return events
