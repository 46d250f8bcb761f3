-- The read models and the worker's bookkeeping. Every statement is idempotent: the worker and
-- `threadlog init` run this file on start. Tables live in the schema named by the connection's
-- search_path, so that tests (and blue/green rebuilds) can hold several copies side by side.

-- threads: articles with their comment trees ------------------------------------------------
create table if not exists articles (
    article_id    text primary key,
    title         text not null,
    url           text,
    author        text,
    published_at  timestamptz not null,
    comment_count integer not null default 0
);

create table if not exists comments (
    article_id  text not null,
    comment_id  text not null,
    parent_id   text,
    author_id   text not null,
    author_name text,
    body        text not null,
    posted_at   timestamptz not null,
    event_id    text not null,
    reply_count integer not null default 0,
    flag_count  integer not null default 0,
    primary key (article_id, comment_id)
);
-- A thread's first page: top-level comments in time order, keyset-paginated.
create index if not exists comments_top_level
    on comments (article_id, posted_at, comment_id) where parent_id is null;
-- Walking down the tree from a page of top-level comments.
create index if not exists comments_replies
    on comments (article_id, parent_id) where parent_id is not null;

create table if not exists flags (
    article_id text not null,
    comment_id text not null,
    flagger_id text not null,
    reason     text not null,
    note       text,
    flagged_at timestamptz not null,
    primary key (article_id, comment_id, flagger_id)
);

-- timelines: each author's comments, newest first ---------------------------------------------
create table if not exists timeline_items (
    author_id  text not null,
    article_id text not null,
    comment_id text not null,
    body       text not null,
    posted_at  timestamptz not null,
    primary key (article_id, comment_id)
);
create index if not exists timeline_items_by_author
    on timeline_items (author_id, posted_at desc, article_id desc, comment_id desc);

create table if not exists timeline_articles (
    article_id text primary key,
    title      text not null
);

-- bookkeeping: what each projection has applied -----------------------------------------------
-- The next offset to read per partition, written in the same transaction as the rows above.
create table if not exists projection_offsets (
    projection  text not null,
    topic       text not null,
    partition   integer not null,
    next_offset bigint not null,
    updated_at  timestamptz not null default now(),
    primary key (projection, topic, partition)
);

-- Event ids already applied, so that a producer's retry (the same id twice in the log) counts once.
create table if not exists applied_events (
    projection text not null,
    event_id   text not null,
    primary key (projection, event_id)
);
