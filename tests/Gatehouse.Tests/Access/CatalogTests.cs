using System.Text.Json;
using Gatehouse.Tests.Infrastructure;

namespace Gatehouse.Tests.Access;

public sealed class CatalogTests(AppFixture app) : IClassFixture<AppFixture>
{
    private async Task<(TestMerchant Merchant, string Token)> Merchant()
    {
        var merchant = await Given.Merchant(app.Db);
        return (merchant, await Given.MerchantToken(app.Host, merchant));
    }

    private async Task<JsonElement> Send(string token, Action<Scenario> request, int status = 200)
    {
        var result = await app.Host.Scenario(x => { request(x); x.WithBearerToken(token); x.StatusCodeShouldBe(status); });
        return JsonDocument.Parse(await result.ReadAsTextAsync()).RootElement.Clone();
    }

    private Task<JsonElement> CreateItem(string token, string title = "Match of the Day", string type = "video") =>
        Send(token, x => x.Post.FormData(new Dictionary<string, string>
        {
            ["title"] = title, ["item_type"] = type, ["content"] = "<iframe src=\"https://cdn.example/secret.m3u8\"></iframe>",
            ["metadata[league]"] = "premier",
        }).ToUrl("/v2/items"), 201);

    private Task<JsonElement> CreateFee(string token, string path, string type = "ppv", string amount = "4.99") =>
        Send(token, x => x.Post.FormData(new Dictionary<string, string>
        {
            ["access_type"] = type, ["amount"] = amount, ["currency"] = "eur", ["quantity"] = "2", ["period"] = "day",
            ["description"] = "Two days",
        }).ToUrl(path), 201);

    [Fact]
    public async Task A_merchant_creates_an_asset_with_a_price_and_the_public_sees_it_without_content()
    {
        var (_, token) = await Merchant();
        var created = await CreateItem(token);
        Assert.Contains("secret.m3u8", created.GetProperty("content").GetString());
        created.GetRawText().MatchSnapshot("created");
        var id = created.GetProperty("id").GetInt64();

        var fee = await CreateFee(token, $"/v2/items/{id}/access-fees");
        Assert.Equal("EUR", fee.GetProperty("currency").GetString());
        fee.GetRawText().MatchSnapshot("fee");

        var result = await app.Host.Scenario(x => x.Get.Url($"/items/{id}"));
        var item = JsonDocument.Parse(await result.ReadAsTextAsync()).RootElement;
        Assert.False(item.TryGetProperty("content", out _));
        Assert.Equal(1, item.GetProperty("access_fees").GetArrayLength());
        await result.MatchSnapshot("public");

        var fees = await app.Host.Scenario(x => x.Get.Url($"/v2/items/{id}/access-fees"));
        await fees.MatchSnapshot("fees");
        await app.Host.Scenario(x => x.Get.Url($"/items/{id}/access-fees"));
        var merchantUuid = item.GetProperty("merchant_uuid").GetString();
        await app.Host.Scenario(x => x.Get.Url($"/items/{merchantUuid}/{id}"));
        await app.Host.Scenario(x => { x.Get.Url($"/items/{Guid.NewGuid()}/{id}"); x.StatusCodeShouldBe(404); });
    }

    [Fact]
    public async Task Invalid_assets_and_fees_are_refused_with_every_reason()
    {
        var (_, token) = await Merchant();
        var item = await Send(token, x => x.Post.FormData(new Dictionary<string, string> { ["item_type"] = "podcast" }).ToUrl("/v2/items"), 400);
        item.GetRawText().MatchSnapshot("item");
        var id = (await CreateItem(token)).GetProperty("id").GetInt64();
        var fee = await Send(token, x => x.Post.FormData(new Dictionary<string, string>
        {
            ["access_type"] = "ppv", ["amount"] = "-1.555", ["currency"] = "EURO", ["period"] = "fortnight", ["quantity"] = "0",
            ["trial_quantity"] = "7", ["trial_period"] = "day", ["starts_at"] = "2026-02-01", ["expires_at"] = "2026-01-01",
        }).ToUrl($"/v2/items/{id}/access-fees"), 400);
        fee.GetRawText().MatchSnapshot("fee");
        var typed = await Send(token, x => x.Post.FormData(new Dictionary<string, string> { ["amount"] = "ten" }).ToUrl($"/v2/items/{id}/access-fees"), 400);
        Assert.Equal("must be a number", typed.GetProperty("errors").GetProperty("amount").GetString());
    }

    [Fact]
    public async Task A_deactivated_asset_disappears_from_public_reads_but_not_for_its_merchant()
    {
        var (_, token) = await Merchant();
        var id = (await CreateItem(token)).GetProperty("id").GetInt64();
        var updated = await Send(token, x => x.Patch.FormData(new Dictionary<string, string>
        {
            ["is_active"] = "false", ["title"] = "Renamed", ["metadata[league]"] = "", ["metadata[season]"] = "2026",
        }).ToUrl($"/v2/items/{id}"));
        Assert.False(updated.GetProperty("is_active").GetBoolean());
        updated.GetRawText().MatchSnapshot();
        await app.Host.Scenario(x => { x.Get.Url($"/items/{id}"); x.StatusCodeShouldBe(404); });
        await app.Host.Scenario(x => { x.Get.Url($"/items/{id}/access-fees"); x.StatusCodeShouldBe(404); });
        await Send(token, x => x.Get.Url($"/v2/items/{id}"));
    }

