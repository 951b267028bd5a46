-- Voucher codes viewers submit, kept while they count against the guessing limits (VoucherGuesses): an attempt is
-- written before its code is looked at and removed again unless the code was unknown, so what stays are wrong
-- guesses, counted per viewer and per client address over a window on every instance. Pruned hourly.
create table vouchers.code_guesses (
    id          bigint generated always as identity primary key,
    merchant_id bigint      not null,
    consumer_id bigint      not null,
    address     text        not null,
    guessed_at  timestamptz not null
);
create index code_guesses_consumer on vouchers.code_guesses (merchant_id, consumer_id, guessed_at);
create index code_guesses_address on vouchers.code_guesses (merchant_id, address, guessed_at);
