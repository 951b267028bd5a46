using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Tests.Vouchers;

namespace Gatehouse.Tests.Payments;

/// <summary>POST /payments and /v2/payments: the test gateway's cards, vouchers at checkout, gifts, and what each outcome leaves behind.</summary>
public sealed class CheckoutTests(PaymentsFixture app) : IClassFixture<PaymentsFixture>
{
    private Task<long> Count(string sql, object args) => app.Db.Scalar<long>(sql, args);

    private Task<long> Events(PaymentShop shop, string type) =>
        Count("select count(*) from kernel.outbox where merchant_id = @Id and type = @type", new { shop.Shop.Merchant.Id, type });

    private Task<long> Passes(PaymentShop shop) =>
        Count("select count(*) from access.passes where merchant_id = @Id", new { shop.Shop.Merchant.Id });

    private static string Scrub(JsonElement json, params string[] keys)
    {
        var node = JsonNode.Parse(json.GetRawText())!;
        foreach (var key in keys)
            if (node[key] is not null) node[key] = $"<{key}>";
        return node.ToJsonString();
    }

    [Fact]
    public async Task A_good_card_buys_the_price_option_and_access_follows()
    {
        var shop = await PaymentShop.Open(app);
        var viewer = shop.Viewer.AccessToken;
        await VoucherShop.Send(app, viewer, x => x.Get.Url($"/items/{shop.Shop.Item}/access"), 402);

        var receipt = await shop.Pay(app, PaymentShop.CardForm(shop.Shop.Fee));
        receipt.GetRawText().MatchSnapshot();
        Assert.Equal((200, "Payment succeeded", "succeeded", 4.99m, 4.99m), (receipt.GetProperty("code").GetInt32(), receipt.GetProperty("message").GetString(),
            receipt.GetProperty("status").GetString(), receipt.GetProperty("amount").GetDecimal(), receipt.GetProperty("charged_amount").GetDecimal()));
        var access = await VoucherShop.Send(app, viewer, x => x.Get.Url($"/items/{shop.Shop.Item}/access"));
        Assert.Equal("stream-1", access.GetProperty("item").GetProperty("content").GetString());
        Assert.Equal((1, 1), (await Events(shop, "payment.card.success"), await Events(shop, "asset.access.granted")));

        // The viewer's history shows the purchase as a purchased pass; the payment carries the card's last digits, never the number.
        var passes = await VoucherShop.Send(app, viewer, x => x.Get.Url("/items/access/customers?status=active"));
        Assert.Equal(("purchased", "Purchased"), (passes.GetProperty("collection")[0].GetProperty("type").GetString(),
            passes.GetProperty("collection")[0].GetProperty("status").GetString()));
        Assert.Equal(1, await Count("select count(*) from payments.payments where merchant_id = @Id and card_last4 = '4242' and status = 'succeeded'", new { shop.Shop.Merchant.Id }));
        Assert.Equal(0, await Count("select count(*) from payments.test_gateway_cards where last4 <> '4242' and merchant_id = @Id", new { shop.Shop.Merchant.Id }));
    }

    [Fact]
    public async Task The_v2_path_takes_access_fee_id_and_item_id()
    {
        var shop = await PaymentShop.Open(app);
        var form = PaymentShop.CardForm(shop.Shop.PackageFee);
        form.Remove("access_fee");
        form["access_fee_id"] = shop.Shop.PackageFee.ToString();
        form["item_id"] = shop.Shop.Item.ToString(); // the package holds the item
        var receipt = await shop.Pay(app, form, path: "/v2/payments");
        Assert.Equal(20.00m, receipt.GetProperty("charged_amount").GetDecimal());
        await VoucherShop.Send(app, shop.Viewer.AccessToken, x => x.Get.Url($"/items/{shop.Shop.Item}/access"));

        form["item_id"] = shop.Shop.OtherItem.ToString();
        var wrong = await shop.Pay(app, form, 400, "/v2/payments");
        wrong.GetRawText().MatchSnapshot("item_not_sold");
    }