    [Fact]
    public async Task A_merchant_lists_and_searches_its_own_assets_only()
    {
        var (_, token) = await Merchant();
        var (_, otherToken) = await Merchant();
        await CreateItem(token, "Cup Final");
        await CreateItem(token, "Cup 50% Highlights", "html");
        await CreateItem(otherToken, "Cup Final");

        var all = await Send(token, x => x.Get.Url("/v2/items?page=1&limit=10"));
        Assert.Equal(2, all.GetProperty("total").GetInt64());
        all.GetRawText().MatchSnapshot();
        var search = await Send(token, x => x.Get.Url("/v2/items?search=50%25"));
        Assert.Equal(1, search.GetProperty("total").GetInt64());
        var typed = await Send(token, x => x.Get.Url("/v2/items?item_type=html"));
        Assert.Equal(1, typed.GetProperty("total").GetInt64());
        await Send(token, x => x.Get.Url("/v2/items?item_type=podcast"), 400);
        await Send(token, x => x.Get.Url("/v2/items?page=0"), 400);
    }

    [Fact]
    public async Task Another_merchants_ids_are_not_found_and_viewers_are_forbidden()
    {
        var (merchant, token) = await Merchant();
        var (_, otherToken) = await Merchant();
        var id = (await CreateItem(token)).GetProperty("id").GetInt64();
        await Send(otherToken, x => x.Get.Url($"/v2/items/{id}"), 404);
        await Send(otherToken, x => x.Patch.FormData(new Dictionary<string, string> { ["title"] = "Mine" }).ToUrl($"/v2/items/{id}"), 404);
        await Send(otherToken, x => x.Post.FormData(new Dictionary<string, string>
        {
            ["access_type"] = "ppv", ["amount"] = "1", ["currency"] = "USD", ["period"] = "day",
        }).ToUrl($"/v2/items/{id}/access-fees"), 404);
        var viewer = await Given.Consumer(app.Host, merchant);
        await Send(viewer.AccessToken, x => x.Get.Url("/v2/items"), 403);
    }

    [Fact]
    public async Task Packages_group_assets_and_sell_them_together()
    {
        var (_, token) = await Merchant();
        var (_, otherToken) = await Merchant();
        var first = (await CreateItem(token, "Round 1")).GetProperty("id").GetInt64();
        var second = (await CreateItem(token, "Round 2")).GetProperty("id").GetInt64();
        var foreign = (await CreateItem(otherToken, "Not yours")).GetProperty("id").GetInt64();

        var package = await Send(token, x => x.Post.FormData(new Dictionary<string, string>
        {
            ["title"] = "Season pass", ["content"] = "Every round of the season",
        }).ToUrl("/v2/items/packages"), 201);
        var id = package.GetProperty("id").GetInt64();
        await Send(token, x => x.Post.FormData(new Dictionary<string, string> { ["item_id"] = first.ToString() }).ToUrl($"/v2/items/packages/{id}/items"));
        await Send(token, x => x.Post.FormData(new Dictionary<string, string> { ["item_id"] = second.ToString() }).ToUrl($"/v2/items/packages/{id}/items"));
        await Send(token, x => x.Post.FormData(new Dictionary<string, string> { ["item_id"] = second.ToString() }).ToUrl($"/v2/items/packages/{id}/items"));
        var refused = await Send(token, x => x.Post.FormData(new Dictionary<string, string> { ["item_id"] = foreign.ToString() }).ToUrl($"/v2/items/packages/{id}/items"), 400);
        refused.GetRawText().MatchSnapshot("foreign_item");
        await CreateFee(token, $"/v2/items/packages/{id}/access-fees", "subscription", "19.99");

        var result = await app.Host.Scenario(x => x.Get.Url($"/items/packages/{id}"));
        var view = JsonDocument.Parse(await result.ReadAsTextAsync()).RootElement;
        Assert.Equal(2, view.GetProperty("items").GetInt32());
        await result.MatchSnapshot("public");
        var items = await app.Host.Scenario(x => x.Get.Url($"/items/packages/{id}/items"));
        await items.MatchSnapshot("items");

        var removed = await Send(token, x => x.Delete.Url($"/v2/items/packages/{id}/items/{first}"));
        Assert.Equal(1, removed.GetProperty("items").GetInt32());
        await Send(token, x => x.Delete.Url($"/v2/items/packages/{id}/items/{first}"), 404);
        await Send(otherToken, x => x.Delete.Url($"/v2/items/packages/{id}/items/{second}"), 404);
        var list = await Send(token, x => x.Get.Url("/v2/items/packages"));
        Assert.Equal(1, list.GetProperty("total").GetInt64());
    }

    [Fact]
    public async Task Price_options_can_be_changed_and_withdrawn()
    {
        var (_, token) = await Merchant();
        var (_, otherToken) = await Merchant();
        var item = (await CreateItem(token)).GetProperty("id").GetInt64();
        var fee = (await CreateFee(token, $"/v2/items/{item}/access-fees", "subscription")).GetProperty("id").GetInt64();
        var changed = await Send(token, x => x.Patch.FormData(new Dictionary<string, string>
        {
            ["amount"] = "9.99", ["trial_quantity"] = "7", ["trial_period"] = "day", ["trial_description"] = "A week free",
        }).ToUrl($"/v2/items/access-fees/{fee}"));
        changed.GetRawText().MatchSnapshot();
        await Send(otherToken, x => x.Patch.FormData(new Dictionary<string, string> { ["amount"] = "0" }).ToUrl($"/v2/items/access-fees/{fee}"), 404);
        await Send(token, x => x.Patch.FormData(new Dictionary<string, string> { ["is_active"] = "false" }).ToUrl($"/v2/items/access-fees/{fee}"));
        var fees = await app.Host.Scenario(x => x.Get.Url($"/items/{item}/access-fees"));
        Assert.Equal("[]", await fees.ReadAsTextAsync());
    }
}
