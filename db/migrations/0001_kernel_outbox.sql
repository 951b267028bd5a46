-- Events for merchants' systems, written in the transaction of the change they report.
-- Delivery state is added by the Webhooks module's migrations.
create table kernel.outbox (
    id          bigint generated always as identity primary key,
    merchant_id bigint      not null,
    type        text        not null,
    payload     jsonb       not null,
    created_at  timestamptz not null
);
create index outbox_merchant_created on kernel.outbox (merchant_id, created_at);

-- Secrets the instances share (the token signing key), so any instance validates any token.
create table kernel.secrets (
    name       text primary key,
    value      bytea       not null,
    created_at timestamptz not null
);
