using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using Gatehouse.Payments;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Tests.Vouchers;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Tests.Payments;

/// <summary>
/// POST /subscriptions and /v2/subscriptions, rebills moved by the clock (RunRebills), discount periods, retries and
/// expiry, cancellation through unsubscribe_url, and the viewer's and merchant's reads. Each test moves the shared clock
/// forward only and signs in again when it needs a fresh token.
/// </summary>
public sealed class SubscriptionTests(PaymentsFixture app) : IClassFixture<PaymentsFixture>
{
    private Task<T> Scalar<T>(string sql, object args) => app.Db.Scalar<T>(sql, args);

    /// <summary>Runs the rebill job as the scheduler would, and waits for any run the host's own scheduler started to settle.</summary>
    private async Task Rebill()
    {
        await app.Host.Services.GetRequiredService<RunRebills>().Invoke();
        for (var i = 0; i < 100 && await Scalar<long>("select count(*) from payments.payments where status = 'pending'", new { }) > 0; i++)
            await Task.Delay(50);
    }

    private async Task<DateTimeOffset> NextRebill(long subscriptionId) =>
        await Scalar<DateTimeOffset>("select next_rebill_at from payments.subscriptions where id = @subscriptionId", new { subscriptionId });

    private async Task<long> Subscribe(PaymentShop shop, long fee, string card = PaymentShop.GoodCard, Dictionary<string, string>? extra = null, string path = "/subscriptions")
    {
        var receipt = await shop.Pay(app, PaymentShop.CardForm(fee, card, extra), path: path);
        return receipt.GetProperty("subscription_id").GetInt64();
    }

    private async Task<string> FreshToken(PaymentShop shop) => await Given.SignIn(app.Host, shop.Shop.Merchant, shop.Viewer);

    [Fact]
    public async Task Subscribing_charges_the_first_period_and_the_viewer_reads_it()
    {
        var shop = await PaymentShop.Open(app);
        var fee = await shop.MonthlyFee(app);
        var receipt = await shop.Pay(app, PaymentShop.CardForm(fee), path: "/subscriptions");
        Assert.Equal(("Subscribed", 10.00m), (receipt.GetProperty("message").GetString(), receipt.GetProperty("charged_amount").GetDecimal()));
        var id = receipt.GetProperty("subscription_id").GetInt64();
        await VoucherShop.Send(app, shop.Viewer.AccessToken, x => x.Get.Url($"/items/{shop.Shop.Item}/access"));

        var list = await VoucherShop.Send(app, shop.Viewer.AccessToken, x => x.Get.Url("/subscriptions?page=1&limit=10"));
        var first = list.GetProperty("collection")[0];
        Assert.Equal(("active", 10.00m, "10.00 EUR"), (first.GetProperty("status").GetString(), first.GetProperty("charged_amount").GetDecimal(),
            first.GetProperty("formatted_amount").GetString()));
        Assert.EndsWith($"/subscriptions/cancel/{first.GetProperty("cancel_token").GetString()}", first.GetProperty("unsubscribe_url").GetString());
        var node = JsonNode.Parse(list.GetRawText())!;
        node["collection"]![0]!["unsubscribe_url"] = "<url>";
        node.ToJsonString().MatchSnapshot("list");
        Assert.Equal(app.Clock.GetUtcNow().AddMonths(1).ToUnixTimeSeconds(), first.GetProperty("next_billing_date").GetInt64());

        var one = await VoucherShop.Send(app, shop.Viewer.AccessToken, x => x.Get.Url($"/subscriptions/{id}"));
        Assert.Equal(id, one.GetProperty("id").GetInt64());
        var stranger = await Given.Consumer(app.Host, shop.Shop.Merchant);
        (await VoucherShop.Send(app, stranger.AccessToken, x => x.Get.Url($"/subscriptions/{id}"), 404)).GetRawText().MatchSnapshot("not_yours");
        Assert.Equal(0, (await VoucherShop.Send(app, stranger.AccessToken, x => x.Get.Url("/subscriptions"))).GetProperty("total").GetInt32());
        Assert.Equal(1L, await Scalar<long>("select count(*) from kernel.outbox where merchant_id = @Id and type = 'subscribe.success'", new { shop.Shop.Merchant.Id }));

        // Merchant's reads: the list with filters and the subscription with its charges.
        var merchantList = await VoucherShop.Send(app, shop.Shop.Token, x => x.Get.Url($"/v2/subscriptions?status=active&search={Uri.EscapeDataString(shop.Viewer.Email)}"));
        Assert.Equal(1, merchantList.GetProperty("total").GetInt32());
        var listNode = JsonNode.Parse(merchantList.GetRawText())!;
        listNode["collection"]![0]!["unsubscribe_url"] = "<url>";
        listNode.ToJsonString().MatchSnapshot("merchant_list");
        Assert.Equal(0, (await VoucherShop.Send(app, shop.Shop.Token, x => x.Get.Url("/v2/subscriptions?status=cancelled"))).GetProperty("total").GetInt32());
        (await VoucherShop.Send(app, shop.Shop.Token, x => x.Get.Url("/v2/subscriptions?status=paused"), 400)).GetRawText().MatchSnapshot("bad_status");
        var detail = await VoucherShop.Send(app, shop.Shop.Token, x => x.Get.Url($"/v2/subscriptions/{id}"));
        var detailNode = JsonNode.Parse(detail.GetRawText())!;
        detailNode["subscription"]!["unsubscribe_url"] = "<url>";
        detailNode.ToJsonString().MatchSnapshot("detail");
        Assert.Equal("subscribe", detail.GetProperty("payments")[0].GetProperty("action_type").GetString());
        var other = await PaymentShop.Open(app);
        await VoucherShop.Send(app, other.Shop.Token, x => x.Get.Url($"/v2/subscriptions/{id}"), 404);
        await VoucherShop.Send(app, other.Shop.Token, x => x.Post.Url($"/v2/subscriptions/{id}/cancel"), 404);

        // A second subscription to the same price option while this one lives is refused.
        (await shop.Pay(app, PaymentShop.CardForm(fee), 409, "/v2/subscriptions")).GetRawText().MatchSnapshot("twice");
    }

