"""The threads projection's Postgres shell: load the rows a batch can read, write what changed.

`load_state` fetches exactly what `rules.evolve` may read for the batch's events; the fold
runs in memory; `write_state` writes each changed row once, with one statement per table, its
derived counts (replies, flags, score, comments) moved by what the batch changed.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, assert_never

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
)
from projections.sql_rows import Conn, Staged, unnest_arrays
from projections.threads.columns import (
    ARTICLES,
    BANS,
    COMMENT_EDITS,
    COMMENTS,
    EVENT_OUTCOMES,
    FLAGS,
    VOTES,
)
from projections.threads.parked import DEAD_LETTERED
from projections.threads.sql import SHOWN_SQL, VISIBLE_SQL
from projections.threads.state import (
    ArticleState,
    Ban,
    CommentKey,
    CommentState,
    Flag,
    Outcome,
    State,
)
from projections.threads.statuses import SHOWN, VISIBLE


@dataclass
class Loaded:
    """What the batch's rows held before the fold: the counts the shell keeps as deltas from.

    Counts are derived data (the pure rules never read them), so they live here, not in `State`:
    the shell adds what the batch changed to what it loaded, and writes each row once.
    """

    status: dict[CommentKey, str] = field(default_factory=dict)
    counts: dict[CommentKey, tuple[int, int, int]] = field(default_factory=dict)
    """(reply_count, flag_count, score) of each loaded comment."""
    votes: dict[tuple[str, str, str], int] = field(default_factory=dict)
    articles: dict[str, int] = field(default_factory=dict)
    """The comment_count of each loaded article, or of the comments stored before a new one."""
    earlier_replies: dict[CommentKey, int] = field(default_factory=dict)
    """Replies already stored under a comment posted in this batch (they arrived before it)."""


def _keep_comment(state: State, loaded: Loaded, row: Any) -> None:
    """A loaded comment row, with the counts the batch's deltas start from (once per key)."""
    key = (row["article_id"], row["comment_id"])
    if key not in state.comments:
        fields = {name: row[name] for name in COMMENTS.stored}
        fields["own_holds"] = list(fields["own_holds"])
        state.add_comment(CommentState(**fields))
        loaded.counts[key] = (row["reply_count"], row["flag_count"], row["score"])


@dataclass
class Wanted:
    """The keys of the rows a batch's rules can read, collected by `rows_to_load`."""

    articles: set[str] = field(default_factory=set)
    comments: set[CommentKey] = field(default_factory=set)
    flagged: set[CommentKey] = field(default_factory=set)
    votes: set[tuple[str, str, str]] = field(default_factory=set)
    authors: set[str] = field(default_factory=set)
    sweeps: dict[str, datetime] = field(default_factory=dict)
    """Per author, the earliest ban or unban: comments accepted since may change."""
    posted: set[CommentKey] = field(default_factory=set)
    published: set[str] = field(default_factory=set)
    people: set[str] = field(default_factory=set)
    """Whose erasure the batch's rules read: authors, flaggers, moderators of bans."""


_ALL_TIME = datetime(1, 1, 1, tzinfo=UTC)
"""An erasure sweeps every comment of its author, however old."""


def rows_to_load(events: Sequence[Envelope]) -> Wanted:
    """What the rules of each event read (rules, comment_rules), keyed by type. Exhaustive:
    a type of the `Event` union without a case fails the type check (`assert_never`)."""
    w = Wanted()
    for event in events:
        data = event.data
        match data:
            case AuthorErased():
                w.authors.add(data.author_id)
                w.people.add(data.author_id)
                w.sweeps[data.author_id] = _ALL_TIME
                # Their flags' notes and their bans' reasons are cleared in SQL (write_state),
                # the loaded ones in memory.
            case AuthorBanned() | AuthorUnbanned():
                w.people.add(data.moderator_id)
                w.authors.add(data.author_id)
                # A ban or an unban can change whether a ban covers any comment accepted since.
                at = event.accepted_at
                w.sweeps[data.author_id] = min(at, w.sweeps.get(data.author_id, at))
            case ArticlePublished():
                w.articles.add(data.article_id)
                w.published.add(data.article_id)
            case ArticleUpdated() | ArticleClosed() | ArticleReopened():
                w.articles.add(data.article_id)
            case CommentPosted():
                key = (data.article_id, data.comment_id)
                w.articles.add(data.article_id)
                w.comments.add(key)
                w.posted.add(key)
                w.authors.add(data.author_id)
                w.people.add(data.author_id)
                if data.parent_id is not None:
                    w.comments.add((data.article_id, data.parent_id))
            case CommentFlagged():
                w.articles.add(data.article_id)
                w.comments.add((data.article_id, data.comment_id))
                w.flagged.add((data.article_id, data.comment_id))
                w.people.add(data.flagger_id)
            case CommentVoted():
                w.articles.add(data.article_id)
                w.comments.add((data.article_id, data.comment_id))
                w.votes.add((data.article_id, data.comment_id, data.voter_id))
            case (
                CommentEdited()
                | CommentDeleted()
                | CommentModerated()
                | CommentPinned()
                | CommentUnpinned()
            ):
                w.articles.add(data.article_id)
                w.comments.add((data.article_id, data.comment_id))
            case _:
                assert_never(data)
    return w


