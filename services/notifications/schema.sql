-- The notifier's tables. Idempotent: the notifier and `threadlog init` run this on start.

-- Who wrote each comment, as the notifier saw CommentPosted go by: its own copy, so that it
-- never waits for (or depends on) the projection worker.
create table if not exists notifier_comments (
    article_id text not null,
    comment_id text not null,
    author_id  text not null,
    primary key (article_id, comment_id)
);

create table if not exists notifications (
    recipient_id text not null,
    event_id     text not null,
    kind         text not null,          -- reply | moderation
    article_id   text not null,
    comment_id   text not null,          -- the recipient's comment
    reply_id     text,                   -- the reply (kind reply)
    actor_id     text not null,          -- who replied, or the moderator
    action       text,                   -- approve | reject | feature | unfeature | delete
    at           timestamptz not null,   -- the event's time
    read_at      timestamptz,
    primary key (recipient_id, event_id)
);
create index if not exists notifications_by_recipient
    on notifications (recipient_id, at desc, event_id desc);