    [Fact]
    public async Task A_year_of_monthly_rebills_applies_a_voucher_repeating_for_three_cycles()
    {
        var shop = await PaymentShop.Open(app);
        var fee = await shop.MonthlyFee(app);
        await shop.Shop.CreateVoucher(app, new()
        {
            ["discount"] = "50", ["rebill_discount"] = "25", ["discount_period"] = "repeating", ["discount_duration"] = "3", ["code"] = "HALF-THEN-QUARTER",
        });
        var id = await Subscribe(shop, fee, extra: new() { ["voucher_code"] = "HALF-THEN-QUARTER" });
        var passId = await Scalar<long>("select pass_id from payments.subscriptions where id = @id", new { id });

        for (var month = 1; month <= 11; month++)
        {
            var due = await NextRebill(id);
            app.Clock.SetUtcNow(due.AddMinutes(1));
            await Rebill();
            Assert.Equal(await NextRebill(id), await Scalar<DateTimeOffset>("select expires_at from access.passes where id = @passId", new { passId }));
            Assert.Equal(due.AddMonths(1) , await NextRebill(id));
        }

        var charged = (await (await app.Db.OpenConnectionAsync()).QueryAsync<(int Cycle, decimal Charged, string? Code, int? Discount)>(
            "select cycle, charged_amount, voucher_code, voucher_discount from payments.payments where subscription_id = @id and status = 'succeeded' order by cycle",
            new { id })).ToList();
        Assert.Equal(Enumerable.Range(0, 12), charged.Select(c => c.Cycle));
        Assert.Equal([5.00m, 7.50m, 7.50m, 7.50m, 10m, 10m, 10m, 10m, 10m, 10m, 10m, 10m], charged.Select(c => c.Charged));
        Assert.Equal([50, 25, 25, 25, null, null, null, null, null, null, null, null], charged.Select(c => c.Discount));
        Assert.Equal(11L, await Scalar<long>("select count(*) from kernel.outbox where merchant_id = @Id and type = 'asset.access.extended'", new { shop.Shop.Merchant.Id }));
        // Each charge went through the gateway once (12 charges, one per payment reference).
        Assert.Equal(12L, await Scalar<long>("select count(*) from payments.test_gateway_charges where merchant_id = @Id", new { shop.Shop.Merchant.Id }));

        var token = await FreshToken(shop);
        var history = await VoucherShop.Send(app, token, x => x.Get.Url("/v2/accounting/payment-history?size=100"));
        Assert.Equal(12, history.GetProperty("total").GetInt32());
        Assert.Equal(11, history.GetProperty("collection").EnumerateArray().Count(p => p.GetProperty("action_type").GetString() == "rebill"));
    }

