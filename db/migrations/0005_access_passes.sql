-- Access passes: a viewer's access to an item or a package (package passes are never expanded per item).
create table access.passes (
    id            bigint generated always as identity primary key,
    merchant_id   bigint      not null references accounts.merchants (id),
    consumer_id   bigint      not null references accounts.consumers (id),
    item_id       bigint references access.items (id),
    package_id    bigint references access.packages (id),
    access_fee_id bigint references access.access_fees (id),
    type          text        not null check (type in ('purchased', 'granted', 'access-voucher', 'full-discount')),
    source        text        not null check (source in ('payment', 'voucher', 'bulk', 'admin', 'api')),
    source_id     bigint,
    starts_at     timestamptz not null,
    expires_at    timestamptz not null,
    revoked_at    timestamptz,
    is_trial      boolean     not null default false,
    created_at    timestamptz not null,
    updated_at    timestamptz not null,
    check ((item_id is null) <> (package_id is null)),
    check (expires_at > starts_at)
);
-- The access check (the hot path of every play): a viewer's unrevoked passes for an item or its packages.
create index passes_check_item on access.passes (consumer_id, item_id, expires_at) where revoked_at is null and item_id is not null;
create index passes_check_package on access.passes (consumer_id, package_id, expires_at) where revoked_at is null and package_id is not null;
-- The Access table, newest first, and its filters: by viewer (also after an email lookup), by asset, by package.
create index passes_merchant_created on access.passes (merchant_id, created_at desc, id desc);
create index passes_consumer_created on access.passes (consumer_id, created_at desc, id desc);
create index passes_item_created on access.passes (item_id, created_at desc, id desc) where item_id is not null;
create index passes_package_created on access.passes (package_id, created_at desc, id desc) where package_id is not null;

-- Every change to a pass: who, when, what it was before and after.
create table access.pass_changes (
    id          bigint generated always as identity primary key,
    merchant_id bigint      not null,
    pass_id     bigint      not null references access.passes (id),
    action      text        not null check (action in ('granted', 'revoked', 'extended')),
    actor       text        not null,
    at          timestamptz not null,
    before      jsonb,
    after       jsonb
);
create index pass_changes_pass on access.pass_changes (pass_id, id);
