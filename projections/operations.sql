-- Operator bookkeeping, kept in the deployment's schema beside the live read models and never
-- swapped by a rebuild. Runs before schema.sql, so that a version check can refuse first.

-- The version of the tables each projection's live copy was built by (registry.py declares the
-- code's); a worker refuses to write into tables of another version.
create table if not exists projection_versions (
    projection text primary key,
    version    integer not null,
    built_at   timestamptz not null default now()
);

-- A rebuild in progress: its copy of the tables lives in `schema_name` until the switch.
create table if not exists projection_builds (
    projection  text primary key,
    version     integer not null,
    schema_name text not null,
    started_at  timestamptz not null default now()
);

-- Dead letters an operator dealt with: the topic is append-only, so what was redriven or purged
-- is recorded here and `threadlog dlq list` leaves it out.
create table if not exists dead_letter_actions (
    dlq_topic text not null,
    partition integer not null,
    "offset"  bigint not null,
    action    text not null,
    at        timestamptz not null default now(),
    primary key (dlq_topic, partition, "offset")
);

-- The schema.sql each schema's tables were last brought up to date by (its SHA-256): a process
-- starting on tables already current runs no DDL, so it takes no table lock a running worker's
-- batch could deadlock with (ALTER TABLE takes its lock even when IF NOT EXISTS skips it).
create table if not exists schema_fingerprints (
    file       text primary key,
    sha256     text not null,
    applied_at timestamptz not null default now()
);
