create schema accounts;

create table accounts.merchants (
    id                    bigint generated always as identity primary key,
    uuid                  uuid        not null unique,
    name                  text        not null,
    email                 text        not null,
    -- kept readable: it also signs InPlayer-format webhooks
    api_secret            text        not null,
    api_secret_rotated_at timestamptz,
    created_at            timestamptz not null,
    updated_at            timestamptz not null
);

create table accounts.admin_users (
    id            bigint generated always as identity primary key,
    merchant_id   bigint      not null references accounts.merchants (id),
    email         text        not null,
    full_name     text        not null,
    password_hash text        not null,
    created_at    timestamptz not null
);
-- the admin login page asks only for an email, so it is unique across merchants
create unique index admin_users_email on accounts.admin_users (lower(email));
create index admin_users_merchant on accounts.admin_users (merchant_id);

create table accounts.consumers (
    id            bigint generated always as identity primary key,
    merchant_id   bigint      not null references accounts.merchants (id),
    uuid          uuid        not null unique,
    email         text        not null,
    full_name     text        not null,
    password_hash text,
    referrer      text,
    metadata      jsonb       not null default '{}',
    completed     boolean     not null default true,
    created_at    timestamptz not null,
    updated_at    timestamptz not null
);
create unique index consumers_merchant_email on accounts.consumers (merchant_id, lower(email));

-- One row per sign-in: access tokens carry its id, refresh tokens its hashed secret (rotated on use).
create table accounts.sessions (
    id                 bigint generated always as identity primary key,
    merchant_id        bigint      not null references accounts.merchants (id),
    consumer_id        bigint references accounts.consumers (id),
    refresh_token_hash bytea       not null,
    created_at         timestamptz not null,
    refreshed_at       timestamptz,
    expires_at         timestamptz not null,
    revoked_at         timestamptz
);
create index sessions_consumer on accounts.sessions (consumer_id) where consumer_id is not null;
create index sessions_merchant_only on accounts.sessions (merchant_id) where consumer_id is null;

-- Failed password sign-ins per account, so the limit holds across instances.
create table accounts.sign_in_failures (
    merchant_id bigint      not null,
    email       text        not null,
    failed_at   timestamptz not null
);
create index sign_in_failures_lookup on accounts.sign_in_failures (merchant_id, lower(email), failed_at);
