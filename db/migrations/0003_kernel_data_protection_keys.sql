-- ASP.NET Core Data Protection keys (admin cookies, antiforgery tokens), shared so every instance
-- reads what another wrote.
create table kernel.data_protection_keys (
    id           bigint generated always as identity primary key,
    friendly_name text not null,
    xml          text not null,
    created_at   timestamptz not null default now()
);
