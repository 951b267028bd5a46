-- Vouchers: discount vouchers (1-100 %) and access vouchers (their own access period), gift vouchers, rules,
-- every redeemable code, redemptions and code batches.
create schema if not exists vouchers;

create table vouchers.vouchers (
    id                     bigint generated always as identity primary key,
    merchant_id            bigint      not null references accounts.merchants (id),
    name                   text        not null,
    kind                   text        not null check (kind in ('discount', 'access')),
    -- the voucher's own code as created (it never changes); every redeemable code, batches too, is in vouchers.codes
    code                   text        not null,
    length                 integer check (length between 1 and 64),
    prefix                 text        not null default '',
    suffix                 text        not null default '',
    discount               integer     not null check (discount between 1 and 100),
    rebill_discount        integer     not null check (rebill_discount between 0 and 100),
    usage_limit            integer check (usage_limit >= 1),
    usage_counter          integer     not null default 0 check (usage_counter >= 0),
    per_customer_limit     integer check (per_customer_limit >= 1),
    discount_period        text        not null default 'once' check (discount_period in ('once', 'repeating', 'forever')),
    discount_duration      integer check (discount_duration >= 1),
    start_date             timestamptz not null,
    end_date               timestamptz,
    -- access vouchers: access ends on a fixed date, or lasts quantity x unit from redemption
    access_expires_at      timestamptz,
    access_period_quantity integer check (access_period_quantity between 1 and 1000),
    access_period_unit     text check (access_period_unit in ('day', 'month', 'year')),
    -- gift vouchers (bought by one viewer for another's email; created by Payments)
    is_gift                boolean     not null default false,
    gift_buyer_email       text,
    gift_receiver_email    text,
    gift_item_id           bigint,
    gift_access_fee_id     bigint,
    gift_amount            numeric(12, 2),
    gift_currency          text,
    created_at             timestamptz not null,
    updated_at             timestamptz not null,
    deleted_at             timestamptz,
    check (end_date is null or end_date > start_date),
    check (usage_limit is null or usage_counter <= usage_limit),
    check (discount_period <> 'repeating' or discount_duration is not null),
    check ((access_period_quantity is null) = (access_period_unit is null)),
    check (kind = 'discount' or (access_expires_at is null) <> (access_period_quantity is null))
);
-- The Vouchers list (newest first) and its name search.
create index vouchers_merchant on vouchers.vouchers (merchant_id, id desc) where deleted_at is null and not is_gift;
create index vouchers_merchant_name on vouchers.vouchers (merchant_id, lower(name)) where deleted_at is null;
create index vouchers_gifts on vouchers.vouchers (merchant_id, id desc) where is_gift and deleted_at is null;

-- Every code that redeems a voucher: its own (many uses) and the single-use codes of its batches.
-- Unique per merchant case-insensitively; a deleted voucher's codes are removed, so they can be used again.
create table vouchers.codes (
    id          bigint generated always as identity primary key,
    merchant_id bigint      not null,
    voucher_id  bigint      not null references vouchers.vouchers (id),
    batch_id    bigint,
    code        text        not null,
    used_at     timestamptz,
    used_by     bigint,
    created_at  timestamptz not null
);
create unique index codes_merchant_code on vouchers.codes (merchant_id, lower(code));
create index codes_voucher on vouchers.codes (voucher_id, id);

-- Where a voucher applies. No rule of a type = no restriction of that type.
create table vouchers.rules (
    id          bigint generated always as identity primary key,
    merchant_id bigint      not null,
    voucher_id  bigint      not null references vouchers.vouchers (id),
    rule_type   text        not null check (rule_type in ('assets', 'packages', 'access_fees', 'emails', 'payment_types')),
    value       text        not null,
    created_at  timestamptz not null
);
create unique index rules_voucher_type_value on vouchers.rules (voucher_id, rule_type, lower(value));

-- Uses per viewer, taken with one conditional upsert when a per-customer limit is set.
create table vouchers.customer_uses (
    voucher_id  bigint  not null references vouchers.vouchers (id),
    consumer_id bigint  not null,
    merchant_id bigint  not null,
    uses        integer not null,
    primary key (voucher_id, consumer_id)
);

create table vouchers.redemptions (
    id            bigint generated always as identity primary key,
    merchant_id   bigint      not null,
    voucher_id    bigint      not null references vouchers.vouchers (id),
    code_id       bigint      not null,
    code          text        not null,
    consumer_id   bigint      not null,
    item_id       bigint,
    package_id    bigint,
    access_fee_id bigint,
    pass_id       bigint,
    discount      integer     not null,
    created_at    timestamptz not null
);
create index redemptions_voucher on vouchers.redemptions (voucher_id, created_at desc);
create index redemptions_merchant on vouchers.redemptions (merchant_id, created_at desc);

-- Batches of single-use codes, generated in the background.
create table vouchers.code_batches (
    id           bigint generated always as identity primary key,
    merchant_id  bigint      not null,
    voucher_id   bigint      not null references vouchers.vouchers (id),
    requested    integer     not null check (requested between 1 and 100000),
    length       integer     not null check (length between 4 and 64),
    prefix       text        not null default '',
    suffix       text        not null default '',
    status       text        not null check (status in ('queued', 'generating', 'completed', 'failed')),
    generated    integer     not null default 0,
    message      text,
    created_at   timestamptz not null,
    heartbeat_at timestamptz,
    finished_at  timestamptz
);
create index code_batches_voucher on vouchers.code_batches (voucher_id, id desc);
create index code_batches_queued on vouchers.code_batches (id) where status in ('queued', 'generating');
