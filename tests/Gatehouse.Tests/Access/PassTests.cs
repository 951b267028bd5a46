using System.Text.Json;
using Dapper;
using Gatehouse.Tests.Infrastructure;

namespace Gatehouse.Tests.Access;

public sealed class PassTests(AppFixture app) : IClassFixture<AppFixture>
{
    private sealed record Shop(TestMerchant Merchant, string Token, long Item, long OtherItem, long Package, long Fee);

    private async Task<JsonElement> Send(string token, Action<Scenario> request, int status = 200)
    {
        var result = await app.Host.Scenario(x => { request(x); x.WithBearerToken(token); x.StatusCodeShouldBe(status); });
        var text = await result.ReadAsTextAsync();
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private async Task<Shop> OpenShop()
    {
        var merchant = await Given.Merchant(app.Db);
        var token = await Given.MerchantToken(app.Host, merchant);
        async Task<long> Create(string path, Dictionary<string, string> form) =>
            (await Send(token, x => x.Post.FormData(form).ToUrl(path), 201)).GetProperty("id").GetInt64();
        var item = await Create("/v2/items", new() { ["title"] = "Cup Final", ["item_type"] = "video", ["content"] = "stream-url-1" });
        var other = await Create("/v2/items", new() { ["title"] = "Derby Highlights", ["item_type"] = "video", ["content"] = "stream-url-2" });
        var package = await Create("/v2/items/packages", new() { ["title"] = "Season pass" });
        await Send(token, x => x.Post.FormData(new Dictionary<string, string> { ["item_id"] = item.ToString() }).ToUrl($"/v2/items/packages/{package}/items"));
        var fee = await Create($"/v2/items/{item}/access-fees", new() { ["access_type"] = "ppv", ["amount"] = "3", ["currency"] = "USD", ["quantity"] = "2", ["period"] = "day" });
        return new Shop(merchant, token, item, other, package, fee);
    }

    private Task<JsonElement> Grant(Shop shop, long consumerId, Dictionary<string, string> what, int status = 201)
    {
        var form = new Dictionary<string, string>(what) { ["consumer_id"] = consumerId.ToString() };
        return Send(shop.Token, x => x.Post.FormData(form).ToUrl("/items/access"), status);
    }

    private string In(TimeSpan span) => app.Clock.GetUtcNow().Add(span).ToString("o");

    [Fact]
    public async Task Granted_access_opens_the_content_and_revoking_closes_it()
    {
        var shop = await OpenShop();
        var viewer = await Given.Consumer(app.Host, shop.Merchant, "derby@mail.com");
        await Send(viewer.AccessToken, x => x.Get.Url($"/items/{shop.Item}/access"), 402).ContinueWith(t => t.Result.GetRawText().MatchSnapshot("refused"));

        var pass = await Grant(shop, viewer.Id, new() { ["item_id"] = shop.Item.ToString(), ["expires_at"] = In(TimeSpan.FromDays(7)) });
        Assert.Equal("Granted", pass.GetProperty("status").GetString());
        pass.GetRawText().MatchSnapshot("granted");

        var access = await Send(viewer.AccessToken, x => x.Get.Url($"/items/{shop.Item}/access"));
        Assert.Equal("stream-url-1", access.GetProperty("item").GetProperty("content").GetString());
        access.GetRawText().MatchSnapshot("access");
        await Send(viewer.AccessToken, x => x.Get.Url($"/items/{shop.OtherItem}/access"), 402);

        var id = pass.GetProperty("item_access_id").GetInt64();
        var revoked = await Send(shop.Token, x => x.Post.Url($"/v2/access/{id}/revoke"));
        Assert.Equal("Revoked", revoked.GetProperty("status").GetString());
        revoked.GetRawText().MatchSnapshot("revoked");
        var one = await Send(shop.Token, x => x.Get.Url($"/v2/access/{id}"));
        Assert.Equal(revoked.GetRawText(), one.GetRawText());
        one.GetRawText().MatchSnapshot("one");
        (await Send(shop.Token, x => x.Get.Url("/v2/access/99999999"), 404)).GetRawText().MatchSnapshot("unknown");
        await Send(viewer.AccessToken, x => x.Get.Url($"/items/{shop.Item}/access"), 402);

        var again = await Send(shop.Token, x => x.Post.Url($"/v2/access/{id}/revoke"), 409);
        again.GetRawText().MatchSnapshot("revoke_again");
        await Send(shop.Token, x => x.Post.FormData(new Dictionary<string, string> { ["expires_at"] = In(TimeSpan.FromDays(30)) }).ToUrl($"/v2/access/{id}/extend"), 409);

        // Each change was audited and raised its event, in the same transaction.
        var changes = await Send(shop.Token, x => x.Get.Url($"/v2/access/{id}/changes"));
        Assert.Equal(["granted", "revoked"], changes.EnumerateArray().Select(c => c.GetProperty("action").GetString()));
        Assert.All(changes.EnumerateArray(), c => Assert.Equal("merchant:api", c.GetProperty("actor").GetString()));
        changes.GetRawText().MatchSnapshot("changes");
        await using var connection = await app.Db.OpenConnectionAsync();
        var events = (await connection.QueryAsync<string>(
            "select type from kernel.outbox where merchant_id = @Id and type like 'asset.access.%' order by id", new { shop.Merchant.Id })).ToList();
        Assert.Equal(["asset.access.granted", "asset.access.revoked"], events);
    }

    [Fact]
    public async Task A_price_option_sets_the_period_and_extending_moves_the_end()
    {
        var shop = await OpenShop();
        var viewer = await Given.Consumer(app.Host, shop.Merchant);
        var pass = await Grant(shop, viewer.Id, new() { ["item_id"] = shop.Item.ToString(), ["access_fee_id"] = shop.Fee.ToString() });
        Assert.Equal(app.Clock.GetUtcNow().AddDays(2).ToUnixTimeSeconds(), pass.GetProperty("expires_at").GetInt64());
        Assert.Equal(shop.Fee, pass.GetProperty("purchased_access_fee_id").GetInt64());
        var id = pass.GetProperty("item_access_id").GetInt64();

        var past = await Send(shop.Token, x => x.Post.FormData(new Dictionary<string, string> { ["expires_at"] = In(-TimeSpan.FromDays(1)) }).ToUrl($"/v2/access/{id}/extend"), 400);
        past.GetRawText().MatchSnapshot("past");
        var earlier = await Send(shop.Token, x => x.Post.FormData(new Dictionary<string, string> { ["expires_at"] = In(TimeSpan.FromDays(1)) }).ToUrl($"/v2/access/{id}/extend"), 400);
        earlier.GetRawText().MatchSnapshot("earlier");
        var target = app.Clock.GetUtcNow().AddDays(30);
        var extended = await Send(shop.Token, x => x.Post.FormData(new Dictionary<string, string> { ["expires_at"] = target.ToString("o") }).ToUrl($"/v2/access/{id}/extend"));
        Assert.Equal(target.ToUnixTimeSeconds(), extended.GetProperty("expires_at").GetInt64());
        extended.GetRawText().MatchSnapshot("extended");

        // Expired, then extended: active again.
        app.Clock.Advance(TimeSpan.FromDays(31));
        // Both old tokens lasted 30 days.
        var token = await Given.SignIn(app.Host, shop.Merchant, viewer);
        var merchantToken = await Given.MerchantToken(app.Host, shop.Merchant);
        await Send(token, x => x.Get.Url($"/items/{shop.Item}/access"), 402);
        await Send(merchantToken, x => x.Post.Url($"/v2/access/{id}/revoke"), 409);
        await Send(merchantToken, x => x.Post.FormData(new Dictionary<string, string> { ["expires_at"] = In(TimeSpan.FromDays(3)) }).ToUrl($"/v2/access/{id}/extend"));
        await Send(token, x => x.Get.Url($"/items/{shop.Item}/access"));
        var changes = await Send(merchantToken, x => x.Get.Url($"/v2/access/{id}/changes"));
        Assert.Equal(["granted", "extended", "extended"], changes.EnumerateArray().Select(c => c.GetProperty("action").GetString()));
    }

    [Fact]
    public async Task A_package_pass_opens_every_asset_in_it_and_is_shown_as_the_package()
    {
        var shop = await OpenShop();
        var viewer = await Given.Consumer(app.Host, shop.Merchant);
        await Grant(shop, viewer.Id, new() { ["package_id"] = shop.Package.ToString(), ["expires_at"] = In(TimeSpan.FromDays(7)) });

        var access = await Send(viewer.AccessToken, x => x.Get.Url($"/items/{shop.Item}/access"));
        Assert.Equal(shop.Package, access.GetProperty("package_id").GetInt64());
        await Send(viewer.AccessToken, x => x.Get.Url($"/items/{shop.OtherItem}/access"), 402);

        var history = await Send(viewer.AccessToken, x => x.Get.Url("/items/access/customers?status=active"));
        Assert.Equal(1, history.GetProperty("total").GetInt64());
        var record = history.GetProperty("collection")[0];
        Assert.Equal("package", record.GetProperty("resource_type").GetString());
        Assert.Equal("Season pass", record.GetProperty("item_title").GetString());
        history.GetRawText().MatchSnapshot();

        // Removing the asset from the package removes the access it gave.
        await Send(shop.Token, x => x.Delete.Url($"/v2/items/packages/{shop.Package}/items/{shop.Item}"));
        await Send(viewer.AccessToken, x => x.Get.Url($"/items/{shop.Item}/access"), 402);
    }

    [Fact]
    public async Task Passes_that_have_not_started_or_have_ended_give_no_access()
    {
        var shop = await OpenShop();
        var viewer = await Given.Consumer(app.Host, shop.Merchant);
        await Grant(shop, viewer.Id, new() { ["item_id"] = shop.Item.ToString(), ["starts_at"] = In(TimeSpan.FromDays(1)), ["expires_at"] = In(TimeSpan.FromDays(2)) });
        await Send(viewer.AccessToken, x => x.Get.Url($"/items/{shop.Item}/access"), 402);
        app.Clock.Advance(TimeSpan.FromDays(1) + TimeSpan.FromMinutes(1));
        await Send(viewer.AccessToken, x => x.Get.Url($"/items/{shop.Item}/access"));
        app.Clock.Advance(TimeSpan.FromDays(1));
        await Send(viewer.AccessToken, x => x.Get.Url($"/items/{shop.Item}/access"), 402);
        var inactive = await Send(viewer.AccessToken, x => x.Get.Url("/items/access/customers?status=inactive"));
        Assert.Equal("Expired", inactive.GetProperty("collection")[0].GetProperty("status").GetString());
        await Send(viewer.AccessToken, x => x.Get.Url("/items/access/customers?status=soon"), 400);
    }

    [Fact]
    public async Task Grants_are_checked_and_confined_to_the_merchant()
    {
        var shop = await OpenShop();
        var other = await OpenShop();
        var viewer = await Given.Consumer(app.Host, shop.Merchant);
        var foreignViewer = await Given.Consumer(app.Host, other.Merchant);

        var invalid = await Send(shop.Token, x => x.Post.FormData(new Dictionary<string, string> { ["expires_at"] = "yesterday" }).ToUrl("/items/access"), 400);
        invalid.GetRawText().MatchSnapshot("invalid");
        var missing = await Send(shop.Token, x => x.Post.FormData(new Dictionary<string, string>()).ToUrl("/items/access"), 400);
        missing.GetRawText().MatchSnapshot("missing");
        var foreign = await Grant(shop, foreignViewer.Id, new() { ["item_id"] = other.Item.ToString(), ["expires_at"] = In(TimeSpan.FromDays(1)) }, 400);
        foreign.GetRawText().MatchSnapshot("foreign");
        await Grant(shop, viewer.Id, new() { ["item_id"] = shop.Item.ToString(), ["access_fee_id"] = other.Fee.ToString() }, 400);

        var pass = await Grant(shop, viewer.Id, new() { ["item_id"] = shop.Item.ToString(), ["expires_at"] = In(TimeSpan.FromDays(1)) });
        var id = pass.GetProperty("item_access_id").GetInt64();
        await Send(other.Token, x => x.Get.Url($"/v2/access/{id}"), 404);
        await Send(other.Token, x => x.Post.Url($"/v2/access/{id}/revoke"), 404);
        await Send(other.Token, x => x.Get.Url($"/v2/access/{id}/changes"), 404);
        await Send(other.Token, x => x.Post.FormData(new Dictionary<string, string> { ["expires_at"] = In(TimeSpan.FromDays(9)) }).ToUrl($"/v2/access/{id}/extend"), 404);
        // The other merchant's viewer cannot reach this merchant's asset, and tokens of the wrong kind are refused.
        await Send(foreignViewer.AccessToken, x => x.Get.Url($"/items/{shop.Item}/access"), 402);
        await Send(shop.Token, x => x.Get.Url($"/items/{shop.Item}/access"), 403);
        await Send(viewer.AccessToken, x => x.Post.FormData(new Dictionary<string, string>()).ToUrl("/items/access"), 403);
        await app.Host.Scenario(x => { x.Get.Url($"/items/{shop.Item}/access"); x.StatusCodeShouldBe(401); });
    }

    [Fact]
    public async Task The_access_table_searches_by_email_viewer_asset_and_title()
    {
        var shop = await OpenShop();
        var derby = await Given.Consumer(app.Host, shop.Merchant, "derby@mail.com");
        var ann = await Given.Consumer(app.Host, shop.Merchant, "ann@other.org");
        var week = In(TimeSpan.FromDays(7));
        await Grant(shop, derby.Id, new() { ["item_id"] = shop.Item.ToString(), ["expires_at"] = week });
        await Grant(shop, derby.Id, new() { ["package_id"] = shop.Package.ToString(), ["expires_at"] = week });
        var annPass = await Grant(shop, ann.Id, new() { ["item_id"] = shop.OtherItem.ToString(), ["expires_at"] = week });
        await Send(shop.Token, x => x.Post.Url($"/v2/access/{annPass.GetProperty("item_access_id").GetInt64()}/revoke"));

        async Task<long> Count(string query) => (await Send(shop.Token, x => x.Get.Url("/v2/access?" + query))).GetProperty("total").GetInt64();
        Assert.Equal(3, await Count("status=all"));
        Assert.Equal(2, await Count("status=active"));
        Assert.Equal(1, await Count("status=inactive"));
        Assert.Equal(2, await Count("filter=email&q=derby@mail.com"));
        Assert.Equal(2, await Count("filter=email&q=DERBY"));
        Assert.Equal(2, await Count("filter=email&q=mail.com"));
        Assert.Equal(0, await Count("filter=email&q=derb"));
        Assert.Equal(0, await Count("filter=email&q=mail"));
        Assert.Equal(1, await Count($"filter=viewer_id&q={ann.Id}"));
        Assert.Equal(1, await Count($"filter=asset_id&q={shop.Item}"));
        Assert.Equal(1, await Count($"filter=package_id&q={shop.Package}"));
        Assert.Equal(1, await Count("filter=asset_title&q=season"));
        Assert.Equal(1, await Count("filter=asset_title&q=highlights&status=inactive"));
        await Send(shop.Token, x => x.Get.Url("/v2/access?filter=colour&q=x"), 400);
        await Send(shop.Token, x => x.Get.Url("/v2/access?filter=viewer_id&q=abc"), 400);

        var page = await app.Host.Scenario(x => { x.Get.Url("/v2/access?filter=email&q=derby&limit=1"); x.WithBearerToken(shop.Token); });
        await page.MatchSnapshot();
    }
}