    [Theory]
    [InlineData(PaymentShop.DeclinedCard, "Your card was declined")]
    [InlineData(PaymentShop.InsufficientFunds, "Insufficient funds")]
    [InlineData(PaymentShop.TimesOut, "The payment gateway did not answer in time: you were not charged")]
    [InlineData("4111111111111111", "The test gateway accepts only its test cards: 4242 4242 4242 4242 succeeds; 4000 0000 0000 0002 is declined")]
    public async Task A_failed_card_leaves_no_pass_and_gives_the_voucher_use_back(string number, string reason)
    {
        var shop = await PaymentShop.Open(app);
        var voucher = await shop.Shop.CreateVoucher(app, new() { ["discount"] = "20", ["code"] = $"TWENTY-{number[^4..]}", ["usage_limit"] = "1" });
        var declined = await shop.Pay(app, PaymentShop.CardForm(shop.Shop.Fee, number, new() { ["voucher_code"] = $"TWENTY-{number[^4..]}" }), 402);
        Assert.Equal(reason, declined.GetProperty("message").GetString());
        if (number == PaymentShop.DeclinedCard) declined.GetRawText().MatchSnapshot();

        Assert.Equal(0, await Passes(shop));
        Assert.Equal(0, (await VoucherShop.Send(app, shop.Shop.Token, x => x.Get.Url($"/vouchers/{voucher.GetProperty("id")}"))).GetProperty("usage_counter").GetInt32());
        Assert.Equal(0, await Count("select count(*) from vouchers.redemptions where merchant_id = @Id", new { shop.Shop.Merchant.Id }));
        Assert.Equal((1, 0, 0), (await Events(shop, "payment.card.failed"), await Events(shop, "voucher.redeemed"), await Events(shop, "asset.access.granted")));
        var failed = await VoucherShop.Send(app, shop.Shop.Token, x => x.Get.Url("/payments/transactions?status=failed"));
        Assert.Equal(($"TWENTY-{number[^4..]}", reason), (failed.GetProperty("collection")[0].GetProperty("voucher_code").GetString(),
            failed.GetProperty("collection")[0].GetProperty("failure_reason").GetString()));

        // The use came back: the single-use voucher still pays once with a good card.
        var paid = await shop.Pay(app, PaymentShop.CardForm(shop.Shop.Fee, extra: new() { ["voucher_code"] = $"TWENTY-{number[^4..]}" }));
        Assert.Equal(3.99m, paid.GetProperty("charged_amount").GetDecimal());
    }

    [Fact]
    public async Task A_partial_discount_charges_the_discounted_amount_and_the_payment_keeps_the_voucher()
    {
        var shop = await PaymentShop.Open(app);
        await shop.Shop.CreateVoucher(app, new() { ["discount"] = "33", ["code"] = "THIRTY3" });
        var receipt = await shop.Pay(app, PaymentShop.CardForm(shop.Shop.Fee, extra: new() { ["voucher_code"] = "thirty3" }));
        Assert.Equal((4.99m, 3.34m, "THIRTY3", 33), (receipt.GetProperty("amount").GetDecimal(), receipt.GetProperty("charged_amount").GetDecimal(),
            receipt.GetProperty("voucher_code").GetString(), receipt.GetProperty("voucher_discount").GetInt32()));
        Assert.Equal((1, 1), (await Events(shop, "voucher.redeemed"), await Events(shop, "payment.card.success")));
        var list = await VoucherShop.Send(app, shop.Shop.Token, x => x.Get.Url("/payments/transactions?search=THIRTY3"));
        Assert.Equal((1, 1), (list.GetProperty("total").GetInt32(), list.GetProperty("unique_paying_customers").GetInt32()));
        Assert.Equal(3.34m, list.GetProperty("collection")[0].GetProperty("charged_amount").GetDecimal());
        Assert.Equal(1, await Count("select count(*) from vouchers.redemptions where merchant_id = @Id and pass_id is not null", new { shop.Shop.Merchant.Id }));
    }

    [Fact]
    public async Task An_access_voucher_or_a_full_discount_needs_no_card()
    {
        var shop = await PaymentShop.Open(app);
        await shop.Shop.CreateVoucher(app, new() { ["voucher_type"] = "access", ["code"] = "FREE-WEEK", ["access_period_quantity"] = "7", ["access_period_unit"] = "day" });
        var form = new Dictionary<string, string> { ["access_fee"] = shop.Shop.Fee.ToString(), ["voucher_code"] = "FREE-WEEK" };
        var receipt = await shop.Pay(app, form);
        receipt.GetRawText().MatchSnapshot();
        Assert.Equal((0m, "Access-voucher"), (receipt.GetProperty("charged_amount").GetDecimal(),
            (await VoucherShop.Send(app, shop.Viewer.AccessToken, x => x.Get.Url("/items/access/customers"))).GetProperty("collection")[0].GetProperty("status").GetString()));
        Assert.Equal(0, await Count("select count(*) from payments.test_gateway_charges where merchant_id = @Id", new { shop.Shop.Merchant.Id }));
        Assert.Equal(0, await Events(shop, "payment.card.success"));
        Assert.Equal(1, await Events(shop, "voucher.redeemed"));

        // On a subscription price option too: access, and no subscription.
        await shop.Shop.CreateVoucher(app, new() { ["discount"] = "100", ["code"] = "ALL-FREE" });
        var subscribed = await shop.Pay(app, new() { ["access_fee"] = shop.Shop.SubscriptionFee.ToString(), ["voucher_code"] = "ALL-FREE" }, path: "/subscriptions");
        Assert.Null(subscribed.GetProperty("subscription_id").GetString());
        Assert.Equal(0, await Count("select count(*) from payments.subscriptions where merchant_id = @Id", new { shop.Shop.Merchant.Id }));
        Assert.Equal(2, await Passes(shop));
    }

