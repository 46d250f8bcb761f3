-- Secrets of the installation, made once and shared by every machine of it through the database.
-- `import_authors` keys the HMAC that turns an imported author's source key (a username, a
-- guest's name) into an author id: the same person gets the same id on every run and machine,
-- and nobody without the secret can test a name or an e-mail address against the ids.
create table if not exists installation_secrets (
    name       text primary key,
    secret     bytea not null check (length(secret) >= 32),
    created_at timestamptz not null default now()
);
