using System.Text.Json;
using Dapper;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Tests.Vouchers;

namespace Gatehouse.Tests.Payments;

/// <summary>POST /payments and /v2/payments: the test gateway's cards, vouchers at checkout, gifts, and what each outcome leaves behind.</summary>
public sealed class CheckoutTests(AppFixture app) : IClassFixture<AppFixture>
{
    private async Task<long> Count(string sql, object args)
    {
        await using var connection = await app.Db.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<long>(sql, args);
    }

    [Fact]
    public async Task A_good_card_buys_the_price_option_and_access_follows()
    {
        var shop = await PaymentShop.Open(app);
        var viewer = shop.Viewer.AccessToken;
        await VoucherShop.Send(app, viewer, x => x.Get.Url($"/items/{shop.Shop.Item}/access"), 402);

        var receipt = await shop.Pay(app, PaymentShop.CardForm(shop.Shop.Fee));
        Assert.Equal((200, "Payment succeeded", "succeeded", 4.99m, 4.99m), (receipt.GetProperty("code").GetInt32(), receipt.GetProperty("message").GetString(),
            receipt.GetProperty("status").GetString(), receipt.GetProperty("amount").GetDecimal(), receipt.GetProperty("charged_amount").GetDecimal()));
        var access = await VoucherShop.Send(app, viewer, x => x.Get.Url($"/items/{shop.Shop.Item}/access"));
        Assert.Equal("stream-1", access.GetProperty("item").GetProperty("content").GetString());
        Assert.Equal(1, await Count("select count(*) from kernel.outbox where merchant_id = @Id and type = 'payment.card.success'", new { shop.Shop.Merchant.Id }));
        Assert.Equal(1, await Count("select count(*) from kernel.outbox where merchant_id = @Id and type = 'asset.access.granted'", new { shop.Shop.Merchant.Id }));
    }
}
