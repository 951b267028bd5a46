using Coravel.Invocable;
using Dapper;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Gatehouse.Payments;

/// <summary>
/// Finishes payments an instance left pending (it died between the gateway's answer and the outcome's commit): every
/// payment still pending well after the gateway timeout is looked up at its gateway by reference and settled with what
/// the gateway says. A charge the gateway never made fails without counting as a decline, and the voucher use goes back.
/// Several instances may run this at once: settling is guarded by the payment still being pending.
/// </summary>
public sealed class SettlePendingPayments(NpgsqlDataSource db, PaymentGateways gateways, TimeProvider clock, ILogger<SettlePendingPayments> log)
    : IInvocable
{
    /// <summary>Well past any gateway timeout: a payment pending this long is not being charged by anyone.</summary>
    public static readonly TimeSpan AbandonedAfter = TimeSpan.FromMinutes(2);

    public async Task Invoke()
    {
        var now = clock.GetUtcNow();
        List<(long Id, long MerchantId, Guid Reference, string Gateway)> abandoned;
        await using (var connection = await db.OpenConnectionAsync())
            abandoned = (await connection.QueryAsync<(long, long, Guid, string)>(
                "select id, merchant_id, reference, gateway from payments.payments where status = 'pending' and created_at < @before order by created_at limit 500",
                new { before = now - AbandonedAfter })).ToList();
        foreach (var (id, merchantId, reference, gateway) in abandoned)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
                var found = await gateways.Named(gateway).Find(merchantId, reference, timeout.Token);
                var settled = await PaymentOutcome.Settle(db, merchantId, id,
                    found ?? ChargeResult.Declined("The payment was interrupted before the card was charged"), clock.GetUtcNow(), isDecline: found is not null);
                log.LogWarning("Settled interrupted payment {PaymentId}: {Status}", id, settled.Status);
            }
            catch (Exception e)
            {
                log.LogError(e, "Interrupted payment {PaymentId} could not be settled; it is tried again", id);
            }
        }
    }
}