    [Theory]
    [InlineData("once", null, new[] { 8.00, 10.00, 10.00 })]
    [InlineData("forever", null, new[] { 8.00, 9.00, 9.00 })]
    [InlineData("repeating", 1, new[] { 8.00, 9.00, 10.00 })]
    public async Task Discount_periods_once_and_forever(string period, int? duration, double[] expected)
    {
        var shop = await PaymentShop.Open(app);
        var fee = await shop.MonthlyFee(app);
        var voucher = new Dictionary<string, string> { ["discount"] = "20", ["rebill_discount"] = "10", ["discount_period"] = period, ["code"] = $"TERMS-{period}" };
        if (duration is not null) voucher["discount_duration"] = duration.Value.ToString();
        await shop.Shop.CreateVoucher(app, voucher);
        var id = await Subscribe(shop, fee, extra: new() { ["voucher_code"] = $"TERMS-{period}" });
        for (var i = 0; i < 2; i++)
        {
            app.Clock.SetUtcNow((await NextRebill(id)).AddSeconds(1));
            await Rebill();
        }
        var charged = await (await app.Db.OpenConnectionAsync()).QueryAsync<decimal>(
            "select charged_amount from payments.payments where subscription_id = @id and status = 'succeeded' order by cycle", new { id });
        Assert.Equal(expected.Select(e => (decimal)e), charged);
    }

    [Fact]
    public async Task A_trial_checks_the_card_and_charges_when_it_ends()
    {
        var shop = await PaymentShop.Open(app);
        var fee = await shop.MonthlyFee(app, extra: new() { ["trial_quantity"] = "7", ["trial_period"] = "day", ["trial_description"] = "A free week" });
        var receipt = await shop.Pay(app, PaymentShop.CardForm(fee), path: "/subscriptions");
        Assert.Equal(("Subscribed: your trial has started", 0m), (receipt.GetProperty("message").GetString(), receipt.GetProperty("charged_amount").GetDecimal()));
        var id = receipt.GetProperty("subscription_id").GetInt64();
        var trialEnd = app.Clock.GetUtcNow().AddDays(7);
        Assert.Equal(trialEnd, await NextRebill(id));
        Assert.True(await Scalar<bool>("select is_trial from access.passes where id = (select pass_id from payments.subscriptions where id = @id)", new { id }));

        app.Clock.SetUtcNow(trialEnd.AddMinutes(1));
        await Rebill();
        Assert.Equal(10.00m, await Scalar<decimal>("select charged_amount from payments.payments where subscription_id = @id and cycle = 1", new { id }));
        Assert.Equal(trialEnd.AddMonths(1), await NextRebill(id));
    }

