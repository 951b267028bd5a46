using System.Text.Json;
using Gatehouse.Tests.Infrastructure;

namespace Gatehouse.Tests.Accounts;

public sealed class AuthenticateTests(AppFixture app) : IClassFixture<AppFixture>
{
    private Task<IScenarioResult> Authenticate(Dictionary<string, string> form, int status, string url = "/accounts/authenticate") =>
        app.Host.Scenario(x => { x.Post.FormData(form).ToUrl(url); x.StatusCodeShouldBe(status); });

    private static Dictionary<string, string> PasswordGrant(TestMerchant merchant, string email, string password) => new()
    {
        ["grant_type"] = "password", ["client_id"] = merchant.Uuid.ToString(), ["username"] = email, ["password"] = password,
    };

    private static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement;

    [Fact]
    public async Task Password_grant_signs_a_viewer_in_whatever_the_email_case()
    {
        var merchant = await Given.Merchant(app.Db);
        await Given.Consumer(app.Host, merchant, "Derby@Mail.com");
        var result = await Authenticate(PasswordGrant(merchant, "derby@MAIL.com", Given.Password), 200);
        var body = Json(await result.ReadAsTextAsync());
        Assert.Equal(app.Clock.GetUtcNow().AddDays(30).ToUnixTimeSeconds(), body.GetProperty("expires").GetInt64());
        Assert.Equal("consumer", body.GetProperty("account").GetProperty("roles")[0].GetString());
        await result.MatchSnapshot();
    }

    [Fact]
    public async Task Wrong_password_and_unknown_email_get_the_same_answer()
    {
        var merchant = await Given.Merchant(app.Db);
        var viewer = await Given.Consumer(app.Host, merchant);
        var wrong = await Authenticate(PasswordGrant(merchant, viewer.Email, "not-the-password"), 400);
        var unknown = await Authenticate(PasswordGrant(merchant, "nobody@mail.com", "not-the-password"), 400);
        Assert.Equal(await wrong.ReadAsTextAsync(), await unknown.ReadAsTextAsync());
        await wrong.MatchSnapshot();
    }

    [Fact]
    public async Task A_viewer_of_one_merchant_cannot_sign_in_under_another()
    {
        var first = await Given.Merchant(app.Db);
        var second = await Given.Merchant(app.Db);
        var viewer = await Given.Consumer(app.Host, first);
        await Authenticate(PasswordGrant(second, viewer.Email, viewer.Password), 400);
    }

    [Fact]
    public async Task Missing_fields_are_each_named()
    {
        var result = await Authenticate(new Dictionary<string, string> { ["grant_type"] = "password" }, 400);
        await result.MatchSnapshot();
    }

    [Theory]
    [InlineData("", "missing")]
    [InlineData("authorization_code", "unsupported")]
    public async Task Unknown_grant_types_are_refused(string grant, string name)
    {
        var result = await Authenticate(new Dictionary<string, string> { ["grant_type"] = grant }, 400);
        await result.MatchSnapshot(name);
    }

