using Dapper;
using Gatehouse.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Gatehouse.Tests.Payments;

/// <summary>
/// The payment and subscription calls of the official InPlayer JS SDK (tests/sdk, @inplayer-org/inplayer.js 3.13.x)
/// against Gatehouse on a real port, with the built-in test gateway. The merchant's shop (three assets, a ppv, a
/// subscription and a second ppv price option, a 50 % voucher) is set up through the merchant API by the script; the
/// viewer then buys, is declined, subscribes, reads the subscription, the purchase and the payment history, cancels
/// through unsubscribe_url and buys with the voucher, every answer checked in tests/sdk/payments.mjs. Here: every
/// step ran and passed, and the database holds what the SDK was told.
/// </summary>
public sealed class InPlayerSdkPaymentTests(ServerFixture server, ITestOutputHelper output) : IClassFixture<ServerFixture>
{
    private static readonly string[] Steps =
    [
        "setup: the merchant signs in with client_credentials",
        "setup: three assets: ppv 4.99 EUR for 2 days, a 9.99 EUR monthly subscription, ppv 10.00 EUR",
        "setup: POST /v2/vouchers creates a 50 % voucher from yesterday",
        "setup: POST /accounts registers a viewer",
        "Account.signIn signs the viewer in",
        "Asset.checkAccessForAsset before buying: refused with HTTP 402",
        "Payment.getPaymentMethods lists the card",
        "Payment.createPayment buys the match with the good card: 4.99 EUR charged",
        "Payment.getPurchaseHistory(\"active\", 0, 5) shows the purchased match",
        "Asset.checkAccessForAsset after the purchase: granted for 2 days, with item.content",
        "Payment.createPayment with the declined card: refused with HTTP 402 {code, message}",
        "Asset.checkAccessForAsset on the asset the declined card did not buy: HTTP 402",
        "Subscription.createSubscription subscribes to the channel with the good card",
        "Subscription.getSubscriptions lists it: active, with InPlayer's field names and an absolute unsubscribe_url",
        "Subscription.getSubscriptions(0, 15, \"active\") filters by status",
        "Subscription.getSubscription(id) reads it",
        "Asset.checkAccessForAsset on the channel: granted by the subscription until the next billing date",
        "Payment.getPaymentHistory lists the subscription charge, the declined attempt (failed) and the purchase",
        "Subscription.cancelSubscription(unsubscribe_url) answers status \"cancelled\"",
        "Subscription.getSubscriptions then shows it cancelled, with no next billing date",
        "Asset.checkAccessForAsset on the channel after the cancel: the paid month still runs",
        "Subscription.cancelSubscription a second time: refused with HTTP 409",
        "Voucher.getDiscount prices the replay with the 50 % voucher: 5.00",
        "Payment.createPayment with voucherCode buys the replay: half of 10.00 charged",
        "Payment.getPaymentHistory shows the voucher purchase: charged_amount 5",
        "Payment.getPurchaseHistory and Asset.checkAccessForAsset: the replay is bought too",
    ];

    private sealed record PaymentRow(string ActionType, string Status, decimal Amount, decimal ChargedAmount, string? VoucherCode,
        int? VoucherDiscount, string? FailureReason, bool Passed);

    private sealed record SubscriptionRow(string Status, string? CancelledBy, bool HasNextRebill, int Charges, bool HasPass);

    [Fact]
    public async Task The_js_sdk_buys_subscribes_reads_the_history_and_cancels_through_the_unsubscribe_url()
    {
        var merchant = await Given.Merchant(server.Db);

        var stdout = await NodeScript.RunSdkScript(output, "payments.mjs", server.BaseUrl, merchant.Uuid.ToString(), merchant.Secret);

        // Every step ran, in order, and passed.
        var printed = stdout.Split('\n').Where(l => l.StartsWith("ok ") || l.StartsWith("not ok ")).ToList();
        Assert.Equal(Steps.Length, printed.Count);
        for (var i = 0; i < Steps.Length; i++)
            Assert.StartsWith($"ok {i + 1} - {Steps[i]}", printed[i]);
        Assert.Contains($"# all {Steps.Length} steps passed", stdout);

        // What the SDK was told is what the database holds.
        await using var connection = await server.Db.OpenConnectionAsync();
        var payments = (await connection.QueryAsync<PaymentRow>(
            """
            select action_type, status, amount, charged_amount, voucher_code, voucher_discount, failure_reason, pass_id is not null as passed
            from payments.payments where merchant_id = @Id order by id
            """, new { merchant.Id })).ToList();
        var code = Assert.Single(payments, p => p.VoucherCode is not null).VoucherCode;
        Assert.StartsWith("HALF-OFF-", code);
        Assert.Equal(
            [
                new PaymentRow("purchase", "succeeded", 4.99m, 4.99m, null, null, null, true),
                new PaymentRow("purchase", "failed", 10.00m, 10.00m, null, null, "Your card was declined", false),
                new PaymentRow("subscribe", "succeeded", 9.99m, 9.99m, null, null, null, true),
                new PaymentRow("purchase", "succeeded", 10.00m, 5.00m, code, 50, null, true),
            ],
            payments);

        var subscription = await connection.QuerySingleAsync<SubscriptionRow>(
            """
            select s.status, s.cancelled_by, s.next_rebill_at is not null as has_next_rebill, s.charges, s.pass_id is not null as has_pass
            from payments.subscriptions s where s.merchant_id = @Id
            """, new { merchant.Id });
        var consumerId = await connection.ExecuteScalarAsync<long>(
            "select id from accounts.consumers where merchant_id = @Id", new { merchant.Id });
        Assert.Equal(new SubscriptionRow("cancelled", $"consumer:{consumerId}", false, 1, true), subscription);

        var events = (await connection.QueryAsync<string>(
            "select type from kernel.outbox where merchant_id = @Id and type like 'subscribe.%'", new { merchant.Id })).ToList();
        Assert.Contains("subscribe.cancelled.success", events);
    }
}
