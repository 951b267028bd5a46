-- Webhooks: merchants' endpoints, one message per event and endpoint, and every delivery attempt.
create schema webhooks;

create table webhooks.endpoints (
    id                          bigint generated always as identity primary key,
    merchant_id                 bigint      not null references accounts.merchants (id),
    url                         text        not null,
    description                 text        not null default '',
    -- The event types it wants; empty: all of them.
    event_types                 text[]      not null default '{}',
    format                      text        not null check (format in ('standard', 'inplayer')),
    enabled                     boolean     not null default true,
    disabled_reason             text,
    secret                      text        not null,
    -- During a rotation the old secret signs too, until it expires.
    previous_secret             text,
    previous_secret_expires_at  timestamptz,
    -- Set on the first failure after a success; an endpoint failing for 5 days is disabled.
    failing_since               timestamptz,
    created_at                  timestamptz not null,
    updated_at                  timestamptz not null
);
create index endpoints_merchant on webhooks.endpoints (merchant_id, id);

-- Which outbox events have been turned into messages (the outbox's delivery state belongs to this module).
alter table kernel.outbox add column fanned_out_at timestamptz;
create index outbox_not_fanned_out on kernel.outbox (id) where fanned_out_at is null;
-- Existing events predate every endpoint: nothing to deliver.
update kernel.outbox set fanned_out_at = created_at;

-- One message per event and endpoint. webhook-id is msg_<outbox id>: the same on every retry and replay.
create table webhooks.messages (
    id              bigint generated always as identity primary key,
    merchant_id     bigint      not null,
    endpoint_id     bigint      not null references webhooks.endpoints (id) on delete cascade,
    outbox_id       bigint      not null,
    event_type      text        not null,
    -- pending: due at next_attempt_at; delivering: claimed by a worker until claimed_until;
    -- held: its endpoint is disabled (delivered after re-enabling); delivered; failed: the schedule ran out.
    status          text        not null check (status in ('pending', 'delivering', 'held', 'delivered', 'failed')),
    attempts        integer     not null default 0,
    next_attempt_at timestamptz,
    claimed_until   timestamptz,
    last_status     integer,
    last_error      text,
    created_at      timestamptz not null,
    delivered_at    timestamptz,
    unique (endpoint_id, outbox_id)
);
-- The dispatcher's claim: due pending messages, and deliveries whose worker died.
create index messages_due on webhooks.messages (next_attempt_at) where status = 'pending';
create index messages_stale on webhooks.messages (claimed_until) where status = 'delivering';
-- The delivery log and its filters (endpoint, status, event type), newest first; replays of failed messages.
create index messages_merchant_created on webhooks.messages (merchant_id, id desc);
create index messages_endpoint_status on webhooks.messages (endpoint_id, status, id desc);

create table webhooks.attempts (
    id               bigint generated always as identity primary key,
    message_id       bigint      not null references webhooks.messages (id) on delete cascade,
    merchant_id      bigint      not null,
    attempt          integer     not null,
    at               timestamptz not null,
    status_code      integer,
    latency_ms       integer     not null,
    response_excerpt text,
    error            text
);
create index attempts_message on webhooks.attempts (message_id, id);
