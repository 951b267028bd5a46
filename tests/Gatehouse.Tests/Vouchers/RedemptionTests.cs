using System.Text.Json;
using Dapper;
using Gatehouse.Tests.Infrastructure;

namespace Gatehouse.Tests.Vouchers;

/// <summary>Redeeming codes: what each kind grants, every rule and refusal, the discount price, and the usage limit under contention.</summary>
public sealed class RedemptionTests(AppFixture app) : IClassFixture<AppFixture>
{
    private Task<JsonElement> Send(string token, Action<Scenario> request, int status = 200) => VoucherShop.Send(app, token, request, status);

    private Task<JsonElement> Redeem(TestConsumer viewer, string code, long fee, int status = 201) =>
        Send(viewer.AccessToken, x => x.Post.FormData(new Dictionary<string, string> { ["voucher_code"] = code, ["access_fee_id"] = fee.ToString() })
            .ToUrl("/v2/vouchers/redeem"), status);

    private Task<int> Count(string sql, object args) => app.Db.Scalar<int>(sql, args);

    [Fact]
    public async Task An_access_voucher_grants_its_own_period_without_a_card()
    {
        var shop = await VoucherShop.Open(app);
        var viewer = await Given.Consumer(app.Host, shop.Merchant);
        await shop.CreateVoucher(app, new() { ["voucher_type"] = "access", ["code"] = "FREE-MONTH", ["access_period_quantity"] = "1", ["access_period_unit"] = "month" });
        // A subscription price option: still no card and no subscription, only the voucher's access.
        var redeemed = await Redeem(viewer, "free-month", shop.SubscriptionFee);
        var pass = redeemed.GetProperty("pass");
        Assert.Equal(("access-voucher", "Access-voucher"), (pass.GetProperty("type").GetString(), pass.GetProperty("status").GetString()));
        Assert.Equal(app.Clock.GetUtcNow().AddMonths(1).ToUnixTimeSeconds(), pass.GetProperty("expires_at").GetInt64());
        redeemed.GetRawText().MatchSnapshot("redeemed");
        await Send(viewer.AccessToken, x => x.Get.Url($"/items/{shop.Item}/access"));

        var fixedDate = app.Clock.GetUtcNow().AddDays(10);
        await shop.CreateVoucher(app, new() { ["voucher_type"] = "access", ["code"] = "UNTIL-DATE", ["access_expires_at"] = fixedDate.ToString("o") });
        var until = await Redeem(viewer, "UNTIL-DATE", shop.OtherFee);
        Assert.Equal(fixedDate.ToUnixTimeSeconds(), until.GetProperty("pass").GetProperty("expires_at").GetInt64());

        // The use, the pass, the audit and both events were written together.
        Assert.Equal(2, await Count("select count(*) from vouchers.redemptions where merchant_id = @Id and pass_id is not null", new { shop.Merchant.Id }));
        Assert.Equal(2, await Count("select count(*) from kernel.outbox where merchant_id = @Id and type = 'voucher.redeemed'", new { shop.Merchant.Id }));
        Assert.Equal(2, await Count("select count(*) from kernel.outbox where merchant_id = @Id and type = 'asset.access.granted'", new { shop.Merchant.Id }));
        // The access event names the code that paid for the pass, as InPlayer's does.
        Assert.Equal(1, await Count(
            "select count(*) from kernel.outbox where merchant_id = @Id and type = 'asset.access.granted' and payload->>'voucher_code' = 'FREE-MONTH'",
            new { shop.Merchant.Id }));
        var history = await Send(shop.Token, x => x.Get.Url($"/v2/vouchers/{redeemed.GetProperty("voucher_id")}/redemptions"));
        Assert.Equal(viewer.Email, history.GetProperty("collection")[0].GetProperty("consumer_email").GetString());
        history.GetRawText().MatchSnapshot("history");
    }

