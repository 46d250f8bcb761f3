"""Hypothesis strategies for event sequences that exercise every rule of the projections.

Ids come from small pools so that sequences collide on purpose: replies to comments that do not
exist yet, comments before their article, the same comment id posted twice, a reader flagging
twice, and producer retries (the same event, same id, later in the log).
"""

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import strategies as st

from events import ArticlePublished, CommentFlagged, CommentPosted, Envelope, Event

ARTICLES = ["a1", "a2", "a3"]
COMMENTS = [f"c{i}" for i in range(1, 9)]
PEOPLE = ["u1", "u2", "u3"]

_zones = st.sampled_from([UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5))])
times = st.builds(
    lambda seconds, zone: (
        datetime(2024, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds)
    ).astimezone(zone),
    st.integers(0, 3600),
    _zones,
)
texts = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cs"], exclude_characters="\x00"),
    min_size=1,
    max_size=20,
).filter(lambda s: s.strip() != "")

articles = st.builds(
    ArticlePublished,
    article_id=st.sampled_from(ARTICLES),
    title=texts,
    url=st.none() | st.just("https://example.org/a"),
    author=st.none() | texts,
)
comments = st.builds(
    CommentPosted,
    article_id=st.sampled_from(ARTICLES),
    comment_id=st.sampled_from(COMMENTS),
    author_id=st.sampled_from(PEOPLE),
    body=texts,
    author_name=st.none() | texts,
    parent_id=st.none() | st.sampled_from(COMMENTS),
).filter(lambda c: c.parent_id != c.comment_id)
flags = st.builds(
    CommentFlagged,
    article_id=st.sampled_from(ARTICLES),
    comment_id=st.sampled_from(COMMENTS),
    flagger_id=st.sampled_from(PEOPLE),
    reason=st.sampled_from(["spam", "abuse", "hate", "off_topic", "other"]),
    note=st.none() | texts,
)
datas: st.SearchStrategy[Event] = st.one_of(articles, comments, comments, flags)


@st.composite
def event_logs(draw: st.DrawFn, max_size: int = 40) -> list[Envelope]:
    """A log of envelopes with unique ids, plus some exact re-sends of earlier events."""
    events = [
        Envelope(id=f"e{i}", type=type(data).__name__, source="/test", time=draw(times), data=data)
        for i, data in enumerate(draw(st.lists(datas, max_size=max_size)))
    ]
    if events:
        retries = draw(st.lists(st.sampled_from(events), max_size=5))
        for retry in retries:
            events.insert(draw(st.integers(events.index(retry) + 1, len(events))), retry)
    return events