    [Fact]
    public async Task Client_credentials_give_the_merchant_a_token()
    {
        var merchant = await Given.Merchant(app.Db, "Acme Video");
        var result = await Authenticate(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials", ["client_id"] = merchant.Uuid.ToString(), ["client_secret"] = merchant.Secret,
        }, 200);
        var account = Json(await result.ReadAsTextAsync()).GetProperty("account");
        Assert.Equal(merchant.Uuid, account.GetProperty("uuid").GetGuid());
        Assert.Equal("merchant", account.GetProperty("roles")[0].GetString());
        await result.MatchSnapshot();
    }

    [Fact]
    public async Task A_wrong_or_missing_client_secret_is_refused()
    {
        var merchant = await Given.Merchant(app.Db);
        var other = await Given.Merchant(app.Db);
        var wrong = await Authenticate(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials", ["client_id"] = merchant.Uuid.ToString(), ["client_secret"] = other.Secret,
        }, 400);
        await wrong.MatchSnapshot("wrong");
        var missing = await Authenticate(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials", ["client_id"] = merchant.Uuid.ToString(),
        }, 400);
        await missing.MatchSnapshot("missing");
    }

    [Fact]
    public async Task A_refresh_token_renews_the_tokens_once()
    {
        var merchant = await Given.Merchant(app.Db);
        var viewer = await Given.Consumer(app.Host, merchant);
        app.Clock.Advance(TimeSpan.FromHours(1));

        var result = await Authenticate(new Dictionary<string, string>
        {
            ["grant_type"] = "refresh_token", ["refresh_token"] = viewer.RefreshToken, ["client_id"] = merchant.Uuid.ToString(),
        }, 200);
        var body = Json(await result.ReadAsTextAsync());
        Assert.NotEqual(viewer.RefreshToken, body.GetProperty("refresh_token").GetString());
        Assert.Equal(app.Clock.GetUtcNow().AddDays(30).ToUnixTimeSeconds(), body.GetProperty("expires").GetInt64());
        await result.MatchSnapshot();

        var renewed = body.GetProperty("access_token").GetString()!;
        await app.Host.Scenario(x => { x.Get.Url("/accounts"); x.WithBearerToken(renewed); });
    }

    [Fact]
    public async Task Reusing_a_spent_refresh_token_ends_the_session()
    {
        var merchant = await Given.Merchant(app.Db);
        var viewer = await Given.Consumer(app.Host, merchant);
        var refresh = new Dictionary<string, string> { ["grant_type"] = "refresh_token", ["refresh_token"] = viewer.RefreshToken };
        var renewed = Json(await (await Authenticate(refresh, 200)).ReadAsTextAsync());

        var reuse = await Authenticate(refresh, 401);
        await reuse.MatchSnapshot();

        // Whoever holds the renewed tokens is signed out too: one of the two copies was stolen.
        await app.Host.Scenario(x =>
        {
            x.Get.Url("/accounts");
            x.WithBearerToken(renewed.GetProperty("access_token").GetString()!);
            x.StatusCodeShouldBe(401);
        });
        await Authenticate(new Dictionary<string, string>
        {
            ["grant_type"] = "refresh_token", ["refresh_token"] = renewed.GetProperty("refresh_token").GetString()!,
        }, 401);
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("12.abc")]
    [InlineData("999999.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    public async Task Malformed_or_unknown_refresh_tokens_are_401(string token)
    {
        await Authenticate(new Dictionary<string, string> { ["grant_type"] = "refresh_token", ["refresh_token"] = token }, 401);
    }

    [Fact]
    public async Task A_refresh_token_is_bound_to_its_merchant()
    {
        var merchant = await Given.Merchant(app.Db);
        var other = await Given.Merchant(app.Db);
        var viewer = await Given.Consumer(app.Host, merchant);
        await Authenticate(new Dictionary<string, string>
        {
            ["grant_type"] = "refresh_token", ["refresh_token"] = viewer.RefreshToken, ["client_id"] = other.Uuid.ToString(),
        }, 401);
    }

    [Fact]
    public async Task V2_authenticate_takes_the_password_grant_only()
    {
        var merchant = await Given.Merchant(app.Db);
        var viewer = await Given.Consumer(app.Host, merchant);
        var form = PasswordGrant(merchant, viewer.Email, viewer.Password);
        form.Remove("grant_type");
        var result = await Authenticate(form, 200, "/v2/accounts/authenticate");
        await result.MatchSnapshot();

        var credentials = await Authenticate(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials", ["client_id"] = merchant.Uuid.ToString(), ["client_secret"] = merchant.Secret,
        }, 400, "/v2/accounts/authenticate");
        await credentials.MatchSnapshot("client_credentials");
    }

    [Fact]
    public async Task Ten_failed_passwords_lock_the_account_for_fifteen_minutes()
    {
        var merchant = await Given.Merchant(app.Db);
        var viewer = await Given.Consumer(app.Host, merchant);
        for (var i = 0; i < 10; i++) await Authenticate(PasswordGrant(merchant, viewer.Email, "wrong-password"), 400);

        var locked = await Authenticate(PasswordGrant(merchant, viewer.Email, viewer.Password), 429);
        await locked.MatchSnapshot();

        app.Clock.Advance(TimeSpan.FromMinutes(16));
        await Authenticate(PasswordGrant(merchant, viewer.Email, viewer.Password), 200);
    }

    [Fact]
    public async Task Tokens_expire_after_thirty_days()
    {
        var merchant = await Given.Merchant(app.Db);
        var viewer = await Given.Consumer(app.Host, merchant);
        app.Clock.Advance(TimeSpan.FromDays(29));
        await app.Host.Scenario(x => { x.Get.Url("/accounts"); x.WithBearerToken(viewer.AccessToken); });
        app.Clock.Advance(TimeSpan.FromDays(1) + TimeSpan.FromSeconds(1));
        var expired = await app.Host.Scenario(x =>
        {
            x.Get.Url("/accounts");
            x.WithBearerToken(viewer.AccessToken);
            x.StatusCodeShouldBe(401);
        });
        await expired.MatchSnapshot();
    }

    [Theory]
    [InlineData("not-a-jwt", "garbage")]
    [InlineData("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIiwibWlkIjoiMSIsInJvbGUiOiJtZXJjaGFudCIsInNpZCI6IjEiLCJleHAiOjQxMDI0NDQ4MDAsImlzcyI6ImdhdGVob3VzZSIsImF1ZCI6ImdhdGVob3VzZSJ9.c2lnbmVkLWJ5LXNvbWVib2R5LWVsc2U", "forged")]
    public async Task Bad_tokens_are_401_in_the_error_shape(string token, string name)
    {
        var result = await app.Host.Scenario(x =>
        {
            x.Get.Url("/accounts");
            x.WithBearerToken(token);
            x.StatusCodeShouldBe(401);
        });
        await result.MatchSnapshot(name);
    }

    [Fact]
    public async Task No_token_is_401()
    {
        var result = await app.Host.Scenario(x => { x.Get.Url("/accounts"); x.StatusCodeShouldBe(401); });
        await result.MatchSnapshot();
    }
}