    [Fact]
    public async Task A_full_discount_grants_the_fee_period_and_a_partial_one_is_left_for_checkout()
    {
        var shop = await VoucherShop.Open(app);
        var viewer = await Given.Consumer(app.Host, shop.Merchant);
        await shop.CreateVoucher(app, new() { ["discount"] = "100", ["code"] = "ALL-FREE" });
        var full = await Redeem(viewer, "ALL-FREE", shop.PackageFee);
        var pass = full.GetProperty("pass");
        Assert.Equal(("full-discount", shop.Package), (pass.GetProperty("type").GetString(), pass.GetProperty("package_id").GetInt64()));
        Assert.Equal(app.Clock.GetUtcNow().AddDays(2).ToUnixTimeSeconds(), pass.GetProperty("expires_at").GetInt64());

        var partial = await shop.CreateVoucher(app, new() { ["discount"] = "30", ["code"] = "THIRTY-OFF", ["usage_limit"] = "5" });
        (await Redeem(viewer, "THIRTY-OFF", shop.Fee, 402)).GetRawText().MatchSnapshot("partial");
        Assert.Equal(0, (await Send(shop.Token, x => x.Get.Url($"/vouchers/{partial.GetProperty("id")}"))).GetProperty("usage_counter").GetInt32());
        Assert.Equal(0, await Count("select count(*) from vouchers.redemptions where voucher_id = @id", new { id = partial.GetProperty("id").GetInt64() }));

        // What it would cost: 30 % off 4.99, cents rounded half up.
        var price = await Send(viewer.AccessToken, x => x.Post.FormData(new Dictionary<string, string>
            { ["voucher_code"] = "thirty-off", ["access_fee_id"] = shop.Fee.ToString(), ["item_id"] = shop.Item.ToString() }).ToUrl("/vouchers/discount"));
        Assert.Equal(3.49m, price.GetProperty("amount").GetDecimal());
        price.GetRawText().MatchSnapshot("price");
        await shop.CreateVoucher(app, new() { ["discount"] = "20", ["code"] = "REPEAT-20", ["discount_period"] = "repeating", ["discount_duration"] = "3" });
        var repeating = await Send(shop.Token, x => x.Post.FormData(new Dictionary<string, string>
            { ["voucher_code"] = "REPEAT-20", ["access_fee_id"] = shop.SubscriptionFee.ToString() }).ToUrl("/vouchers/discount"));
        Assert.Equal((7.99m, 3), (repeating.GetProperty("amount").GetDecimal(), repeating.GetProperty("discount_duration").GetInt32()));
        (await Send(viewer.AccessToken, x => x.Post.FormData(new Dictionary<string, string> { ["voucher_code"] = "REPEAT-20" }).ToUrl("/vouchers/discount"), 400))
            .GetRawText().MatchSnapshot("price_without_fee");
    }

