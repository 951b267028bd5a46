-- Bulk grant / revoke / extend: the uploaded file, its progress, and one staging row per CSV line
-- (loaded with COPY, validated and applied set-based; kept as the per-row results file).
create table access.bulk_jobs (
    id                bigint generated always as identity primary key,
    merchant_id       bigint      not null references accounts.merchants (id),
    action            text        not null check (action in ('grant', 'revoke', 'extend')),
    status            text        not null check (status in ('queued', 'loading', 'validating', 'applying', 'completed', 'rejected', 'failed')),
    dry_run           boolean     not null,
    apply_valid_rows  boolean     not null,
    file_name         text        not null,
    file_sha256       bytea       not null,
    file              bytea,
    total_rows        integer     not null default 0,
    loaded_rows       integer     not null default 0,
    applied_rows      integer     not null default 0,
    skipped_rows      integer     not null default 0,
    error_rows        integer     not null default 0,
    message           text,
    actor             text        not null,
    created_at        timestamptz not null,
    started_at        timestamptz,
    heartbeat_at      timestamptz,
    finished_at       timestamptz
);
create index bulk_jobs_merchant on access.bulk_jobs (merchant_id, id desc);
create index bulk_jobs_queued on access.bulk_jobs (id) where status in ('queued', 'loading', 'validating', 'applying');
-- the same file applied once: a re-upload finds the earlier job instead of applying again
create index bulk_jobs_same_file on access.bulk_jobs (merchant_id, action, file_sha256) where not dry_run;

create table access.bulk_rows (
    job_id     bigint      not null references access.bulk_jobs (id) on delete cascade,
    line       integer     not null,
    user_id    bigint,
    item_id    bigint,
    starts_at  timestamptz,
    expires_at timestamptz,
    raw        text        not null,
    outcome    text check (outcome in ('applied', 'skipped', 'error')),
    reason     text,
    pass_id    bigint,
    primary key (job_id, line)
);

-- A pass as the customer access record (the shape of PassView in the Access module), for events written
-- set-based by bulk jobs. A test compares its keys with the API's, so the two cannot drift apart. It reads no
-- table itself (callers join the viewer, title and fee), so PostgreSQL inlines it into set-based statements.
create function access.pass_record(p access.passes, customer_uuid uuid, email text, title text,
                                   fee_description text, fee_type text, amount numeric, currency text, now timestamptz)
returns jsonb language sql immutable as $$
    select jsonb_build_object(
        'item_access_id', p.id,
        'type', p.type,
        'status', case when p.revoked_at is not null then 'Revoked'
                       when p.expires_at <= now then 'Expired'
                       when p.starts_at > now then 'Scheduled'
                       when p.type = 'purchased' then 'Purchased'
                       when p.type = 'granted' then 'Granted'
                       when p.type = 'access-voucher' then 'Access-voucher'
                       else 'Full-discount' end,
        'resource_type', case when p.package_id is null then 'item' else 'package' end,
        'item_id', coalesce(p.item_id, p.package_id),
        'item_title', title,
        'package_id', p.package_id,
        'customer_id', p.consumer_id,
        'customer_uuid', customer_uuid,
        'consumer_email', email,
        'merchant_id', p.merchant_id,
        'starts_at', extract(epoch from p.starts_at)::bigint,
        'expires_at', extract(epoch from p.expires_at)::bigint,
        'created_at', extract(epoch from p.created_at)::bigint,
        'revoked', p.revoked_at is not null,
        'revoked_at', extract(epoch from p.revoked_at)::bigint,
        'is_trial', p.is_trial,
        'parent_resource_id', p.package_id,
        'source', p.source,
        'purchased_access_fee_id', p.access_fee_id,
        'purchased_access_fee_description', fee_description,
        'purchased_access_fee_type', fee_type,
        'purchased_amount', amount,
        'purchased_currency', trim(currency))
$$;
