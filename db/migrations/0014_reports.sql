-- Reports: generated CSV files (kept in the database, so any instance serves a download), their schedules, and the
-- views through which Reports reads the other modules' tables (nothing in Reports names those tables directly).
create schema reports;

-- Access records: one row per pass. A package pass is one row for the package, never expanded into its assets.
create view reports.access_records as
select p.id                                                   as item_access_id,
       p.merchant_id,
       p.type,
       p.source,
       case when p.package_id is null then 'item' else 'package' end as resource_type,
       coalesce(p.item_id, p.package_id)                      as item_id,
       coalesce(i.title, pk.title)                            as item_title,
       p.consumer_id                                          as customer_id,
       c.uuid                                                 as customer_uuid,
       c.email                                                as consumer_email,
       p.starts_at,
       p.expires_at,
       p.created_at,
       p.revoked_at,
       p.is_trial,
       p.access_fee_id                                        as purchased_access_fee_id,
       f.description                                          as purchased_access_fee_description,
       f.access_type                                          as purchased_access_fee_type,
       f.amount                                               as purchased_amount,
       f.currency::text                                       as purchased_currency
from access.passes p
join accounts.consumers c on c.id = p.consumer_id
left join access.items i on i.id = p.item_id
left join access.packages pk on pk.id = p.package_id
left join access.access_fees f on f.id = p.access_fee_id;

-- Payments: one row per charge attempt, with the voucher it used and its discount.
create view reports.payment_records as
select p.id,
       p.merchant_id,
       p.transaction_token,
       p.created_at,
       p.completed_at,
       p.status,
       p.action_type,
       p.consumer_id,
       c.email                                                as consumer_email,
       coalesce(p.item_id, p.package_id)                      as item_id,
       coalesce(i.title, pk.title, '')                        as item_title,
       coalesce(i.item_type, 'package')                       as item_type,
       p.access_fee_id,
       f.description                                          as access_fee_description,
       p.amount,
       p.charged_amount,
       p.currency::text                                       as currency_iso,
       p.voucher_code,
       p.voucher_discount,
       p.gateway                                              as gateway_name,
       p.payment_method                                       as payment_method_name,
       p.card_last4,
       pa.expires_at,
       p.subscription_id,
       p.gift_code,
       p.gift_receiver_email,
       p.failure_reason
from payments.payments p
join accounts.consumers c on c.id = p.consumer_id
join access.access_fees f on f.id = p.access_fee_id
left join access.items i on i.id = p.item_id
left join access.packages pk on pk.id = p.package_id
left join access.passes pa on pa.id = p.pass_id;

-- Subscriptions: one row per subscription, with the voucher terms it was taken with.
create view reports.subscription_records as
select s.id,
       s.merchant_id,
       s.created_at,
       s.status,
       s.consumer_id,
       c.email                                                as consumer_email,
       coalesce(s.item_id, s.package_id)                      as item_id,
       coalesce(i.title, pk.title, '')                        as item_title,
       case when s.package_id is null then 'item' else 'package' end as resource_type,
       s.access_fee_id,
       s.description,
       s.amount,
       s.currency::text                                       as currency,
       s.period_quantity || ' ' || s.period                   as billing_period,
       s.charges,
       s.next_rebill_at,
       s.failed_attempts,
       s.voucher_code,
       s.discount,
       s.rebill_discount,
       s.card_last4,
       s.cancelled_at,
       s.cancelled_by
from payments.subscriptions s
join accounts.consumers c on c.id = s.consumer_id
left join access.items i on i.id = s.item_id
left join access.packages pk on pk.id = s.package_id;

-- The home dashboard's series: passes granted, vouchers redeemed, revenue (succeeded charges).
create view reports.voucher_redemptions as
select r.merchant_id, r.created_at, r.voucher_id, r.discount
from vouchers.redemptions r;

-- Schedules (Transactions › Schedule report): one-time (run at first_run_at, data from data_from to data_to) or
-- recurring (first_run_at, then every repeat_every repeat_unit until ends_at; data for the data_last data_unit
-- before each run). next_run_at is the next due time, null once the schedule has no more runs.
create table reports.schedules (
    id            bigint generated always as identity primary key,
    merchant_id   bigint      not null references accounts.merchants (id),
    name          text        not null,
    type          text        not null check (type in ('access', 'payments', 'subscriptions')),
    kind          text        not null check (kind in ('once', 'recurring')),
    first_run_at  timestamptz not null,
    repeat_every  integer check (repeat_every between 1 and 366),
    repeat_unit   text check (repeat_unit in ('day', 'week', 'month')),
    data_from     timestamptz,
    data_to       timestamptz,
    data_last     integer check (data_last between 1 and 366),
    data_unit     text check (data_unit in ('day', 'week', 'month')),
    ends_at       timestamptz,
    access_status text        not null default 'all' check (access_status in ('active', 'inactive', 'all')),
    record_types  text[]      not null default '{}',
    columns       text[]      not null default '{}',
    next_run_at   timestamptz,
    runs          integer     not null default 0,
    created_at    timestamptz not null,
    updated_at    timestamptz not null,
    check (kind = 'once' and data_from is not null and data_to is not null
        or kind = 'recurring' and repeat_every is not null and repeat_unit is not null and data_last is not null and data_unit is not null)
);
create index schedules_merchant on reports.schedules (merchant_id, id desc);
-- The scheduler's claim: due schedules, oldest first.
create index schedules_due on reports.schedules (next_run_at) where next_run_at is not null;

-- Reports: what was asked for, the progress of its generation, and when it is deleted.
create table reports.reports (
    id            bigint generated always as identity primary key,
    merchant_id   bigint      not null references accounts.merchants (id),
    schedule_id   bigint references reports.schedules (id) on delete set null,
    -- The schedule's due time this report was generated for: each due time gets one report.
    due_at        timestamptz,
    name          text        not null,
    type          text        not null check (type in ('access', 'payments', 'subscriptions')),
    period_from   timestamptz not null,
    period_to     timestamptz not null,
    access_status text        not null default 'all' check (access_status in ('active', 'inactive', 'all')),
    record_types  text[]      not null default '{}',
    columns       text[]      not null,
    status        text        not null check (status in ('queued', 'running', 'ready', 'failed')),
    rows_total    bigint,
    rows_written  bigint      not null default 0,
    size_bytes    bigint      not null default 0,
    message       text,
    requested_by  text        not null,
    created_at    timestamptz not null,
    started_at    timestamptz,
    finished_at   timestamptz,
    expires_at    timestamptz not null,
    unique (schedule_id, due_at),
    check (period_to > period_from)
);
create index reports_merchant on reports.reports (merchant_id, id desc);
create index reports_merchant_type on reports.reports (merchant_id, type, id desc);
create index reports_schedule on reports.reports (schedule_id, id desc) where schedule_id is not null;
create index reports_unfinished on reports.reports (id) where status in ('queued', 'running');
create index reports_expires on reports.reports (expires_at);

-- The CSV file, in chunks of about 1 MB in order, so writing and downloading never hold a whole file in memory.
create table reports.report_chunks (
    report_id bigint  not null references reports.reports (id) on delete cascade,
    seq       integer not null,
    data      bytea   not null,
    primary key (report_id, seq)
);
