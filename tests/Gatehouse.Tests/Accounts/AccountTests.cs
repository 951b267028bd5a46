using System.Text.Json;
using Gatehouse.Tests.Infrastructure;

namespace Gatehouse.Tests.Accounts;

/// <summary>GET/PUT /accounts and GET /accounts/logout.</summary>
public sealed class AccountTests(AppFixture app) : IClassFixture<AppFixture>
{
    [Fact]
    public async Task A_viewer_reads_their_own_account()
    {
        var merchant = await Given.Merchant(app.Db);
        var viewer = await Given.Consumer(app.Host, merchant, "reader@mail.com");
        var result = await app.Host.Scenario(x => { x.Get.Url("/accounts"); x.WithBearerToken(viewer.AccessToken); });
        var account = JsonDocument.Parse(await result.ReadAsTextAsync()).RootElement;
        Assert.Equal(viewer.Id, account.GetProperty("id").GetInt64());
        await result.MatchSnapshot();
    }

    [Fact]
    public async Task A_merchant_reads_the_merchant_account()
    {
        var merchant = await Given.Merchant(app.Db, "Reader Media");
        var token = await Given.MerchantToken(app.Host, merchant);
        var result = await app.Host.Scenario(x => { x.Get.Url("/accounts"); x.WithBearerToken(token); });
        Assert.Equal(merchant.Uuid, JsonDocument.Parse(await result.ReadAsTextAsync()).RootElement.GetProperty("uuid").GetGuid());
        await result.MatchSnapshot();
    }

    [Fact]
    public async Task Updating_merges_metadata_and_a_blank_value_removes_a_key()
    {
        var merchant = await Given.Merchant(app.Db);
        var viewer = await Given.Consumer(app.Host, merchant, "updater@mail.com");
        await app.Host.Scenario(x =>
        {
            x.Put.FormData(new Dictionary<string, string> { ["metadata[country]"] = "MK", ["metadata[city]"] = "Skopje" }).ToUrl("/accounts");
            x.WithBearerToken(viewer.AccessToken);
        });
        var result = await app.Host.Scenario(x =>
        {
            x.Put.FormData(new Dictionary<string, string> { ["full_name"] = "Derby Renamed", ["metadata[city]"] = "" }).ToUrl("/accounts");
            x.WithBearerToken(viewer.AccessToken);
        });
        var account = JsonDocument.Parse(await result.ReadAsTextAsync()).RootElement;
        Assert.Equal("Derby Renamed", account.GetProperty("full_name").GetString());
        Assert.Equal("MK", account.GetProperty("metadata").GetProperty("country").GetString());
        Assert.False(account.GetProperty("metadata").TryGetProperty("city", out _));
        await result.MatchSnapshot();
    }

    [Fact]
    public async Task An_update_with_nothing_to_change_is_400()
    {
        var merchant = await Given.Merchant(app.Db);
        var viewer = await Given.Consumer(app.Host, merchant);
        var result = await app.Host.Scenario(x =>
        {
            x.Put.FormData(new Dictionary<string, string> { ["unknown"] = "x" }).ToUrl("/accounts");
            x.WithBearerToken(viewer.AccessToken);
            x.StatusCodeShouldBe(400);
        });
        await result.MatchSnapshot();
    }

    [Fact]
    public async Task Metadata_is_limited_to_fifty_keys()
    {
        var merchant = await Given.Merchant(app.Db);
        var viewer = await Given.Consumer(app.Host, merchant);
        var form = Enumerable.Range(0, 51).ToDictionary(i => $"metadata[k{i}]", i => "v");
        var result = await app.Host.Scenario(x =>
        {
            x.Put.FormData(form).ToUrl("/accounts");
            x.WithBearerToken(viewer.AccessToken);
            x.StatusCodeShouldBe(400);
        });
        await result.MatchSnapshot();

        // 30 now and 30 more later also exceed the limit: the stored keys count too.
        await app.Host.Scenario(x =>
        {
            x.Put.FormData(Enumerable.Range(0, 30).ToDictionary(i => $"metadata[a{i}]", i => "v")).ToUrl("/accounts");
            x.WithBearerToken(viewer.AccessToken);
        });
        await app.Host.Scenario(x =>
        {
            x.Put.FormData(Enumerable.Range(0, 30).ToDictionary(i => $"metadata[b{i}]", i => "v")).ToUrl("/accounts");
            x.WithBearerToken(viewer.AccessToken);
            x.StatusCodeShouldBe(400);
        });
    }

    [Fact]
    public async Task A_merchant_renames_itself_but_keeps_no_metadata()
    {
        var merchant = await Given.Merchant(app.Db);
        var token = await Given.MerchantToken(app.Host, merchant);
        var result = await app.Host.Scenario(x =>
        {
            x.Put.FormData(new Dictionary<string, string> { ["full_name"] = "Renamed Media" }).ToUrl("/accounts");
            x.WithBearerToken(token);
        });
        Assert.Equal("Renamed Media", JsonDocument.Parse(await result.ReadAsTextAsync()).RootElement.GetProperty("full_name").GetString());
        await app.Host.Scenario(x =>
        {
            x.Put.FormData(new Dictionary<string, string> { ["metadata[a]"] = "b" }).ToUrl("/accounts");
            x.WithBearerToken(token);
            x.StatusCodeShouldBe(400);
        });
    }

    [Fact]
    public async Task Logging_out_stops_the_token_and_its_refresh_token()
    {
        var merchant = await Given.Merchant(app.Db);
        var viewer = await Given.Consumer(app.Host, merchant);
        var other = await Given.Consumer(app.Host, merchant);

        var result = await app.Host.Scenario(x => { x.Get.Url("/accounts/logout"); x.WithBearerToken(viewer.AccessToken); });
        await result.MatchSnapshot();

        await app.Host.Scenario(x => { x.Get.Url("/accounts"); x.WithBearerToken(viewer.AccessToken); x.StatusCodeShouldBe(401); });
        await app.Host.Scenario(x =>
        {
            x.Post.FormData(new Dictionary<string, string> { ["grant_type"] = "refresh_token", ["refresh_token"] = viewer.RefreshToken })
                .ToUrl("/accounts/authenticate");
            x.StatusCodeShouldBe(401);
        });
        // Only that session ends.
        await app.Host.Scenario(x => { x.Get.Url("/accounts"); x.WithBearerToken(other.AccessToken); });
    }
}