async def load_state(conn: Conn, events: Sequence[Envelope]) -> tuple[State, Loaded]:
    """The rows the batch's events can read (their articles, comments, parents, flags, votes,
    authors' bans, and the comments a ban in the batch may sweep), and their counts."""
    w = rows_to_load(events)
    articles, comments, flagged, votes = w.articles, w.comments, w.flagged, w.votes
    authors, sweeps, posted, published = w.authors, w.sweeps, w.posted, w.published
    state, loaded = State(), Loaded()
    article_cols = ", ".join([*ARTICLES.stored, "comment_count"])
    comment_cols = ", ".join([*COMMENTS.stored, "reply_count", "flag_count", "score"])
    if sweeps:
        for row in await conn.fetch(
            f"select {comment_cols} from comments c"
            " join unnest($1::text[], $2::timestamptz[]) s(author, since)"
            " on c.author_id = s.author and c.accepted_at >= s.since",
            list(sweeps),
            list(sweeps.values()),
        ):
            _keep_comment(state, loaded, row)
            # The ban changes the comment, and with it its article's count: load the article.
            articles.add(row["article_id"])
    for row in await conn.fetch(
        f"select {article_cols} from articles where article_id = any($1::text[])", list(articles)
    ):
        state.articles[row["article_id"]] = ArticleState(
            **{name: row[name] for name in ARTICLES.stored}
        )
        loaded.articles[row["article_id"]] = row["comment_count"]
    if comments:
        for row in await conn.fetch(
            f"select {comment_cols} from comments c"
            " join unnest($1::text[], $2::text[]) k(a, c) on c.article_id = k.a"
            " and c.comment_id = k.c",
            *unnest_arrays(comments, 2),
        ):
            _keep_comment(state, loaded, row)
    # Comments may be stored before their article (the rules accept them): a new article counts
    # them, as a new comment counts the replies already stored under it.
    unpublished = [a for a in published if a not in state.articles]
    if unpublished:
        for row in await conn.fetch(
            "select article_id, count(*) from comments where article_id = any($1::text[])"
            f" and {VISIBLE_SQL} group by article_id",
            unpublished,
        ):
            loaded.articles[row["article_id"]] = row["count"]
    new = [k for k in posted if k not in state.comments]
    if new:
        for row in await conn.fetch(
            "select r.article_id, r.parent_id, count(*) from comments r"
            " join unnest($1::text[], $2::text[]) k(a, c) on r.article_id = k.a"
            f" and r.parent_id = k.c where r.{SHOWN_SQL}"
            " group by r.article_id, r.parent_id",
            *unnest_arrays(new, 2),
        ):
            loaded.earlier_replies[(row["article_id"], row["parent_id"])] = row["count"]
    if flagged:
        for row in await conn.fetch(
            f"select {', '.join(FLAGS.stored)} from flags f"
            " join unnest($1::text[], $2::text[]) k(a, c) on f.article_id = k.a"
            " and f.comment_id = k.c",
            *unnest_arrays(flagged, 2),
        ):
            flag = Flag(**dict(row))
            state.flags.setdefault((flag.article_id, flag.comment_id), {})[flag.flagger_id] = flag
    if votes:
        for row in await conn.fetch(
            "select v.article_id, v.comment_id, v.voter_id, v.vote from votes v"
            " join unnest($1::text[], $2::text[], $3::text[]) k(a, c, u)"
            " on v.article_id = k.a and v.comment_id = k.c and v.voter_id = k.u",
            *unnest_arrays(votes, 3),
        ):
            state.votes[(row["article_id"], row["comment_id"], row["voter_id"])] = row["vote"]
    if authors:
        for row in await conn.fetch(
            f"select {', '.join(BANS.stored)} from bans where author_id = any($1::text[])"
            " order by banned_at",
            list(authors),
        ):
            state.bans.setdefault(row["author_id"], []).append(Ban(**dict(row)))
    if w.people:
        for row in await conn.fetch(
            "select author_id, erased_at from erased_authors where author_id = any($1::text[])",
            list(w.people),
        ):
            state.erased[row["author_id"]] = row["erased_at"]
    loaded.status = {k: c.status for k, c in state.comments.items()}
    loaded.votes = dict(state.votes)
    return state, loaded