    [Fact]
    public async Task Unknown_not_started_expired_and_used_up_codes_each_say_so()
    {
        var shop = await VoucherShop.Open(app);
        var viewer = await Given.Consumer(app.Host, shop.Merchant);
        var now = app.Clock.GetUtcNow();
        await shop.CreateVoucher(app, new() { ["discount"] = "100", ["code"] = "LATER-100", ["start_date"] = now.AddDays(3).ToString("o") });
        await shop.CreateVoucher(app, new() { ["discount"] = "100", ["code"] = "OVER-100", ["start_date"] = now.AddDays(-9).ToString("o"), ["end_date"] = now.AddDays(-2).ToString("o") });
        await shop.CreateVoucher(app, new() { ["discount"] = "100", ["code"] = "ONCE-100", ["usage_limit"] = "1" });
        await Redeem(viewer, "ONCE-100", shop.Fee);
        (await Redeem(viewer, "NO-SUCH-CODE", shop.Fee, 402)).GetRawText().MatchSnapshot("unknown");
        var notYet = await Redeem(viewer, "LATER-100", shop.Fee, 402);
        Assert.StartsWith("This voucher is not valid yet", notYet.GetProperty("message").GetString());
        var expired = await Redeem(viewer, "OVER-100", shop.Fee, 402);
        Assert.StartsWith("This voucher expired on", expired.GetProperty("message").GetString());
        (await Redeem(viewer, "ONCE-100", shop.Fee, 402)).GetRawText().MatchSnapshot("used_up");
        await shop.CreateVoucher(app, new() { ["discount"] = "100", ["code"] = "GOOD-100" });
        (await Send(viewer.AccessToken, x => x.Post.FormData(new Dictionary<string, string> { ["voucher_code"] = "GOOD-100", ["access_fee_id"] = "99999999" })
            .ToUrl("/v2/vouchers/redeem"), 400)).GetRawText().MatchSnapshot("unknown_fee");
        // Another merchant's viewer cannot use this merchant's code.
        var other = await VoucherShop.Open(app);
        var stranger = await Given.Consumer(app.Host, other.Merchant);
        await Redeem(stranger, "LATER-100", other.Fee, 402);
        // Deleted vouchers stop working at once.
        var gone = await shop.CreateVoucher(app, new() { ["discount"] = "100", ["code"] = "GONE-100" });
        await Send(shop.Token, x => x.Delete.Url($"/vouchers/{gone.GetProperty("id")}"));
        await Redeem(viewer, "GONE-100", shop.Fee, 402);
    }

    [Fact]
    public async Task Each_rule_refuses_what_it_does_not_allow_and_says_which()
    {
        var shop = await VoucherShop.Open(app);
        var viewer = await Given.Consumer(app.Host, shop.Merchant);
        async Task<long> Voucher(string code, string type, string value)
        {
            var id = (await shop.CreateVoucher(app, new() { ["discount"] = "100", ["code"] = code })).GetProperty("id").GetInt64();
            await Send(shop.Token, x => x.Post.FormData(new Dictionary<string, string> { ["value"] = value }).ToUrl($"/vouchers/{id}/{type}"));
            return id;
        }
        await Voucher("ASSET-ONLY", "assets", shop.Item.ToString());
        await Voucher("PACKAGE-ONLY", "packages", shop.Package.ToString());
        await Voucher("FEE-ONLY", "access_fees", shop.Fee.ToString());
        await Voucher("SUBS-ONLY", "payment_types", "subscription");
        await Voucher("EMAIL-ONLY", "emails", "latecomer@mail.test");

        (await Redeem(viewer, "ASSET-ONLY", shop.OtherFee, 402)).GetRawText().MatchSnapshot("asset");
        (await Redeem(viewer, "ASSET-ONLY", shop.PackageFee, 402)).GetRawText().MatchSnapshot("package");
        (await Redeem(viewer, "FEE-ONLY", shop.SubscriptionFee, 402)).GetRawText().MatchSnapshot("fee");
        (await Redeem(viewer, "SUBS-ONLY", shop.Fee, 402)).GetRawText().MatchSnapshot("payment_type");
        (await Redeem(viewer, "EMAIL-ONLY", shop.Fee, 402)).GetRawText().MatchSnapshot("email");
        await Redeem(viewer, "ASSET-ONLY", shop.Fee);
        await Redeem(viewer, "PACKAGE-ONLY", shop.PackageFee);
        await Redeem(viewer, "FEE-ONLY", shop.Fee);
        await Redeem(viewer, "SUBS-ONLY", shop.SubscriptionFee);
        // The listed email registers after the rule was set, and may use the code.
        var latecomer = await Given.Consumer(app.Host, shop.Merchant, "Latecomer@Mail.test");
        await Redeem(latecomer, "EMAIL-ONLY", shop.Fee);
    }

