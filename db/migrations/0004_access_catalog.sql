create schema access;

-- Assets (InPlayer "items"). content is the protected part, shown only through an access check.
create table access.items (
    id          bigint generated always as identity primary key,
    merchant_id bigint      not null references accounts.merchants (id),
    title       text        not null,
    item_type   text        not null check (item_type in ('html', 'video', 'file', 'rss')),
    content     text        not null default '',
    metadata    jsonb       not null default '{}',
    is_active   boolean     not null default true,
    created_at  timestamptz not null,
    updated_at  timestamptz not null
);
create index items_merchant on access.items (merchant_id, id desc);
create index items_merchant_title on access.items (merchant_id, lower(title));

create table access.packages (
    id          bigint generated always as identity primary key,
    merchant_id bigint      not null references accounts.merchants (id),
    title       text        not null,
    content     text        not null default '',
    metadata    jsonb       not null default '{}',
    is_active   boolean     not null default true,
    created_at  timestamptz not null,
    updated_at  timestamptz not null
);
create index packages_merchant on access.packages (merchant_id, id desc);
create index packages_merchant_title on access.packages (merchant_id, lower(title));

create table access.package_items (
    merchant_id bigint      not null,
    package_id  bigint      not null references access.packages (id),
    item_id     bigint      not null references access.items (id),
    added_at    timestamptz not null,
    primary key (package_id, item_id)
);
-- the access check asks "which packages hold this item?"
create index package_items_item on access.package_items (item_id, package_id);

-- Price options of an item or a package.
create table access.access_fees (
    id                bigint generated always as identity primary key,
    merchant_id       bigint        not null references accounts.merchants (id),
    item_id           bigint references access.items (id),
    package_id        bigint references access.packages (id),
    access_type       text          not null check (access_type in ('ppv', 'subscription')),
    amount            numeric(12, 2) not null check (amount >= 0),
    currency          char(3)       not null,
    period_quantity   integer       not null check (period_quantity between 1 and 1000),
    period            text          not null check (period in ('hour', 'day', 'week', 'month', 'year')),
    description       text          not null default '',
    trial_quantity    integer check (trial_quantity between 1 and 1000),
    trial_period      text check (trial_period in ('hour', 'day', 'week', 'month', 'year')),
    trial_description text,
    starts_at         timestamptz,
    expires_at        timestamptz,
    is_active         boolean       not null default true,
    created_at        timestamptz   not null,
    updated_at        timestamptz   not null,
    check ((item_id is null) <> (package_id is null)),
    check ((trial_quantity is null) = (trial_period is null))
);
create index access_fees_item on access.access_fees (item_id) where item_id is not null;
create index access_fees_package on access.access_fees (package_id) where package_id is not null;
create index access_fees_merchant on access.access_fees (merchant_id, id);
