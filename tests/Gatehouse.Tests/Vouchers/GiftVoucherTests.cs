using System.Text.Json;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Vouchers;

namespace Gatehouse.Tests.Vouchers;

/// <summary>Gift vouchers: made by checkout (GiftVouchers.Create, called here directly), listed and read as the reference shows, used once by the receiver.</summary>
public sealed class GiftVoucherTests(AppFixture app) : IClassFixture<AppFixture>
{
    private Task<JsonElement> Send(string token, Action<Scenario> request, int status = 200) => VoucherShop.Send(app, token, request, status);

    private async Task<GiftVouchers.GiftView> Gift(VoucherShop shop, string receiver)
    {
        await using var connection = await app.Db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var gift = await GiftVouchers.Create(connection, transaction,
            new GiftVouchers.Gift(shop.Merchant.Id, "buyer@mail.test", receiver, shop.Item, shop.Fee, 4.99m, "EUR"), app.Clock.GetUtcNow());
        await transaction.CommitAsync();
        return gift;
    }

    [Fact]
    public async Task Gift_vouchers_are_listed_and_read_and_only_by_their_merchant()
    {
        var shop = await VoucherShop.Open(app);
        var other = await VoucherShop.Open(app);
        var empty = await Send(shop.Token, x => x.Get.Url("/vouchers/gifts?page=1&limit=15"));
        empty.GetRawText().MatchSnapshot("empty");
        var first = await Gift(shop, "friend@mail.test");
        await Gift(shop, "cousin@mail.test");
        Assert.StartsWith("GIFT-", first.Code);

        var list = await Send(shop.Token, x => x.Get.Url("/vouchers/gifts?page=1&size=1"));
        Assert.Equal((2, 1, 1), (list.GetProperty("total").GetInt32(), list.GetProperty("size").GetInt32(), list.GetProperty("collection").GetArrayLength()));
        var one = await Send(shop.Token, x => x.Get.Url($"/v2/vouchers/gifts/{first.Id}"));
        Assert.Equal(("friend@mail.test", "Cup Final", false), (one.GetProperty("receiver_email").GetString(), one.GetProperty("item_title").GetString(),
            one.GetProperty("is_used").GetBoolean()));
        var scrubbed = System.Text.Json.Nodes.JsonNode.Parse(one.GetRawText())!;
        scrubbed["code"] = "<code>";
        scrubbed.ToJsonString().MatchSnapshot("one");
        (await Send(other.Token, x => x.Get.Url($"/v2/vouchers/gifts/{first.Id}"), 404)).GetRawText().MatchSnapshot("not_found");
        Assert.Equal(0, (await Send(other.Token, x => x.Get.Url("/vouchers/gifts"))).GetProperty("total").GetInt32());
        // A gift is not one of the merchant's own vouchers.
        Assert.Equal(0, (await Send(shop.Token, x => x.Get.Url("/vouchers"))).GetProperty("total").GetInt32());
        await Send(shop.Token, x => x.Get.Url($"/vouchers/{first.Id}"), 404);
    }

    [Fact]
    public async Task Only_the_receiver_can_use_a_gift_once_for_its_asset()
    {
        var shop = await VoucherShop.Open(app);
        var gift = await Gift(shop, "friend@mail.test");
        var stranger = await Given.Consumer(app.Host, shop.Merchant);
        var friend = await Given.Consumer(app.Host, shop.Merchant, "Friend@mail.test");
        Task<JsonElement> Redeem(TestConsumer viewer, long fee, int status) =>
            Send(viewer.AccessToken, x => x.Post.FormData(new Dictionary<string, string> { ["voucher_code"] = gift.Code, ["access_fee_id"] = fee.ToString() })
                .ToUrl("/v2/vouchers/redeem"), status);

        await Redeem(stranger, shop.Fee, 402);
        await Redeem(friend, shop.OtherFee, 402);
        var redeemed = await Redeem(friend, shop.Fee, 201);
        Assert.Equal("full-discount", redeemed.GetProperty("pass").GetProperty("type").GetString());
        await Redeem(friend, shop.Fee, 402);
        Assert.True((await Send(shop.Token, x => x.Get.Url($"/v2/vouchers/gifts/{gift.Id}"))).GetProperty("is_used").GetBoolean());
    }
}