    [Fact]
    public async Task Vouchers_that_do_not_apply_are_refused_before_any_charge()
    {
        var shop = await PaymentShop.Open(app);
        var other = await shop.Shop.CreateVoucher(app, new() { ["discount"] = "10", ["code"] = "OTHER-ONLY" });
        await VoucherShop.Send(app, shop.Shop.Token, x => x.Post.FormData(new() { ["value"] = shop.Shop.OtherItem.ToString() })
            .ToUrl($"/vouchers/{other.GetProperty("id")}/assets"));
        await shop.Shop.CreateVoucher(app, new() { ["discount"] = "10", ["code"] = "LATER-ON", ["start_date"] = app.Clock.GetUtcNow().AddDays(3).ToString("o") });

        var unknown = await shop.Pay(app, PaymentShop.CardForm(shop.Shop.Fee, extra: new() { ["voucher_code"] = "NO-SUCH" }), 402);
        unknown.GetRawText().MatchSnapshot("unknown");
        var wrongAsset = await shop.Pay(app, PaymentShop.CardForm(shop.Shop.Fee, extra: new() { ["voucher_code"] = "OTHER-ONLY" }), 402);
        Assert.Equal("This voucher is not valid for this asset", wrongAsset.GetProperty("message").GetString());
        var notYet = await shop.Pay(app, PaymentShop.CardForm(shop.Shop.Fee, extra: new() { ["voucher_code"] = "LATER-ON" }), 402);
        Assert.StartsWith("This voucher is not valid yet", notYet.GetProperty("message").GetString());
        Assert.Equal(0, await Count("select count(*) from payments.payments where merchant_id = @Id", new { shop.Shop.Merchant.Id }));
        Assert.Equal(0, await Count("select count(*) from payments.test_gateway_charges where merchant_id = @Id", new { shop.Shop.Merchant.Id }));
    }

    [Fact]
    public async Task Bad_input_is_a_400_and_changes_nothing()
    {
        var shop = await PaymentShop.Open(app);
        var noFee = await shop.Pay(app, new() { ["number"] = PaymentShop.GoodCard }, 400);
        noFee.GetRawText().MatchSnapshot("no_fee");
        var badCard = await shop.Pay(app, new()
        {
            ["access_fee"] = shop.Shop.Fee.ToString(), ["number"] = "4242424242424241", ["exp_month"] = "13", ["exp_year"] = "2001", ["cvv"] = "12a",
        }, 400);
        badCard.GetRawText().MatchSnapshot("bad_card");
        var expired = await shop.Pay(app, PaymentShop.CardForm(shop.Shop.Fee, extra: new() { ["exp_month"] = "1", ["exp_year"] = "2020" }), 400);
        Assert.Equal("the card has expired", expired.GetProperty("errors").GetProperty("exp_year").GetString());
        var unknownFee = await shop.Pay(app, PaymentShop.CardForm(999_999), 400);
        unknownFee.GetRawText().MatchSnapshot("unknown_fee");
        var otherMerchant = await PaymentShop.Open(app);
        await shop.Pay(app, PaymentShop.CardForm(otherMerchant.Shop.Fee), 400);
        var subscriptionFee = await shop.Pay(app, PaymentShop.CardForm(shop.Shop.SubscriptionFee), 400);
        Assert.Equal("is a subscription price option: subscribe at /subscriptions", subscriptionFee.GetProperty("errors").GetProperty("access_fee_id").GetString());
        var ppvAsSubscription = await shop.Pay(app, PaymentShop.CardForm(shop.Shop.Fee), 400, "/subscriptions");
        Assert.Equal("is a pay-per-view price option: buy it at /payments", ppvAsSubscription.GetProperty("errors").GetProperty("access_fee_id").GetString());
        await VoucherShop.Send(app, shop.Shop.Token, x => x.Post.FormData(PaymentShop.CardForm(shop.Shop.Fee)).ToUrl("/payments"), 403);
        Assert.Equal(0, await Count("select count(*) from payments.payments where merchant_id = @Id", new { shop.Shop.Merchant.Id }));
    }

