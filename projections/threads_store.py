"""The threads projection's Postgres shell: load the rows a batch can read, write what changed.

`load_state` fetches exactly what `lifecycle.evolve` may read for the batch's events; the fold
runs in memory; `write_state` writes the changed rows with one statement per table and then
recomputes the derived counts of the rows touched.
"""

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from events import (
    AuthorBanned,
    AuthorUnbanned,
    CommentDeleted,
    CommentEdited,
    CommentFlagged,
    CommentModerated,
    CommentPosted,
    CommentVoted,
    Envelope,
)
from projections.sql_rows import Conn, insert_rows
from projections.state import (
    ArticleState,
    Ban,
    CommentKey,
    CommentState,
    Flag,
    State,
)

_ARTICLE_COLUMNS = {
    "article_id": "text",
    "title": "text",
    "url": "text",
    "author": "text",
    "published_at": "timestamptz",
    "premoderated": "boolean",
    "closed": "boolean",
    "closed_reason": "text",
}
_COMMENT_COLUMNS = {
    "article_id": "text",
    "comment_id": "text",
    "parent_id": "text",
    "author_id": "text",
    "author_name": "text",
    "body": "text",
    "posted_at": "timestamptz",
    "event_id": "text",
    "status": "text",
    "hold_reasons": "text[]",
    "featured": "boolean",
    "approved": "boolean",
    "edited_at": "timestamptz",
    "edit_count": "integer",
    "deleted_at": "timestamptz",
}
_FLAG_COLUMNS = {
    "article_id": "text",
    "comment_id": "text",
    "flagger_id": "text",
    "reason": "text",
    "note": "text",
    "flagged_at": "timestamptz",
}
_BAN_COLUMNS = {
    "author_id": "text",
    "banned_at": "timestamptz",
    "until": "timestamptz",
    "lifted_at": "timestamptz",
    "reason": "text",
    "moderator_id": "text",
}
_VOTE_COLUMNS = {"article_id": "text", "comment_id": "text", "voter_id": "text", "vote": "smallint"}
_EDIT_COLUMNS = {
    "article_id": "text",
    "comment_id": "text",
    "version": "integer",
    "body": "text",
    "replaced_at": "timestamptz",
    "editor_id": "text",
}
_OUTCOME_COLUMNS = {
    "event_id": "text",
    "event_type": "text",
    "outcome": "text",
    "reason": "text",
    "at": "timestamptz",
}


_COMMENT_EVENTS = (
    CommentPosted,
    CommentEdited,
    CommentDeleted,
    CommentVoted,
    CommentFlagged,
    CommentModerated,
)


def _upsert(columns: dict[str, str], key: str) -> str:
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in key.split(", "))
    return f"on conflict ({key}) do update set {updates}"


def _comment(row: Any) -> CommentState:
    return CommentState(**{name: row[name] for name in _COMMENT_COLUMNS})


async def load_state(conn: Conn, events: Sequence[Envelope]) -> State:
    """The rows the batch's events can read: their articles, comments, parents, flags, votes,
    authors' bans, and the comments a ban in the batch may sweep."""
    articles: set[str] = set()
    comments: set[CommentKey] = set()
    flagged: set[CommentKey] = set()
    votes: set[tuple[str, str, str]] = set()
    authors: set[str] = set()
    sweeps: dict[str, datetime] = {}
    for event in events:
        data = event.data
        if isinstance(data, AuthorBanned | AuthorUnbanned):
            authors.add(data.author_id)
            if isinstance(data, AuthorBanned):
                sweeps[data.author_id] = min(event.time, sweeps.get(data.author_id, event.time))
            continue
        articles.add(data.article_id)
        if not isinstance(data, _COMMENT_EVENTS):
            continue
        key = (data.article_id, data.comment_id)
        comments.add(key)
        if isinstance(data, CommentPosted):
            authors.add(data.author_id)
            if data.parent_id is not None:
                comments.add((data.article_id, data.parent_id))
        elif isinstance(data, CommentFlagged):
            flagged.add(key)
        elif isinstance(data, CommentVoted):
            votes.add((*key, data.voter_id))
    state = State()
    article_cols = ", ".join(_ARTICLE_COLUMNS)
    comment_cols = ", ".join(_COMMENT_COLUMNS)
    for row in await conn.fetch(
        f"select {article_cols} from articles where article_id = any($1::text[])", list(articles)
    ):
        state.articles[row["article_id"]] = ArticleState(**dict(row))
    if comments:
        for row in await conn.fetch(
            f"select {comment_cols} from comments c"
            " join unnest($1::text[], $2::text[]) k(a, c) on c.article_id = k.a"
            " and c.comment_id = k.c",
            [k[0] for k in comments],
            [k[1] for k in comments],
        ):
            state.comments[(row["article_id"], row["comment_id"])] = _comment(row)
    if sweeps:
        for row in await conn.fetch(
            f"select {comment_cols} from comments c"
            " join unnest($1::text[], $2::timestamptz[]) s(author, since)"
            " on c.author_id = s.author and c.posted_at >= s.since"
            " where c.status in ('visible', 'pending')",
            list(sweeps),
            list(sweeps.values()),
        ):
            state.comments.setdefault((row["article_id"], row["comment_id"]), _comment(row))
    if flagged:
        for row in await conn.fetch(
            f"select {', '.join(_FLAG_COLUMNS)} from flags f"
            " join unnest($1::text[], $2::text[]) k(a, c) on f.article_id = k.a"
            " and f.comment_id = k.c",
            [k[0] for k in flagged],
            [k[1] for k in flagged],
        ):
            flag = Flag(**dict(row))
            state.flags.setdefault((flag.article_id, flag.comment_id), {})[flag.flagger_id] = flag
    if votes:
        for row in await conn.fetch(
            "select v.article_id, v.comment_id, v.voter_id, v.vote from votes v"
            " join unnest($1::text[], $2::text[], $3::text[]) k(a, c, u)"
            " on v.article_id = k.a and v.comment_id = k.c and v.voter_id = k.u",
            [k[0] for k in votes],
            [k[1] for k in votes],
            [k[2] for k in votes],
        ):
            state.votes[(row["article_id"], row["comment_id"], row["voter_id"])] = row["vote"]
    if authors:
        for row in await conn.fetch(
            f"select {', '.join(_BAN_COLUMNS)} from bans where author_id = any($1::text[])"
            " order by banned_at",
            list(authors),
        ):
            state.bans.setdefault(row["author_id"], []).append(Ban(**dict(row)))
    return state