    [Fact]
    public async Task Declined_rebills_are_retried_then_the_subscription_expires()
    {
        var shop = await PaymentShop.Open(app);
        var fee = await shop.MonthlyFee(app);
        var id = await Subscribe(shop, fee, PaymentShop.DeclinesAfterFirst);
        var passId = await Scalar<long>("select pass_id from payments.subscriptions where id = @id", new { id });
        var passEnd = await Scalar<DateTimeOffset>("select expires_at from access.passes where id = @passId", new { passId });

        var attempts = new List<DateTimeOffset>();
        for (var attempt = 1; attempt <= 4; attempt++)
        {
            var due = await NextRebill(id);
            attempts.Add(due);
            app.Clock.SetUtcNow(due.AddSeconds(1));
            await Rebill();
        }
        // Due at the period's end, then 1, 3 and 5 days after each decline.
        Assert.Equal([TimeSpan.FromDays(1), TimeSpan.FromDays(3), TimeSpan.FromDays(5)],
            attempts.Zip(attempts.Skip(1), (a, b) => (b - a).Subtract(TimeSpan.FromSeconds(1))).Select(t => TimeSpan.FromDays(Math.Round(t.TotalDays))));
        Assert.Equal("expired", await Scalar<string>("select status from payments.subscriptions where id = @id", new { id }));
        Assert.Equal(4L, await Scalar<long>("select count(*) from payments.payments where subscription_id = @id and status = 'failed' and cycle = 1", new { id }));
        Assert.Equal(passEnd, await Scalar<DateTimeOffset>("select expires_at from access.passes where id = @passId", new { passId }));
        Assert.Equal((3L, 1L, 4L), (
            await Scalar<long>("select count(*) from kernel.outbox where merchant_id = @Id and type = 'subscribe.failed'", new { shop.Shop.Merchant.Id }),
            await Scalar<long>("select count(*) from kernel.outbox where merchant_id = @Id and type = 'subscribe.expired'", new { shop.Shop.Merchant.Id }),
            await Scalar<long>("select count(*) from kernel.outbox where merchant_id = @Id and type = 'payment.card.failed'", new { shop.Shop.Merchant.Id })));

        // Nothing more is attempted.
        app.Clock.Advance(TimeSpan.FromDays(40));
        await Rebill();
        Assert.Equal(5L, await Scalar<long>("select count(*) from payments.payments where subscription_id = @id", new { id }));
    }

    [Fact]
    public async Task A_declined_first_charge_creates_no_subscription_and_frees_the_price_option()
    {
        var shop = await PaymentShop.Open(app);
        var fee = await shop.MonthlyFee(app);
        var declined = await shop.Pay(app, PaymentShop.CardForm(fee, PaymentShop.DeclinedCard), 402, "/subscriptions");
        Assert.Equal("Your card was declined", declined.GetProperty("message").GetString());
        Assert.Equal("failed", await Scalar<string>("select status from payments.subscriptions where merchant_id = @Id", new { shop.Shop.Merchant.Id }));
        Assert.Equal(0, (await VoucherShop.Send(app, shop.Viewer.AccessToken, x => x.Get.Url("/subscriptions?status=active"))).GetProperty("total").GetInt32());
        await Subscribe(shop, fee);
    }

