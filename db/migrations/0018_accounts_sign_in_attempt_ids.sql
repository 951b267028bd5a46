-- A sign-in attempt is written as a failure before its password is checked (SignInFailures.Attempt) and removed
-- again when the password was right: the id names the row to remove.
alter table accounts.sign_in_failures add column id bigint generated always as identity primary key;