    [Fact]
    public async Task A_per_viewer_limit_holds_beside_the_overall_one()
    {
        var shop = await VoucherShop.Open(app);
        var first = await Given.Consumer(app.Host, shop.Merchant);
        var second = await Given.Consumer(app.Host, shop.Merchant);
        await shop.CreateVoucher(app, new() { ["discount"] = "100", ["code"] = "ONE-EACH", ["per_customer_limit"] = "1", ["usage_limit"] = "10" });
        await Redeem(first, "ONE-EACH", shop.Fee);
        (await Redeem(first, "ONE-EACH", shop.OtherFee, 402)).GetRawText().MatchSnapshot();
        await Redeem(second, "ONE-EACH", shop.Fee);
    }

    [Fact]
    public async Task A_retried_create_or_redeem_with_the_same_idempotency_key_happens_once()
    {
        var shop = await VoucherShop.Open(app);
        var viewer = await Given.Consumer(app.Host, shop.Merchant);
        var form = new Dictionary<string, string> { ["name"] = "Once", ["discount"] = "100", ["code"] = "RETRY-100", ["start_date"] = "2020-01-01" };
        var first = await Send(shop.Token, x => { x.Post.FormData(form).ToUrl("/v2/vouchers"); x.WithRequestHeader("Idempotency-Key", "create-1"); }, 201);
        var again = await Send(shop.Token, x => { x.Post.FormData(form).ToUrl("/v2/vouchers"); x.WithRequestHeader("Idempotency-Key", "create-1"); }, 201);
        Assert.Equal(first.GetRawText(), again.GetRawText());

        var redeem = new Dictionary<string, string> { ["voucher_code"] = "RETRY-100", ["access_fee_id"] = shop.Fee.ToString() };
        var redeemed = await Send(viewer.AccessToken, x => { x.Post.FormData(redeem).ToUrl("/v2/vouchers/redeem"); x.WithRequestHeader("Idempotency-Key", "redeem-1"); }, 201);
        var replayed = await Send(viewer.AccessToken, x => { x.Post.FormData(redeem).ToUrl("/v2/vouchers/redeem"); x.WithRequestHeader("Idempotency-Key", "redeem-1"); }, 201);
        Assert.Equal(redeemed.GetRawText(), replayed.GetRawText());
        Assert.Equal(1, (await Send(shop.Token, x => x.Get.Url($"/vouchers/{first.GetProperty("id")}"))).GetProperty("usage_counter").GetInt32());
        Assert.Equal(1, await Count("select count(*) from access.passes where merchant_id = @Id", new { shop.Merchant.Id }));
    }

    [Fact]
    public async Task A_batch_code_is_used_once_and_its_export_says_so()
    {
        var shop = await VoucherShop.Open(app);
        var first = await Given.Consumer(app.Host, shop.Merchant);
        var second = await Given.Consumer(app.Host, shop.Merchant);
        var voucher = await shop.CreateVoucher(app, new() { ["voucher_type"] = "access", ["code"] = "BATCH-PARENT",
            ["access_period_quantity"] = "7", ["access_period_unit"] = "day" });
        var batch = await Send(shop.Token, x => x.Post.FormData(new Dictionary<string, string> { ["count"] = "3", ["prefix"] = "TV-" })
            .ToUrl($"/v2/vouchers/{voucher.GetProperty("id")}/code-batches"), 202);
        await CodeBatches.Finish(app.Host, shop.Token, batch);
        var export = await app.Host.Scenario(x => { x.Get.Url($"/v2/vouchers/{voucher.GetProperty("id")}/codes"); x.WithBearerToken(shop.Token); });
        var code = (await export.ReadAsTextAsync()).Split('\n').First(l => l.StartsWith("TV-")).Split(',')[0];

        await Redeem(first, code.ToLowerInvariant(), shop.Fee);
        (await Redeem(second, code, shop.Fee, 402)).GetRawText().MatchSnapshot("batch_code_used");
        var after = await app.Host.Scenario(x => { x.Get.Url($"/v2/vouchers/{voucher.GetProperty("id")}/codes"); x.WithBearerToken(shop.Token); });
        var line = (await after.ReadAsTextAsync()).Split('\n').Single(l => l.StartsWith(code + ","));
        Assert.Contains(",used,", line);
        Assert.EndsWith($",{first.Id}", line.TrimEnd('\r'));
        // The voucher's own code still works for others.
        await Redeem(second, "BATCH-PARENT", shop.Fee);
    }