# A change to a reply whose parent the batch did not load (a flag holds it, a moderator deletes
# it) moves the parent's count in place; a parent not stored yet counts its replies on arrival.
_ADD_TO_COMMENTS = """
update comments c set reply_count = c.reply_count + d.replies, flag_count = c.flag_count + d.flags,
    score = c.score + d.score
from unnest($1::text[], $2::text[], $3::integer[], $4::integer[], $5::integer[])
    d(article_id, comment_id, replies, flags, score)
where c.article_id = d.article_id and c.comment_id = d.comment_id
"""


def _count_deltas(
    state: State, loaded: Loaded
) -> tuple[dict[CommentKey, list[int]], dict[str, int]]:
    """What the batch adds to each comment's (replies, flags, score) and each article's count."""
    per_comment: dict[CommentKey, list[int]] = {}
    per_article = dict.fromkeys(state.dirty_articles, 0)

    def add(key: CommentKey, index: int, amount: int) -> None:
        per_comment.setdefault(key, [0, 0, 0])[index] += amount
        per_article.setdefault(key[0], 0)

    for key in state.dirty_comments:
        c, before = state.comments[key], loaded.status.get(key)
        # A comment new in this batch starts from the score its source counted (imported).
        add(key, 2, 0 if key in loaded.counts else c.imported_score)
        if c.parent_id is not None:
            add((c.article_id, c.parent_id), 0, (c.status in SHOWN) - (before in SHOWN))
        per_article[c.article_id] += (c.status == VISIBLE) - (before == VISIBLE)
    for flag in state.new_flags:
        add((flag.article_id, flag.comment_id), 1, 1)
    for vote in state.dirty_votes:
        article_id, comment_id, _ = vote
        add((article_id, comment_id), 2, state.votes[vote] - loaded.votes.get(vote, 0))
    return per_comment, per_article


def _vote_row(key: tuple[str, str, str], vote: int) -> tuple[object, ...]:
    return VOTES.values(None, **dict(zip(VOTES.key, key, strict=True)), vote=vote)


async def write_parked(conn: Conn, outcomes: Sequence[Outcome]) -> None:
    """`dead_lettered` outcomes, over no outcome or an earlier `dead_lettered` one only: what an
    event of the same id did stands (`projections.threads.parked`)."""
    staged = Staged()
    staged.add(
        EVENT_OUTCOMES.name,
        EVENT_OUTCOMES.written,
        [EVENT_OUTCOMES.values(o) for o in outcomes],
        f"{EVENT_OUTCOMES.upsert} where event_outcomes.outcome = '{DEAD_LETTERED}'",
    )
    await staged.write(conn)


async def _erase(conn: Conn, state: State) -> None:
    """What an erasure changes beyond the rows the fold holds: the erased comments' edit
    history, the authors' flag notes and, as moderators, their bans' reasons; and the record
    that they are erased, which their later events are checked against."""
    authors = sorted(state.dirty_erased)
    erased = sorted(k for k in state.dirty_comments if state.comments[k].erased)
    if erased:
        await conn.execute(
            "delete from comment_edits e using unnest($1::text[], $2::text[]) k(a, c)"
            " where e.article_id = k.a and e.comment_id = k.c",
            *unnest_arrays(erased, 2),
        )
    await conn.execute(
        "update flags set note = null where flagger_id = any($1::text[]) and note is not null",
        authors,
    )
    await conn.execute(
        "update bans set reason = null where moderator_id = any($1::text[]) and reason is not null",
        authors,
    )
    await conn.execute(
        "insert into erased_authors (author_id, erased_at)"
        " select * from unnest($1::text[], $2::timestamptz[])"
        " on conflict (author_id) do update set erased_at = excluded.erased_at",
        authors,
        [state.erased[a] for a in authors],
    )