    [Fact]
    public async Task Cancelling_through_the_unsubscribe_url_stops_rebills_and_keeps_the_paid_period()
    {
        var shop = await PaymentShop.Open(app);
        var fee = await shop.MonthlyFee(app);
        var id = await Subscribe(shop, fee);
        var token = await FreshToken(shop);
        var subscription = await VoucherShop.Send(app, token, x => x.Get.Url($"/subscriptions/{id}"));
        var url = new Uri(subscription.GetProperty("unsubscribe_url").GetString()!);

        var stranger = await Given.Consumer(app.Host, shop.Shop.Merchant);
        await VoucherShop.Send(app, stranger.AccessToken, x => x.Get.Url(url.PathAndQuery), 404);
        var cancelled = await VoucherShop.Send(app, token, x => x.Get.Url(url.PathAndQuery));
        var node = JsonNode.Parse(cancelled.GetRawText())!;
        node["subscription"] = "<cancel_token>";
        node.ToJsonString().MatchSnapshot();
        Assert.Equal("cancelled", cancelled.GetProperty("status").GetString());
        (await VoucherShop.Send(app, token, x => x.Get.Url(url.PathAndQuery), 409)).GetRawText().MatchSnapshot("again");
        Assert.Equal(1L, await Scalar<long>("select count(*) from kernel.outbox where merchant_id = @Id and type = 'subscribe.cancelled.success'", new { shop.Shop.Merchant.Id }));

        app.Clock.Advance(TimeSpan.FromDays(40));
        await Rebill();
        Assert.Equal(1L, await Scalar<long>("select count(*) from payments.payments where subscription_id = @id", new { id }));
        // Paid through its period: access until then, none after.
        Assert.Equal("Expired", (await VoucherShop.Send(app, await FreshToken(shop), x => x.Get.Url("/items/access/customers"))).GetProperty("collection")[0].GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_merchant_cancels_and_a_revoked_pass_stops_the_rebills()
    {
        var shop = await PaymentShop.Open(app);
        var fee = await shop.MonthlyFee(app);
        var id = await Subscribe(shop, fee);
        var byMerchant = await VoucherShop.Send(app, shop.Shop.Token, x => x.Post.Url($"/v2/subscriptions/{id}/cancel"));
        Assert.Equal(("cancelled", "merchant:api"), (byMerchant.GetProperty("status").GetString(), byMerchant.GetProperty("cancelled_by").GetString()));
        var cancelledNode = JsonNode.Parse(byMerchant.GetRawText())!;
        cancelledNode["unsubscribe_url"] = "<url>";
        cancelledNode.ToJsonString().MatchSnapshot();
        (await VoucherShop.Send(app, shop.Shop.Token, x => x.Post.Url($"/v2/subscriptions/{id}/cancel"), 409)).GetRawText().MatchSnapshot("again");

        var second = await PaymentShop.Open(app);
        var secondFee = await second.MonthlyFee(app);
        var revokedId = await Subscribe(second, secondFee);
        var passId = await Scalar<long>("select pass_id from payments.subscriptions where id = @revokedId", new { revokedId });
        await VoucherShop.Send(app, second.Shop.Token, x => x.Post.Url($"/v2/access/{passId}/revoke"));
        app.Clock.SetUtcNow((await NextRebill(revokedId)).AddSeconds(1));
        await Rebill();
        Assert.Equal(("cancelled", 1L), (await Scalar<string>("select status from payments.subscriptions where id = @revokedId", new { revokedId }),
            await Scalar<long>("select count(*) from payments.payments where subscription_id = @revokedId", new { revokedId })));
    }

    [Fact]
    public async Task Two_app_instances_charge_each_due_rebill_exactly_once()
    {
        var shop = await PaymentShop.Open(app);
        var fee = await shop.MonthlyFee(app);
        var ids = new List<long>();
        for (var i = 0; i < 40; i++)
        {
            var viewer = await Given.Consumer(app.Host, shop.Shop.Merchant);
            ids.Add((await shop.Pay(app, PaymentShop.CardForm(fee), path: "/subscriptions", token: viewer.AccessToken)).GetProperty("subscription_id").GetInt64());
        }
        await using var second = await AppFixture.StartHost(b => AppFixture.Configure(b, app.ConnectionString, app.Clock,
            new Dictionary<string, string?> { ["Payments:GatewayTimeoutSeconds"] = "1" }));
        app.Clock.SetUtcNow((await NextRebill(ids[^1])).AddMinutes(1));

        // Both instances' jobs, several times each, at once (their own schedulers may run too).
        var jobs = Enumerable.Range(0, 4).SelectMany(_ => new[] { app.Host, second })
            .Select(host => Task.Run(() => host.Services.GetRequiredService<RunRebills>().Invoke()));
        await Task.WhenAll(jobs);
        await Rebill();

        await using var connection = await app.Db.OpenConnectionAsync();
        var rebills = (await connection.QueryAsync<(long SubscriptionId, long Count)>(
            "select subscription_id, count(*) from payments.payments where merchant_id = @Id and action_type = 'rebill' group by subscription_id",
            new { shop.Shop.Merchant.Id })).ToDictionary(r => r.SubscriptionId, r => r.Count);
        Assert.Equal(ids.Order(), rebills.Keys.Order());
        Assert.All(rebills.Values, count => Assert.Equal(1, count));
        Assert.Equal(80L, await connection.ExecuteScalarAsync<long>("select count(*) from payments.test_gateway_charges where merchant_id = @Id", new { shop.Shop.Merchant.Id }));
        Assert.Equal(40L, await connection.ExecuteScalarAsync<long>(
            "select count(*) from payments.subscriptions where merchant_id = @Id and cycle = 1 and charges = 2 and pending_payment_id is null", new { shop.Shop.Merchant.Id }));
    }

    [Fact]
    public async Task Payments_left_pending_by_a_dead_instance_are_settled_from_the_gateway()
    {
        var shop = await PaymentShop.Open(app);
        var fee = await shop.MonthlyFee(app);
        var id = await Subscribe(shop, fee);
        await shop.Shop.CreateVoucher(app, new() { ["discount"] = "10", ["code"] = "LOST-USE", ["usage_limit"] = "1" });

        // An instance claimed the rebill and the gateway charged it, then the instance died before settling.
        app.Clock.SetUtcNow((await NextRebill(id)).AddSeconds(1));
        await using (var connection = await app.Db.OpenConnectionAsync())
        {
            var (paymentId, reference) = await connection.QuerySingleAsync<(long, Guid)>(
                """
                insert into payments.payments (merchant_id, consumer_id, access_fee_id, item_id, subscription_id, action_type, status, reference, amount,
                    charged_amount, currency, gateway, payment_method, cycle, attempt, created_at)
                select merchant_id, consumer_id, access_fee_id, item_id, id, 'rebill', 'pending', gen_random_uuid(), amount, amount, currency, 'test', 'card', 1, 1, @now
                from payments.subscriptions where id = @id
                returning id, reference
                """, new { id, now = app.Clock.GetUtcNow() });
            await connection.ExecuteAsync("update payments.subscriptions set pending_payment_id = @paymentId where id = @id", new { paymentId, id });
            var token = await connection.ExecuteScalarAsync<string>("select payment_token from payments.subscriptions where id = @id", new { id });
            await app.Host.Services.GetServices<IPaymentGateway>().Single().Charge(
                new ChargeRequest(shop.Shop.Merchant.Id, reference, 10m, "EUR", "Monthly", null, token), CancellationToken.None);
        }
        // A checkout that died before reaching the gateway, holding a voucher use.
        var viewer = await Given.Consumer(app.Host, shop.Shop.Merchant);
        await using (var connection = await app.Db.OpenConnectionAsync())
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            var use = await Gatehouse.Vouchers.RedeemVoucher.Take(connection, transaction, shop.Shop.Merchant.Id, viewer.Id, "LOST-USE", shop.Shop.Fee, app.Clock.GetUtcNow());
            await connection.ExecuteAsync(
                """
                insert into payments.payments (merchant_id, consumer_id, access_fee_id, item_id, action_type, status, reference, amount, charged_amount,
                    currency, gateway, payment_method, voucher_code, voucher_discount, redemption_id, created_at)
                values (@merchantId, @consumerId, @fee, @item, 'purchase', 'pending', gen_random_uuid(), 4.99, 4.49, 'EUR', 'test', 'card', 'LOST-USE', 10, @redemption, @now)
                """, new { merchantId = shop.Shop.Merchant.Id, consumerId = viewer.Id, fee = shop.Shop.Fee, item = shop.Shop.Item, redemption = use.RedemptionId,
                           now = app.Clock.GetUtcNow() }, transaction);
            await transaction.CommitAsync();
        }

        // Nothing happens while they could still be at the gateway; after the timeout both are settled.
        var settle = app.Host.Services.GetRequiredService<SettlePendingPayments>();
        await settle.Invoke();
        Assert.Equal(2L, await Scalar<long>("select count(*) from payments.payments where merchant_id = @Id and status = 'pending'", new { shop.Shop.Merchant.Id }));
        app.Clock.Advance(TimeSpan.FromMinutes(3));
        await settle.Invoke();

        Assert.Equal(("succeeded", 1, 0), await (await app.Db.OpenConnectionAsync()).QuerySingleAsync<(string, int, int)>(
            """
            select p.status, s.cycle, s.failed_attempts from payments.payments p join payments.subscriptions s on s.id = p.subscription_id
            where p.subscription_id = @id and p.action_type = 'rebill'
            """, new { id }));
        Assert.Equal(("failed", "The payment was interrupted before the card was charged"), await (await app.Db.OpenConnectionAsync()).QuerySingleAsync<(string, string)>(
            "select status, failure_reason from payments.payments where merchant_id = @Id and voucher_code = 'LOST-USE'", new { shop.Shop.Merchant.Id }));
        Assert.Equal(0, await Scalar<int>("select usage_counter from vouchers.vouchers where merchant_id = @Id and code = 'LOST-USE'", new { shop.Shop.Merchant.Id }));
        // The charge was made once: settling asked the gateway, it did not charge again.
        Assert.Equal(2L, await Scalar<long>("select count(*) from payments.test_gateway_charges where merchant_id = @Id", new { shop.Shop.Merchant.Id }));
    }
}