    [Fact]
    public async Task Five_hundred_concurrent_redemptions_of_a_voucher_limited_to_fifty_grant_exactly_fifty()
    {
        var shop = await VoucherShop.Open(app);
        var viewers = new List<TestConsumer>();
        for (var i = 0; i < 10; i++) viewers.Add(await Given.Consumer(app.Host, shop.Merchant));
        var voucher = await shop.CreateVoucher(app, new() { ["voucher_type"] = "access", ["code"] = "RUSH-50", ["usage_limit"] = "50",
            ["access_period_quantity"] = "1", ["access_period_unit"] = "day" });

        var statuses = await Rush(app.Host, shop, viewers, "RUSH-50", 500);
        Assert.Equal(50, statuses.Count(s => s == 201));
        Assert.Equal(450, statuses.Count(s => s == 402));
        Assert.Equal(50, (await Send(shop.Token, x => x.Get.Url($"/vouchers/{voucher.GetProperty("id")}"))).GetProperty("usage_counter").GetInt32());
        Assert.Equal(50, await Count("select count(*) from access.passes where merchant_id = @Id and type = 'access-voucher'", new { shop.Merchant.Id }));
        Assert.Equal(50, await Count("select count(*) from vouchers.redemptions where merchant_id = @Id", new { shop.Merchant.Id }));
        Assert.Equal(50, await Count("select count(*) from kernel.outbox where merchant_id = @Id and type = 'voucher.redeemed'", new { shop.Merchant.Id }));
    }

    [Fact]
    public async Task Two_instances_share_one_usage_limit()
    {
        var shop = await VoucherShop.Open(app);
        var viewers = new List<TestConsumer>();
        for (var i = 0; i < 10; i++) viewers.Add(await Given.Consumer(app.Host, shop.Merchant));
        var voucher = await shop.CreateVoucher(app, new() { ["discount"] = "100", ["code"] = "TWO-HOSTS", ["usage_limit"] = "50" });
        await using var second = await AppFixture.StartHost(b =>
            AppFixture.Configure(b, app.ConnectionString, app.Clock, new Dictionary<string, string?>()));

        var both = await Task.WhenAll(Rush(app.Host, shop, viewers, "TWO-HOSTS", 250), Rush(second, shop, viewers, "TWO-HOSTS", 250));
        var statuses = both.SelectMany(s => s).ToArray();
        Assert.Equal((50, 450), (statuses.Count(s => s == 201), statuses.Count(s => s == 402)));
        Assert.Equal(50, (await Send(shop.Token, x => x.Get.Url($"/vouchers/{voucher.GetProperty("id")}"))).GetProperty("usage_counter").GetInt32());
        Assert.Equal(50, await Count("select count(*) from access.passes where merchant_id = @Id", new { shop.Merchant.Id }));
    }

    /// <summary><paramref name="attempts"/> redemptions of one code at once through one instance; their status codes.</summary>
    private static async Task<int[]> Rush(IAlbaHost host, VoucherShop shop, List<TestConsumer> viewers, string code, int attempts)
    {
        using var client = host.Server.CreateClient();
        return await Task.WhenAll(Enumerable.Range(0, attempts).Select(i => Task.Run(async () =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v2/vouchers/redeem")
            {
                Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["voucher_code"] = code, ["access_fee_id"] = shop.Fee.ToString() }),
            };
            request.Headers.Authorization = new("Bearer", viewers[i % viewers.Count].AccessToken);
            return (int)(await client.SendAsync(request)).StatusCode;
        })));
    }
}
