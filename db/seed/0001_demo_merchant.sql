-- The demo merchant the run command prints a login and a token for. Idempotent: a second run changes nothing.
-- Its API secret is random per database; its admin password is "gatehouse-demo" (hashed below).
insert into accounts.merchants (uuid, name, email, api_secret, created_at, updated_at)
values ('3b9d5c4e-7f61-4a8e-9d2b-6c1e0f4a7b52', 'Demo Media', 'owner@demo-media.test',
        'gh_sk_' || replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), now(), now())
on conflict (uuid) do nothing;

insert into accounts.admin_users (merchant_id, email, full_name, password_hash, created_at)
select id, 'admin@demo-media.test', 'Demo Admin',
       'AQAAAAIAAYagAAAAEKJkZD2omRnolhWvaf54vpVc2+rdt3hfV/GqtTeopvxQh1yyLyVBfXmgZA2AxGYixQ==', now()
from accounts.merchants where uuid = '3b9d5c4e-7f61-4a8e-9d2b-6c1e0f4a7b52'
on conflict do nothing;
