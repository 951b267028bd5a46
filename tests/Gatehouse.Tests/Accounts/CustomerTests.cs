using System.Text.Json;
using Gatehouse.Tests.Infrastructure;

namespace Gatehouse.Tests.Accounts;

/// <summary>POST /v2/accounts/customers: merchant-created viewers.</summary>
public sealed class CustomerTests(AppFixture app) : IClassFixture<AppFixture>
{
    [Fact]
    public async Task A_merchant_creates_a_viewer_who_has_no_password_yet()
    {
        var merchant = await Given.Merchant(app.Db);
        var token = await Given.MerchantToken(app.Host, merchant);
        var result = await app.Host.Scenario(x =>
        {
            x.Post.FormData(new Dictionary<string, string> { ["email"] = "created@viewer.tv", ["metadata[source]"] = "crm" })
                .ToUrl("/v2/accounts/customers");
            x.WithBearerToken(token);
            x.StatusCodeShouldBe(201);
        });
        var account = JsonDocument.Parse(await result.ReadAsTextAsync()).RootElement;
        Assert.False(account.GetProperty("completed").GetBoolean());
        await result.MatchSnapshot();

        // Without a password nobody can sign in as them.
        await app.Host.Scenario(x =>
        {
            x.Post.FormData(new Dictionary<string, string>
            {
                ["grant_type"] = "password", ["client_id"] = merchant.Uuid.ToString(), ["username"] = "created@viewer.tv", ["password"] = "anything-at-all",
            }).ToUrl("/accounts/authenticate");
            x.StatusCodeShouldBe(400);
        });
    }

    [Fact]
    public async Task With_a_password_the_viewer_can_sign_in()
    {
        var merchant = await Given.Merchant(app.Db);
        var token = await Given.MerchantToken(app.Host, merchant);
        await app.Host.Scenario(x =>
        {
            x.Post.FormData(new Dictionary<string, string> { ["email"] = "ready@viewer.tv", ["full_name"] = "Ready", ["password"] = "ready-pass-1" })
                .ToUrl("/v2/accounts/customers");
            x.WithBearerToken(token);
            x.StatusCodeShouldBe(201);
        });
        await app.Host.Scenario(x =>
        {
            x.Post.FormData(new Dictionary<string, string>
            {
                ["grant_type"] = "password", ["client_id"] = merchant.Uuid.ToString(), ["username"] = "ready@viewer.tv", ["password"] = "ready-pass-1",
            }).ToUrl("/accounts/authenticate");
        });
    }

    [Fact]
    public async Task An_existing_email_is_a_conflict_and_a_bad_one_is_400()
    {
        var merchant = await Given.Merchant(app.Db);
        var token = await Given.MerchantToken(app.Host, merchant);
        var viewer = await Given.Consumer(app.Host, merchant);
        var conflict = await app.Host.Scenario(x =>
        {
            x.Post.FormData(new Dictionary<string, string> { ["email"] = viewer.Email.ToUpperInvariant() }).ToUrl("/v2/accounts/customers");
            x.WithBearerToken(token);
            x.StatusCodeShouldBe(409);
        });
        await conflict.MatchSnapshot("conflict");
        var invalid = await app.Host.Scenario(x =>
        {
            x.Post.FormData(new Dictionary<string, string> { ["email"] = "nope", ["password"] = "short" }).ToUrl("/v2/accounts/customers");
            x.WithBearerToken(token);
            x.StatusCodeShouldBe(400);
        });
        await invalid.MatchSnapshot("invalid");
    }

    [Fact]
    public async Task Viewers_cannot_create_viewers()
    {
        var merchant = await Given.Merchant(app.Db);
        var viewer = await Given.Consumer(app.Host, merchant);
        var result = await app.Host.Scenario(x =>
        {
            x.Post.FormData(new Dictionary<string, string> { ["email"] = "x@viewer.tv" }).ToUrl("/v2/accounts/customers");
            x.WithBearerToken(viewer.AccessToken);
            x.StatusCodeShouldBe(403);
        });
        await result.MatchSnapshot();
    }
}