async def write_state(conn: Conn, state: State, loaded: Loaded) -> None:
    """Write every row the fold changed, each once, its counts moved by what the batch did."""
    per_comment, per_article = _count_deltas(state, loaded)
    staged = Staged()
    staged.add(
        ARTICLES.name,
        ARTICLES.written,
        [
            ARTICLES.values(
                state.articles[a],
                comment_count=loaded.articles.get(a, 0) + per_article[a],
                version=0,
            )
            for a in sorted(per_article)
            if a in state.articles
        ],
        ARTICLES.upsert,
        # The version is this transaction's id: unique across copies, so a page cached from the
        # tables a rebuild replaced never passes for one of the new tables.
        computed={"version": "txid_current()"},
    )
    stored_rows: list[tuple[object, ...]] = []
    new_rows: list[tuple[object, ...]] = []
    for key in sorted(k for k in per_comment if k in state.comments):
        before = loaded.counts.get(key) or (loaded.earlier_replies.get(key, 0), 0, 0)
        replies, flags, score = (b + d for b, d in zip(before, per_comment[key], strict=True))
        row = COMMENTS.values(
            state.comments[key], reply_count=replies, flag_count=flags, score=score
        )
        # `load_state` loaded every stored comment the batch names, and batches apply one at a
        # time (apply_batch's lock): a comment it did not load is not stored.
        (stored_rows if key in loaded.counts else new_rows).append(row)
    staged.add(COMMENTS.name, COMMENTS.written, stored_rows, COMMENTS.upsert)
    staged.add_new(COMMENTS.name, COMMENTS.written, new_rows)
    # What is not a merge of rows runs first: other rows than the merges write, except the bans
    # of an author, deleted here and written again whole below.
    unloaded = sorted(k for k in per_comment if k not in state.comments and any(per_comment[k]))
    if unloaded:
        await conn.execute(
            _ADD_TO_COMMENTS,
            *unnest_arrays(unloaded, 2),
            *unnest_arrays([per_comment[k] for k in unloaded], 3),
        )
    staged.add(FLAGS.name, FLAGS.written, [FLAGS.values(f) for f in state.new_flags])
    votes = sorted(state.dirty_votes)
    staged.add(
        VOTES.name,
        VOTES.written,
        [_vote_row(k, state.votes[k]) for k in votes if state.votes[k]],
        VOTES.upsert,
    )
    withdrawn = [k for k in votes if not state.votes[k]]
    if withdrawn:
        await conn.execute(
            "delete from votes v using unnest($1::text[], $2::text[], $3::text[]) k(a, c, u)"
            " where v.article_id = k.a and v.comment_id = k.c and v.voter_id = k.u",
            *unnest_arrays(withdrawn, 3),
        )
    if state.dirty_bans:
        # An author's bans are few; rewriting them whole keeps lifted_at in step.
        await conn.execute(
            "delete from bans where author_id = any($1::text[])", sorted(state.dirty_bans)
        )
        staged.add(
            BANS.name,
            BANS.written,
            [BANS.values(b) for a in sorted(state.dirty_bans) for b in state.bans.get(a, [])],
        )
    if state.dirty_erased:
        await _erase(conn, state)
    staged.add(
        COMMENT_EDITS.name,
        COMMENT_EDITS.written,
        [
            COMMENT_EDITS.values(e)
            for e in state.edits
            if not state.comments[(e.article_id, e.comment_id)].erased
        ],
    )
    staged.add(
        EVENT_OUTCOMES.name,
        EVENT_OUTCOMES.written,
        [EVENT_OUTCOMES.values(o) for o in state.outcomes.values()],
        EVENT_OUTCOMES.upsert,
    )
    await staged.write(conn)
