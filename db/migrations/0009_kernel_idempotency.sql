-- Idempotency-Key claims and the first answer to each, so a retried create or spend answers as the first
-- attempt did instead of doing it twice. A key belongs to one caller (merchant and token subject), so two
-- accounts never share keys. Rows are claimed in progress, then done with the stored response; a 5xx or an
-- exception deletes the claim. PruneIdempotencyKeys deletes rows after 48 hours.
create table kernel.idempotency_keys (
    merchant_id  bigint      not null,
    -- the token's role and subject: 'merchant:<merchant id>' or 'consumer:<consumer id>'
    caller       text        not null,
    key          text        not null check (length(key) between 1 and 255),
    -- SHA-256 of the method, path, query and body (a multipart body by its parts): the same key with other parameters is refused
    fingerprint  bytea       not null,
    state        text        not null check (state in ('in_progress', 'done')),
    status_code  integer,
    content_type text,
    body         bytea,
    -- when the key was claimed; a claim still in progress 5 minutes later was left by a crashed instance
    created_at   timestamptz not null,
    primary key (merchant_id, caller, key),
    check (state = 'in_progress' or (status_code is not null and body is not null))
);
create index idempotency_keys_created on kernel.idempotency_keys (created_at);
