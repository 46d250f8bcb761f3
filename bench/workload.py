"""A deterministic, realistic mix of events for crash tests and benchmarks.

Posts and replies dominate, with flags and article updates sprinkled in, and about 1% of events
sent twice (a producer retrying after a timeout). With `moderation`, a few authors also edit,
delete and vote, moderators decide, ban and unban, and threads close and reopen: every rule
whose outcome could depend on how partitions interleave.
"""

import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from events import (
    ArticleClosed,
    ArticlePublished,
    ArticleReopened,
    AuthorBanned,
    AuthorUnbanned,
    CommentDeleted,
    CommentEdited,
    CommentFlagged,
    CommentModerated,
    CommentPosted,
    CommentVoted,
    Envelope,
    Event,
)


def _moderation(rng: random.Random, article_id: str, thread: list[str], author: str) -> Event:
    """One event of what else happens to a thread: edits, deletions, votes, decisions, bans."""
    comment_id = rng.choice(thread)
    options: list[Event] = [
        CommentEdited(
            article_id=article_id, comment_id=comment_id, editor_id=author, body="edited"
        ),
        CommentDeleted(article_id=article_id, comment_id=comment_id, deleted_by=author),
        CommentVoted(
            article_id=article_id,
            comment_id=comment_id,
            voter_id=author,
            vote=rng.choice(("up", "down", "none")),
        ),
        CommentModerated(
            article_id=article_id,
            comment_id=comment_id,
            moderator_id="mod",
            action=rng.choice(("approve", "reject", "feature", "unfeature")),
        ),
        AuthorBanned(author_id=author, moderator_id="mod", reason="abuse"),
        AuthorUnbanned(author_id=author, moderator_id="mod"),
        AuthorBanned(author_id=author, moderator_id="mod"),
        AuthorUnbanned(author_id=author, moderator_id="mod"),
        ArticleClosed(article_id=article_id, by="mod"),
        ArticleReopened(article_id=article_id, by="mod"),
        ArticleReopened(article_id=article_id, by="mod"),
    ]
    return rng.choice(options)


def mixed_events(
    count: int,
    *,
    articles: int = 50,
    seed: int = 7,
    only_posts: bool = False,
    moderation: bool = False,
    authors: int = 500,
) -> list[Envelope]:
    """`count` envelopes (retries included) over `articles` threads, reproducible by `seed`;
    with `moderation`, 30% of the events after the first posts are edits, deletions, votes,
    moderators' decisions, bans, unbans, closes and reopens (see `_moderation`)."""
    rng = random.Random(seed)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    comments: dict[str, list[str]] = {f"art-{a}": [] for a in range(articles)}
    log: list[Envelope] = []

    def add(data: Event) -> None:
        n = len(log)
        log.append(
            Envelope(
                id=f"ev-{seed}-{n}",
                type=type(data).__name__,
                source="/workload",
                time=start + timedelta(seconds=n),
                data=data,
            )
        )

    for article_id in comments:
        add(
            ArticlePublished(
                article_id=article_id,
                title=f"Story {article_id}",
                url=f"https://news.example/{article_id}",
            )
        )
    while len(log) < count:
        article_id = f"art-{rng.randrange(articles)}"
        thread = comments[article_id]
        roll = rng.random()
        if moderation and thread and roll < 0.3:
            add(_moderation(rng, article_id, thread, f"user-{rng.randrange(authors)}"))
        elif only_posts or roll < 0.85 or not thread:
            comment_id = f"c{len(log)}"
            parent = rng.choice(thread) if thread and rng.random() < 0.6 else None
            add(
                CommentPosted(
                    article_id=article_id,
                    comment_id=comment_id,
                    author_id=f"user-{rng.randrange(authors)}",
                    author_name=f"User {rng.randrange(authors)}",
                    body=" ".join(
                        rng.choice(("news", "agree", "no", "source?", "thanks", "wrong"))
                        for _ in range(rng.randrange(3, 40))
                    ),
                    parent_id=parent,
                )
            )
            thread.append(comment_id)
        elif roll < 0.97:
            add(
                CommentFlagged(
                    article_id=article_id,
                    comment_id=rng.choice(thread),
                    flagger_id=f"user-{rng.randrange(authors)}",
                    reason="spam",
                )
            )
        else:
            add(
                ArticlePublished(
                    article_id=article_id, title=f"Story {article_id}, updated {len(log)}"
                )
            )
        if not only_posts and rng.random() < 0.01:
            log.append(log[-1])
    return log[:count]


def as_envelopes(datas: Sequence[Event], prefix: str, start: datetime) -> list[Envelope]:
    """Envelopes `<prefix>-<n>` for `datas`, one second apart from `start`, in order."""
    return [
        Envelope(
            id=f"{prefix}-{i}",
            type=type(d).__name__,
            source="/bench",
            time=start + timedelta(seconds=i),
            data=d,
        )
        for i, d in enumerate(datas)
    ]