    [Fact]
    public async Task A_gift_creates_a_voucher_for_the_receiver_and_no_pass_for_the_buyer()
    {
        var shop = await PaymentShop.Open(app);
        var receipt = await shop.Pay(app, PaymentShop.CardForm(shop.Shop.Fee, extra: new() { ["is_gift"] = "true", ["receiver_email"] = "friend@mail.test" }));
        var gift = receipt.GetProperty("gift");
        Assert.Equal("friend@mail.test", gift.GetProperty("receiver_email").GetString());
        Assert.StartsWith("GIFT-", gift.GetProperty("code").GetString());
        var scrubbed = JsonNode.Parse(receipt.GetRawText())!;
        scrubbed["gift"]!["code"] = "<code>";
        scrubbed["message"] = "<message>";
        scrubbed.ToJsonString().MatchSnapshot();
        Assert.Equal(0, await Passes(shop));

        var gifts = await VoucherShop.Send(app, shop.Shop.Token, x => x.Get.Url("/vouchers/gifts"));
        Assert.Equal((1, "friend@mail.test", 4.99m), (gifts.GetProperty("total").GetInt32(),
            gifts.GetProperty("collection")[0].GetProperty("receiver_email").GetString(), gifts.GetProperty("collection")[0].GetProperty("amount").GetDecimal()));
        var transactions = await VoucherShop.Send(app, shop.Shop.Token, x => x.Get.Url("/payments/transactions?type=gift"));
        Assert.Equal(gift.GetProperty("code").GetString(), transactions.GetProperty("collection")[0].GetProperty("gift").GetProperty("code").GetString());

        // The receiver redeems it without a card; nobody else can.
        var receiver = await Given.Consumer(app.Host, shop.Shop.Merchant, "friend@mail.test");
        await shop.Pay(app, new() { ["access_fee"] = shop.Shop.Fee.ToString(), ["voucher_code"] = gift.GetProperty("code").GetString()! }, 402);
        await shop.Pay(app, new() { ["access_fee"] = shop.Shop.Fee.ToString(), ["voucher_code"] = gift.GetProperty("code").GetString()! }, token: receiver.AccessToken);
        await VoucherShop.Send(app, receiver.AccessToken, x => x.Get.Url($"/items/{shop.Shop.Item}/access"));

        var bad = await shop.Pay(app, PaymentShop.CardForm(shop.Shop.Fee, extra: new() { ["is_gift"] = "true", ["receiver_email"] = "nope" }), 400);
        Assert.Equal("must be an email address", bad.GetProperty("errors").GetProperty("receiver_email").GetString());
    }

    [Fact]
    public async Task A_retried_request_with_the_same_Idempotency_Key_is_charged_once()
    {
        var shop = await PaymentShop.Open(app);
        var form = PaymentShop.CardForm(shop.Shop.Fee);
        async Task<(int Status, string Body, bool Replayed)> Post(string key)
        {
            var result = await app.Host.Scenario(x =>
            {
                x.Post.FormData(form).ToUrl("/payments");
                x.WithBearerToken(shop.Viewer.AccessToken);
                x.WithRequestHeader("Idempotency-Key", key);
                x.IgnoreStatusCode();
            });
            return (result.Context.Response.StatusCode, await result.ReadAsTextAsync(), result.Context.Response.Headers.ContainsKey("Idempotent-Replayed"));
        }
        var first = await Post("buy-once");
        var again = await Post("buy-once");
        Assert.Equal((200, 200, false, true), (first.Status, again.Status, first.Replayed, again.Replayed));
        Assert.Equal(first.Body, again.Body);
        Assert.Equal(1, await Count("select count(*) from payments.test_gateway_charges where merchant_id = @Id", new { shop.Shop.Merchant.Id }));

        // A declined answer is replayed too: the same key never reaches the gateway twice.
        form["number"] = PaymentShop.DeclinedCard;
        var declined = await Post("buy-declined");
        var declinedAgain = await Post("buy-declined");
        Assert.Equal((402, 402, true), (declined.Status, declinedAgain.Status, declinedAgain.Replayed));
        Assert.Equal(2, await Count("select count(*) from payments.test_gateway_charges where merchant_id = @Id", new { shop.Shop.Merchant.Id }));
    }

