-- Failed sign-ins are also counted per client address (SignInFailures.Attempt), across every account and instance.
alter table accounts.sign_in_failures add column address text;
create index sign_in_failures_by_address on accounts.sign_in_failures (address, failed_at) where address is not null;
