using Coravel.Invocable;
using Dapper;
using Gatehouse.Kernel;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Gatehouse.Payments;

/// <summary>
/// Charges due subscriptions (Coravel, every few seconds). A batch is claimed in one short transaction with FOR UPDATE
/// SKIP LOCKED: each claimed subscription gets its pending rebill payment (unique per subscription, cycle and attempt) and
/// is marked with it, so no other instance claims it again. The gateway is then called with no transaction open, keyed
/// by the payment's reference, and each outcome is settled in its own transaction (<see cref="PaymentOutcome"/>): the
/// pass extended, or the retry scheduled, or the subscription expired after the last retry. A rebill left at the gateway
/// by an instance that died is finished by <see cref="SettlePendingPayments"/>.
/// The charge is the price less the voucher's rebill_discount while its discount_period lasts (once: the first charge
/// only; repeating: the first charge and discount_duration rebills; forever: every rebill).
/// </summary>
public sealed class RunRebills(NpgsqlDataSource db, PaymentGateways gateways, TimeProvider clock, IConfiguration configuration,
    ILogger<RunRebills> log) : IInvocable
{
    private const int BatchSize = 50;

    private sealed record Claimed(long PaymentId, long MerchantId, Guid Reference, decimal Charged, string Currency, string Description,
        string Gateway, string? PaymentToken);

    public async Task Invoke()
    {
        while (true)
        {
            var batch = await Claim(clock.GetUtcNow());
            if (batch.Count == 0) return;
            // Rebills of different merchants and viewers are independent: a few at a time, so one slow gateway call doesn't hold the rest.
            await Parallel.ForEachAsync(batch, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (rebill, _) =>
            {
                try
                {
                    var result = rebill.Charged == 0
                        ? new ChargeResult(true, "free-" + rebill.Reference.ToString("N")[..12], rebill.PaymentToken, null, null)
                        : await Checkout.Charge(gateways.Named(rebill.Gateway), new ChargeRequest(rebill.MerchantId, rebill.Reference,
                            rebill.Charged, rebill.Currency, rebill.Description, null, rebill.PaymentToken), Checkout.GatewayTimeout(configuration));
                    await PaymentOutcome.Settle(db, rebill.MerchantId, rebill.PaymentId, result, clock.GetUtcNow());
                }
                catch (Exception e)
                {
                    // Left pending: SettlePendingPayments asks the gateway and finishes it.
                    log.LogError(e, "Rebill payment {PaymentId} was not settled", rebill.PaymentId);
                }
            });
            if (batch.Count < BatchSize) return;
        }
    }

    private async Task<List<Claimed>> Claim(DateTimeOffset now)
    {
        await using var connection = await db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        // A subscription whose pass the merchant revoked is not charged again: it is cancelled.
        var revoked = await connection.QueryAsync<(long Id, long MerchantId)>(
            """
            update payments.subscriptions s set status = 'cancelled', cancelled_at = @now, cancelled_by = 'system: access revoked',
                   next_rebill_at = null, updated_at = @now
            from access.passes p
            where s.status = 'active' and s.pending_payment_id is null and s.next_rebill_at <= @now
              and p.id = s.pass_id and p.revoked_at is not null
            returning s.id, s.merchant_id
            """, new { now }, transaction);
        foreach (var (id, merchantId) in revoked)
            await Outbox.Enqueue(connection, transaction, merchantId, "subscribe.cancelled.success",
                (await Subscriptions.One(connection, merchantId, id, "", transaction))!, now);

        var claimed = (await connection.QueryAsync<Claimed>(
            """
            with due as (
                select s.id from payments.subscriptions s
                where s.status = 'active' and s.pending_payment_id is null and s.next_rebill_at <= @now
                order by s.next_rebill_at
                limit @BatchSize
                for update skip locked),
            charge as (
                select s.*, s.cycle + 1 as next_cycle,
                       (select count(*) + 1 from payments.payments p where p.subscription_id = s.id and p.cycle = s.cycle + 1) as attempt,
                       payments.charge_percent(s.charges, s.discount, s.rebill_discount, s.discount_period, s.discount_duration) as percent,
                       payments.charge_amount(s.amount, s.charges, s.discount, s.rebill_discount, s.discount_period, s.discount_duration) as charged
                from payments.subscriptions s join due on due.id = s.id),
            inserted as (
                insert into payments.payments (merchant_id, consumer_id, access_fee_id, item_id, package_id, subscription_id, action_type,
                    status, reference, amount, charged_amount, currency, gateway, payment_method, card_last4, voucher_id, voucher_code,
                    voucher_discount, cycle, attempt, created_at)
                select merchant_id, consumer_id, access_fee_id, item_id, package_id, id, 'rebill', 'pending', gen_random_uuid(), amount,
                       charged, currency, gateway, 'card', card_last4, voucher_id,
                       case when percent > 0 then voucher_code end, case when percent > 0 then percent end, next_cycle, attempt, @now
                from charge
                on conflict (subscription_id, cycle, attempt) do nothing
                returning id, subscription_id, merchant_id, reference, charged_amount, currency)
            update payments.subscriptions s set pending_payment_id = i.id, updated_at = @now
            from inserted i
            where s.id = i.subscription_id
            returning i.id as payment_id, i.merchant_id, i.reference, i.charged_amount as charged, trim(i.currency) as currency,
                      s.description, s.gateway, s.payment_token
            """, new { now, BatchSize }, transaction)).ToList();
        await transaction.CommitAsync();
        return claimed;
    }
}