_RECOUNT_COMMENTS = """
update comments c set
    reply_count = (select count(*) from comments r
                   where r.article_id = c.article_id and r.parent_id = c.comment_id
                   and r.status in ('visible', 'deleted')),
    flag_count = (select count(*) from flags f
                  where f.article_id = c.article_id and f.comment_id = c.comment_id),
    score = (select coalesce(sum(v.vote), 0) from votes v
             where v.article_id = c.article_id and v.comment_id = c.comment_id)
from unnest($1::text[], $2::text[]) k(article_id, comment_id)
where c.article_id = k.article_id and c.comment_id = k.comment_id
"""

_RECOUNT_ARTICLES = """
update articles a set comment_count =
    (select count(*) from comments c where c.article_id = a.article_id and c.status = 'visible')
where a.article_id = any($1::text[])
"""


async def write_state(conn: Conn, state: State) -> None:
    """Write every row the fold changed, then recompute the counts that derive from them."""
    await insert_rows(
        conn,
        "articles",
        _ARTICLE_COLUMNS,
        [
            tuple(getattr(state.articles[a], c) for c in _ARTICLE_COLUMNS)
            for a in sorted(state.dirty_articles)
        ],
        _upsert(_ARTICLE_COLUMNS, "article_id"),
    )
    changed = [state.comments[k] for k in sorted(state.dirty_comments)]
    await insert_rows(
        conn,
        "comments",
        _COMMENT_COLUMNS,
        [
            tuple(
                json.dumps(c.hold_reasons) if name == "hold_reasons" else getattr(c, name)
                for name in _COMMENT_COLUMNS
            )
            for c in changed
        ],
        _upsert(_COMMENT_COLUMNS, "article_id, comment_id"),
    )
    await insert_rows(
        conn, "flags", _FLAG_COLUMNS, [tuple(vars(f).values()) for f in state.new_flags]
    )
    votes = sorted(state.dirty_votes)
    await insert_rows(
        conn,
        "votes",
        _VOTE_COLUMNS,
        [(*k, state.votes[k]) for k in votes if state.votes[k]],
        _upsert(_VOTE_COLUMNS, "article_id, comment_id, voter_id"),
    )
    withdrawn = [k for k in votes if not state.votes[k]]
    if withdrawn:
        await conn.execute(
            "delete from votes v using unnest($1::text[], $2::text[], $3::text[]) k(a, c, u)"
            " where v.article_id = k.a and v.comment_id = k.c and v.voter_id = k.u",
            *[[k[i] for k in withdrawn] for i in range(3)],
        )
    if state.dirty_bans:
        # An author's bans are few; rewriting them whole keeps lifted_at in step.
        await conn.execute(
            "delete from bans where author_id = any($1::text[])", sorted(state.dirty_bans)
        )
        await insert_rows(
            conn,
            "bans",
            _BAN_COLUMNS,
            [
                tuple(vars(b).values())
                for a in sorted(state.dirty_bans)
                for b in state.bans.get(a, [])
            ],
        )
    await insert_rows(
        conn, "comment_edits", _EDIT_COLUMNS, [tuple(vars(e).values()) for e in state.edits]
    )
    await insert_rows(
        conn,
        "event_outcomes",
        _OUTCOME_COLUMNS,
        [tuple(vars(o).values()) for o in state.outcomes.values()],
        _upsert(_OUTCOME_COLUMNS, "event_id"),
    )
    recount = {c.key for c in changed} | {
        (c.article_id, c.parent_id) for c in changed if c.parent_id is not None
    }
    if recount:
        keys = sorted(recount)
        await conn.execute(_RECOUNT_COMMENTS, [k[0] for k in keys], [k[1] for k in keys])
    recount_articles = sorted(state.dirty_articles | {c.article_id for c in changed})
    if recount_articles:
        await conn.execute(_RECOUNT_ARTICLES, recount_articles)
