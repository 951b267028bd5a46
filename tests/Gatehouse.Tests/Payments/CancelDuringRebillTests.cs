using Dapper;
using Gatehouse.Payments;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Tests.Vouchers;

namespace Gatehouse.Tests.Payments;

/// <summary>
/// A subscription cancelled while its rebill is at the gateway: the rebill's outcome is still recorded, but a decline
/// neither schedules a retry nor expires the cancelled subscription.
/// </summary>
public sealed class CancelDuringRebillTests(AppFixture app) : IClassFixture<AppFixture>
{
    /// <summary>Subscribes, then leaves a rebill pending at the gateway as the rebill job's claim does, after
    /// <paramref name="failedAttempts"/> declined attempts.</summary>
    private async Task<(PaymentShop Shop, long Subscription, long Rebill)> RebillAtTheGateway(int failedAttempts)
    {
        var shop = await PaymentShop.Open(app);
        var fee = await shop.MonthlyFee(app);
        var subscription = (await shop.Pay(app, PaymentShop.CardForm(fee, PaymentShop.DeclinesAfterFirst), path: "/subscriptions"))
            .GetProperty("subscription_id").GetInt64();
        await using var connection = await app.Db.OpenConnectionAsync();
        var rebill = await connection.ExecuteScalarAsync<long>(
            """
            insert into payments.payments (merchant_id, consumer_id, access_fee_id, item_id, package_id, subscription_id, action_type, status,
                reference, amount, charged_amount, currency, gateway, payment_method, card_last4, cycle, attempt, created_at)
            select merchant_id, consumer_id, access_fee_id, item_id, package_id, id, 'rebill', 'pending', gen_random_uuid(), amount, amount,
                   currency, gateway, 'card', card_last4, 1, @attempt, @now
            from payments.subscriptions where id = @subscription
            returning id
            """, new { subscription, attempt = failedAttempts + 1, now = app.Clock.GetUtcNow() });
        await connection.ExecuteAsync(
            "update payments.subscriptions set pending_payment_id = @rebill, failed_attempts = @failedAttempts where id = @subscription",
            new { rebill, failedAttempts, subscription });
        return (shop, subscription, rebill);
    }

    private async Task<(string Status, DateTimeOffset? NextRebillAt, long Events)> State(PaymentShop shop, long subscription)
    {
        await using var connection = await app.Db.OpenConnectionAsync();
        var (status, next) = await connection.QuerySingleAsync<(string, DateTimeOffset?)>(
            "select status, next_rebill_at from payments.subscriptions where id = @subscription", new { subscription });
        var events = await connection.ExecuteScalarAsync<long>(
            "select count(*) from kernel.outbox where merchant_id = @Id and type in ('subscribe.failed', 'subscribe.expired')",
            new { shop.Shop.Merchant.Id });
        return (status, next, events);
    }

    [Theory]
    [InlineData(0)] // a decline that would schedule a retry
    [InlineData(3)] // the last attempt: a decline that would expire the subscription
    public async Task A_declined_rebill_leaves_a_subscription_cancelled_meanwhile_cancelled(int failedAttempts)
    {
        var (shop, subscription, rebill) = await RebillAtTheGateway(failedAttempts);
        await VoucherShop.Send(app, shop.Shop.Token, x => x.Post.Url($"/v2/subscriptions/{subscription}/cancel"));

        var settled = await PaymentOutcome.Settle(app.Db, shop.Shop.Merchant.Id, rebill, ChargeResult.Declined("Your card was declined", "0341"),
            app.Clock.GetUtcNow());

        Assert.Equal(("failed", "Your card was declined"), (settled.Status, settled.FailureReason));
        Assert.Equal(("cancelled", (DateTimeOffset?)null, 0L), await State(shop, subscription));
    }
}