    [Fact]
    public async Task A_double_submission_while_the_first_is_at_the_gateway_is_refused()
    {
        var shop = await PaymentShop.Open(app);
        // The first submission waits at the gateway (the card that never answers) while the second arrives.
        var slow = shop.Pay(app, PaymentShop.CardForm(shop.Shop.Fee, PaymentShop.TimesOut), 402);
        await Task.Delay(300);
        var second = await shop.Pay(app, PaymentShop.CardForm(shop.Shop.Fee), 409);
        second.GetRawText().MatchSnapshot();
        await slow;
        Assert.Equal(1, await Count("select count(*) from payments.payments where merchant_id = @Id", new { shop.Shop.Merchant.Id }));
        // Once the first has failed, a new attempt goes through.
        await shop.Pay(app, PaymentShop.CardForm(shop.Shop.Fee));
    }

    [Fact]
    public async Task Transactions_are_the_merchants_own_and_a_viewer_sees_only_theirs()
    {
        var shop = await PaymentShop.Open(app);
        var neighbour = await Given.Consumer(app.Host, shop.Shop.Merchant);
        await shop.Pay(app, PaymentShop.CardForm(shop.Shop.Fee));
        await shop.Pay(app, PaymentShop.CardForm(shop.Shop.OtherFee), token: neighbour.AccessToken);
        var other = await PaymentShop.Open(app);
        await other.Pay(app, PaymentShop.CardForm(other.Shop.Fee));

        var all = await VoucherShop.Send(app, shop.Shop.Token, x => x.Get.Url("/payments/transactions?page=1&size=10"));
        Assert.Equal((2, 2), (all.GetProperty("total").GetInt32(), all.GetProperty("unique_paying_customers").GetInt32()));
        Scrub(all, "x").MatchSnapshot("merchant");
        var mine = await VoucherShop.Send(app, shop.Viewer.AccessToken, x => x.Get.Url("/payments/transactions"));
        Assert.Equal(1, mine.GetProperty("total").GetInt32());
        var history = await VoucherShop.Send(app, shop.Viewer.AccessToken, x => x.Get.Url("/v2/accounting/payment-history"));
        history.GetRawText().MatchSnapshot("payment_history");
        Assert.Equal((1, 4.99m), (history.GetProperty("total").GetInt32(), history.GetProperty("collection")[0].GetProperty("charged_amount").GetDecimal()));

        var id = all.GetProperty("collection")[0].GetProperty("id").GetInt64();
        (await VoucherShop.Send(app, shop.Shop.Token, x => x.Get.Url($"/v2/payments/{id}"))).GetRawText().MatchSnapshot("one");
        (await VoucherShop.Send(app, other.Shop.Token, x => x.Get.Url($"/v2/payments/{id}"), 404)).GetRawText().MatchSnapshot("not_found");

        var byEmail = await VoucherShop.Send(app, shop.Shop.Token, x => x.Get.Url($"/payments/transactions?search={Uri.EscapeDataString(neighbour.Email)}"));
        Assert.Equal(1, byEmail.GetProperty("total").GetInt32());
        var today = app.Clock.GetUtcNow().ToString("yyyy-MM-dd");
        var tomorrow = app.Clock.GetUtcNow().AddDays(1).ToString("yyyy-MM-dd");
        Assert.Equal(2, (await VoucherShop.Send(app, shop.Shop.Token, x => x.Get.Url($"/payments/transactions?startDate={today}&endDate={today}"))).GetProperty("total").GetInt32());
        Assert.Equal(0, (await VoucherShop.Send(app, shop.Shop.Token, x => x.Get.Url($"/payments/transactions?startDate={tomorrow}"))).GetProperty("total").GetInt32());
        var badType = await VoucherShop.Send(app, shop.Shop.Token, x => x.Get.Url("/payments/transactions?type=refund"), 400);
        badType.GetRawText().MatchSnapshot("bad_type");
    }

    [Fact]
    public async Task The_gateway_setting_names_the_test_gateway_and_refuses_others()
    {
        var shop = await PaymentShop.Open(app);
        var setting = await VoucherShop.Send(app, shop.Shop.Token, x => x.Get.Url("/v2/payments/gateway"));
        setting.GetRawText().MatchSnapshot("get");
        await VoucherShop.Send(app, shop.Shop.Token, x => x.Put.FormData(new() { ["gateway"] = "test" }).ToUrl("/v2/payments/gateway"));
        var refused = await VoucherShop.Send(app, shop.Shop.Token, x => x.Put.FormData(new() { ["gateway"] = "stripe" }).ToUrl("/v2/payments/gateway"), 400);
        refused.GetRawText().MatchSnapshot("refused");
        var methods = await VoucherShop.Send(app, shop.Viewer.AccessToken, x => x.Get.Url("/payments/methods"));
        methods.GetRawText().MatchSnapshot("methods");
    }
}
