using System.Text.Json;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Tests.Vouchers;

namespace Gatehouse.Tests.Payments;

/// <summary>A voucher shop (assets, a package, ppv and subscription price options) with a viewer who pays with the test gateway's cards.</summary>
public sealed record PaymentShop(VoucherShop Shop, TestConsumer Viewer)
{
    public const string GoodCard = "4242424242424242";
    public const string DeclinedCard = "4000000000000002";
    public const string InsufficientFunds = "4000000000009995";
    public const string DeclinesAfterFirst = "4000000000000341";
    public const string TimesOut = "4000000000000119";

    public static async Task<PaymentShop> Open(AppFixture app)
    {
        var shop = await VoucherShop.Open(app);
        return new PaymentShop(shop, await Given.Consumer(app.Host, shop.Merchant));
    }

    /// <summary>A card form as the JS SDK posts it (v1 names), plus the given fields.</summary>
    public static Dictionary<string, string> CardForm(long feeId, string number = GoodCard, Dictionary<string, string>? extra = null)
    {
        var form = new Dictionary<string, string>
        {
            ["number"] = number, ["card_name"] = "Ana Viewer", ["exp_month"] = "12", ["exp_year"] = (DateTime.UtcNow.Year + 2).ToString(),
            ["cvv"] = "123", ["access_fee"] = feeId.ToString(), ["payment_method"] = "1", ["referrer"] = "https://shop.test/watch",
            ["return_url"] = "https://shop.test/done",
        };
        foreach (var (k, v) in extra ?? []) form[k] = v;
        return form;
    }

    public Task<JsonElement> Pay(AppFixture app, Dictionary<string, string> form, int status = 200, string path = "/payments", string? token = null) =>
        VoucherShop.Send(app, token ?? Viewer.AccessToken, x => x.Post.FormData(form).ToUrl(path), status);

    /// <summary>A monthly subscription price option on the shop's first asset.</summary>
    public async Task<long> MonthlyFee(AppFixture app, string amount = "10.00", Dictionary<string, string>? extra = null)
    {
        var form = new Dictionary<string, string>
        {
            ["access_type"] = "subscription", ["amount"] = amount, ["currency"] = "EUR", ["quantity"] = "1", ["period"] = "month",
            ["description"] = "Monthly",
        };
        foreach (var (k, v) in extra ?? []) form[k] = v;
        return (await VoucherShop.Send(app, Shop.Token, x => x.Post.FormData(form).ToUrl($"/v2/items/{Shop.Item}/access-fees"), 201))
            .GetProperty("id").GetInt64();
    }
}
