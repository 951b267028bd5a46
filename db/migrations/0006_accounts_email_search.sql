-- The Access section searches viewers by the whole email, or exactly its part before or after the @.
create index consumers_email_local on accounts.consumers (merchant_id, lower(split_part(email, '@', 1)));
create index consumers_email_domain on accounts.consumers (merchant_id, lower(split_part(email, '@', 2)));
