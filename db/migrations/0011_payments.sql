-- Payments and subscriptions: checkouts on price options through a payment gateway, with the voucher each one used.
create schema payments;

-- The gateway a merchant charges through (no row: the built-in test gateway).
create table payments.gateway_settings (
    merchant_id bigint      primary key references accounts.merchants (id),
    gateway     text        not null,
    updated_at  timestamptz not null
);

-- Subscriptions: a viewer's recurring charge on a subscription price option. The voucher's terms are copied at
-- subscribe time so later edits to the voucher don't change what an existing subscriber pays.
create table payments.subscriptions (
    id                bigint generated always as identity primary key,
    merchant_id       bigint         not null references accounts.merchants (id),
    consumer_id       bigint         not null references accounts.consumers (id),
    access_fee_id     bigint         not null references access.access_fees (id),
    item_id           bigint references access.items (id),
    package_id        bigint references access.packages (id),
    cancel_token      text           not null unique,
    status            text           not null check (status in ('pending', 'active', 'cancelled', 'expired', 'failed')),
    description       text           not null,
    amount            numeric(12, 2) not null,
    currency          char(3)        not null,
    period_quantity   integer        not null,
    period            text           not null,
    gateway           text           not null,
    payment_token     text,
    card_last4        text,
    voucher_id        bigint,
    voucher_code      text,
    discount          integer        not null default 0,
    rebill_discount   integer        not null default 0,
    discount_period   text,
    discount_duration integer,
    pass_id           bigint references access.passes (id),
    -- Billing periods are counted from the anchor, so months don't drift (Jan 31, Feb 28, Mar 31, ...).
    anchor_at         timestamptz,
    periods_from_anchor integer      not null default 0,
    -- Paid charges so far (a trial's card check is not one): which discount the next charge gets.
    charges           integer        not null default 0,
    -- The billing cycle last paid for (0: the subscribe charge); a rebill charges cycle + 1.
    cycle             integer        not null default 0,
    -- The rebill at the gateway right now: set when claimed, cleared when settled, so no one claims it twice.
    pending_payment_id bigint,
    next_rebill_at    timestamptz,
    failed_attempts   integer        not null default 0,
    cancelled_at      timestamptz,
    cancelled_by      text,
    created_at        timestamptz    not null,
    updated_at        timestamptz    not null,
    check ((item_id is null) <> (package_id is null))
);
-- One live subscription per viewer and price option: a double submission is refused, not charged twice.
create unique index subscriptions_one_live on payments.subscriptions (consumer_id, access_fee_id) where status in ('pending', 'active');
-- The rebill job's claim: due active subscriptions, oldest due first.
create index subscriptions_due on payments.subscriptions (next_rebill_at) where status = 'active' and pending_payment_id is null;
create index subscriptions_merchant_created on payments.subscriptions (merchant_id, created_at desc, id desc);
create index subscriptions_consumer_created on payments.subscriptions (consumer_id, created_at desc, id desc);

-- Every charge attempt, its outcome and the voucher it used (payment reports show who used which voucher).
create table payments.payments (
    id                bigint generated always as identity primary key,
    merchant_id       bigint         not null references accounts.merchants (id),
    consumer_id       bigint         not null references accounts.consumers (id),
    access_fee_id     bigint         not null references access.access_fees (id),
    item_id           bigint references access.items (id),
    package_id        bigint references access.packages (id),
    subscription_id   bigint references payments.subscriptions (id),
    -- purchase (ppv), subscribe (a subscription's first charge), rebill, gift, voucher (an access or 100 % voucher, no card)
    action_type       text           not null check (action_type in ('purchase', 'subscribe', 'rebill', 'gift', 'voucher')),
    status            text           not null check (status in ('pending', 'succeeded', 'failed')),
    -- The gateway's reference: the key a retried charge is deduplicated on.
    reference         uuid           not null unique,
    amount            numeric(12, 2) not null,
    charged_amount    numeric(12, 2) not null check (charged_amount >= 0),
    currency          char(3)        not null,
    gateway           text           not null,
    payment_method    text           not null,
    card_last4        text,
    transaction_token text,
    failure_reason    text,
    voucher_id        bigint,
    voucher_code      text,
    voucher_discount  integer,
    redemption_id     bigint,
    gift_voucher_id   bigint,
    gift_receiver_email text,
    gift_code         text,
    pass_id           bigint references access.passes (id),
    -- A subscription's trial: the card is checked (a charge of 0) and the pass is a trial pass.
    is_trial          boolean        not null default false,
    -- A rebill's cycle and attempt: one charge per subscription, cycle and attempt, whatever the number of instances.
    cycle             integer,
    attempt           integer,
    created_at        timestamptz    not null,
    completed_at      timestamptz,
    unique (subscription_id, cycle, attempt),
    check ((item_id is null) <> (package_id is null))
);
-- A second submission of the same price option while the first is at the gateway is refused.
create unique index payments_one_pending on payments.payments (consumer_id, access_fee_id) where status = 'pending' and subscription_id is null;
-- The Transactions tab and its filters: newest first per merchant, by date range, by viewer, by voucher.
create index payments_merchant_created on payments.payments (merchant_id, created_at desc, id desc);
create index payments_consumer_created on payments.payments (consumer_id, created_at desc, id desc);
create index payments_merchant_voucher on payments.payments (merchant_id, lower(voucher_code)) where voucher_code is not null;
create index payments_subscription on payments.payments (subscription_id, id) where subscription_id is not null;
-- Payments left pending by an instance that died between the gateway's answer and the outcome's commit.
create index payments_pending on payments.payments (created_at) where status = 'pending';

-- The built-in test gateway's own books: saved cards (their behaviour, never the number) and charges by reference,
-- so a retried charge with the same reference is answered, not charged again.
create table payments.test_gateway_cards (
    token       text        primary key,
    merchant_id bigint      not null,
    last4       text        not null,
    behaviour   text        not null,
    created_at  timestamptz not null
);
create table payments.test_gateway_charges (
    reference         uuid           primary key,
    merchant_id       bigint         not null,
    card_token        text           not null,
    amount            numeric(12, 2) not null,
    currency          char(3)        not null,
    succeeded         boolean        not null,
    decline_reason    text,
    transaction_token text           not null,
    created_at        timestamptz    not null
);
