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
alter table articles add column if not exists premoderated boolean not null default false;
alter table articles add column if not exists closed boolean not null default false;
alter table articles add column if not exists closed_reason text;
-- The id of the last transaction that changed the article's thread: query processes cache
-- pages by it.
alter table articles add column if not exists version bigint not null default 0;

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
-- visible | pending (held for a moderator) | rejected | deleted (a tombstone)
alter table comments add column if not exists status text not null default 'visible';
alter table comments add column if not exists hold_reasons text[] not null default '{}';
alter table comments add column if not exists featured boolean not null default false;
alter table comments add column if not exists approved boolean not null default false;
alter table comments add column if not exists edited_at timestamptz;
alter table comments add column if not exists edit_count integer not null default 0;
alter table comments add column if not exists deleted_at timestamptz;
alter table comments add column if not exists score integer not null default 0;
-- What the thread's own events decided, apart from the author's bans (another partition), so
-- that an unban gives back what its ban hid whichever the worker applied first: `status` and
-- `hold_reasons` above are what readers see, derived from these (projections/threads/state.py).
alter table comments add column if not exists accepted_at timestamptz;
alter table comments add column if not exists own_status text not null default 'visible';
alter table comments add column if not exists own_holds text[] not null default '{}';
alter table comments add column if not exists post_rejection text;
alter table comments add column if not exists banned boolean not null default false;
-- A moderator's pin (CommentPinned): the comment leads its thread's top-level comments.
alter table comments add column if not exists pinned boolean not null default false;
-- Imported history (`importedfrom`): the format it came from, and the score its source
-- counted without voters, which the served `score` includes.
alter table comments add column if not exists imported_from text;
alter table comments add column if not exists imported_score integer not null default 0;
-- Its author was erased (AuthorErased): a tombstone without text or name, whatever came first.
alter table comments add column if not exists erased boolean not null default false;
-- Room on each page, so the update of a parent's reply count stays a heap-only tuple update.
alter table comments set (fillfactor = 90);

-- Walking down the tree a page of replies at a time; the worker reads through it too (the
-- replies stored before their parent), so a rebuild keeps it while it loads.
create index if not exists comments_replies_in_order
    on comments (article_id, parent_id, posted_at, comment_id) where parent_id is not null;
-- Author timelines, newest first; the worker reads through it too (the comments a ban may
-- sweep), so a rebuild keeps it while it loads.
create index if not exists comments_by_author
    on comments (author_id, posted_at desc, article_id desc, comment_id desc);

create table if not exists flags (
    article_id text not null,
    comment_id text not null,
    flagger_id text not null,
    reason     text not null,
    note       text,
    flagged_at timestamptz not null,
    primary key (article_id, comment_id, flagger_id)
);

create table if not exists votes (
    article_id text not null,
    comment_id text not null,
    voter_id   text not null,
    vote       smallint not null,
    primary key (article_id, comment_id, voter_id)
);

create table if not exists comment_edits (
    article_id  text not null,
    comment_id  text not null,
    version     integer not null,
    body        text not null,
    replaced_at timestamptz not null,
    editor_id   text not null,
    primary key (article_id, comment_id, version)
);

create table if not exists bans (
    author_id    text not null,
    banned_at    timestamptz not null,
    until        timestamptz,
    lifted_at    timestamptz,
    reason       text,
    moderator_id text not null
);
-- The worker loads an author's bans with every post of theirs, and rewrites them on a ban.
create index if not exists bans_by_author on bans (author_id);

-- Authors erased (AuthorErased): their later events are erased too, whatever the order.
create table if not exists erased_authors (
    author_id text primary key,
    erased_at timestamptz not null
);

-- What became of each event: GET /v1/events/{id}.
create table if not exists event_outcomes (
    event_id   text primary key,
    event_type text not null,
    outcome    text not null,
    reason     text,
    at         timestamptz not null
);

-- Timelines are served from `comments` (comments_by_author), so that they follow every edit,
-- deletion, moderation and ban exactly as the thread does; the first version's tables go.
drop table if exists timeline_items;
drop table if exists timeline_articles;

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
-- When the event was applied, for the wait figures of `make chaos`: the clock at the insert, early
-- in the batch's transaction, so it precedes the commit by at most the rest of that batch. Altered
-- only while missing: an ALTER takes an exclusive lock even when it skips, and here, after the
-- locks taken above, it would deadlock with a batch that inserted ids and waits for `articles`.
-- Added with a stable default (no table rewrite; older rows get the migration's time).
do $$
begin
    if not exists (select from pg_attribute
                   where attrelid = 'applied_events'::regclass and attname = 'applied_at') then
        alter table applied_events add column applied_at timestamptz not null default now();
        alter table applied_events alter column applied_at set default clock_timestamp();
    end if;
end $$;

-- readers' indexes ------------------------------------------------------------------------------
-- Indexes only the query service reads. A rebuild loads its copy without them and builds them
-- after the load, one sort each, instead of maintaining them row by row (projections/bulk_load.py).
-- Only `create index if not exists` and `drop index if exists` statements below this line.

-- A thread's first page, oldest or newest first: top-level comments in time order.
create index if not exists comments_top_level
    on comments (article_id, posted_at, comment_id) where parent_id is null;
-- ... and by score, featured first (sort=top).
create index if not exists comments_top_level_by_score
    on comments (article_id, featured desc, score desc, posted_at, comment_id)
    where parent_id is null;
-- ... and the few pinned ones, which lead every sort.
create index if not exists comments_top_level_pinned
    on comments (article_id, posted_at, comment_id) where parent_id is null and pinned;
-- Replies used to be walked by this one; comments_replies_in_order replaced it.
drop index if exists comments_replies;
-- Permalinks by comment id alone.
create index if not exists comments_by_id on comments (comment_id);
-- The moderation queue.
create index if not exists comments_to_moderate
    on comments (flag_count desc, posted_at, article_id, comment_id)
    where status = 'pending' or (flag_count > 0 and status = 'visible' and not approved);
