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
    heartbeat_at      timestamptz, -- progress only: a job's worker holds an advisory lock while it runs
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
    -- for revoke and extend: the expiry before the change, for the audit and the event
    before_expires timestamptz,
    primary key (job_id, line)
);
