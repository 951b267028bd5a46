-- What a subscription charge costs, as one rule that the rebill job's claim and every subscription read (its next
-- charge) both use. The charge with index 0 (the first paid one) gets the voucher's discount; later ones get
-- rebill_discount while the discount period lasts: once (none), repeating (the first discount_duration rebills), forever.
create function payments.charge_percent(charge_index integer, discount integer, rebill_discount integer,
                                        discount_period text, discount_duration integer)
returns integer language sql immutable as $$
    select case when charge_index = 0 then discount
                when discount_period = 'forever' then rebill_discount
                when discount_period = 'repeating' and charge_index <= coalesce(discount_duration, 0) then rebill_discount
                else 0 end
$$;

-- The amount less that percentage, in cents rounded half away from zero (numeric round), as checkout rounds it.
create function payments.charge_amount(amount numeric, charge_index integer, discount integer, rebill_discount integer,
                                       discount_period text, discount_duration integer)
returns numeric language sql immutable as $$
    select round(amount * (100 - payments.charge_percent(charge_index, discount, rebill_discount, discount_period, discount_duration)) / 100.0, 2)
$$;
