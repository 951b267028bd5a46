using System.Text.Json;
using Gatehouse.Tests.Infrastructure;

namespace Gatehouse.Tests.Vouchers;

/// <summary>A merchant with two assets, a package holding the first, and price options: what voucher tests work on.</summary>
public sealed record VoucherShop(TestMerchant Merchant, string Token, long Item, long OtherItem, long Package, long Fee, long OtherFee,
    long PackageFee, long SubscriptionFee)
{
    public static async Task<JsonElement> Send(AppFixture app, string token, Action<Scenario> request, int status = 200)
    {
        var result = await app.Host.Scenario(x => { request(x); x.WithBearerToken(token); x.StatusCodeShouldBe(status); });
        return JsonDocument.Parse(await result.ReadAsTextAsync()).RootElement.Clone();
    }

    public static async Task<VoucherShop> Open(AppFixture app)
    {
        var merchant = await Given.Merchant(app.Db);
        var token = await Given.MerchantToken(app.Host, merchant);
        async Task<long> Create(string path, Dictionary<string, string> form) =>
            (await Send(app, token, x => x.Post.FormData(form).ToUrl(path), 201)).GetProperty("id").GetInt64();
        var item = await Create("/v2/items", new() { ["title"] = "Cup Final", ["item_type"] = "video", ["content"] = "stream-1" });
        var other = await Create("/v2/items", new() { ["title"] = "Derby", ["item_type"] = "video", ["content"] = "stream-2" });
        var package = await Create("/v2/items/packages", new() { ["title"] = "Season pass" });
        await Send(app, token, x => x.Post.FormData(new Dictionary<string, string> { ["item_id"] = item.ToString() }).ToUrl($"/v2/items/packages/{package}/items"));
        Dictionary<string, string> Fee(string type, string amount) =>
            new() { ["access_type"] = type, ["amount"] = amount, ["currency"] = "EUR", ["quantity"] = "2", ["period"] = "day", ["description"] = "Two days" };
        var fee = await Create($"/v2/items/{item}/access-fees", Fee("ppv", "4.99"));
        var otherFee = await Create($"/v2/items/{other}/access-fees", Fee("ppv", "10.00"));
        var packageFee = await Create($"/v2/items/packages/{package}/access-fees", Fee("ppv", "20.00"));
        var subscription = await Create($"/v2/items/{item}/access-fees", Fee("subscription", "9.99"));
        return new VoucherShop(merchant, token, item, other, package, fee, otherFee, packageFee, subscription);
    }

    public Task<JsonElement> CreateVoucher(AppFixture app, Dictionary<string, string> form, int status = 201, string path = "/v2/vouchers")
    {
        form.TryAdd("name", "Launch offer");
        form.TryAdd("start_date", app.Clock.GetUtcNow().AddDays(-1).ToString("o"));
        return Send(app, Token, x => x.Post.FormData(form).ToUrl(path), status);
    }
}
