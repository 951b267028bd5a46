using System.Text.Json;
using Dapper;
using Gatehouse.Tests.Infrastructure;

namespace Gatehouse.Tests.Accounts;

public sealed class RegisterTests(AppFixture app) : IClassFixture<AppFixture>
{
    private static Dictionary<string, string> Form(TestMerchant merchant, string email) => new()
    {
        ["full_name"] = "Derby Viewer", ["username"] = email, ["password"] = "secret-pass-1",
        ["password_confirmation"] = "secret-pass-1", ["client_id"] = merchant.Uuid.ToString(), ["type"] = "consumer",
        ["referrer"] = "https://tv.example/watch", ["metadata[country]"] = "MK", ["metadata[plan]"] = "gold",
    };

    [Fact]
    public async Task Registers_a_viewer_and_signs_them_in()
    {
        var merchant = await Given.Merchant(app.Db);
        const string email = "derby@mail.com";
        var result = await app.Host.Scenario(x =>
        {
            x.Post.FormData(Form(merchant, email)).ToUrl("/accounts");
            x.StatusCodeShouldBe(201);
        });

        var body = JsonDocument.Parse(await result.ReadAsTextAsync()).RootElement;
        Assert.Equal(email, body.GetProperty("account").GetProperty("email").GetString());
        Assert.Equal("MK", body.GetProperty("account").GetProperty("metadata").GetProperty("country").GetString());
        Assert.Equal(merchant.Uuid, body.GetProperty("account").GetProperty("merchant_uuid").GetGuid());
        Assert.Equal(app.Clock.GetUtcNow().AddDays(30).ToUnixTimeSeconds(), body.GetProperty("expires").GetInt64());
        await result.MatchSnapshot();

        // The token works at once, and the registration is an outbox event written with the account.
        var token = body.GetProperty("access_token").GetString();
        await app.Host.Scenario(x => { x.Get.Url("/accounts"); x.WithBearerToken(token!); });
        await using var connection = await app.Db.OpenConnectionAsync();
        Assert.Equal(1, await connection.ExecuteScalarAsync<int>(
            "select count(*) from kernel.outbox where merchant_id = @Id and type = 'customer.registered'", new { merchant.Id }));
    }

    [Fact]
    public async Task Rejects_a_second_account_with_the_same_email_in_any_case()
    {
        var merchant = await Given.Merchant(app.Db);
        const string email = "twice@mail.com";
        await app.Host.Scenario(x => { x.Post.FormData(Form(merchant, email)).ToUrl("/accounts"); x.StatusCodeShouldBe(201); });
        var result = await app.Host.Scenario(x =>
        {
            x.Post.FormData(Form(merchant, email.ToUpperInvariant())).ToUrl("/accounts");
            x.StatusCodeShouldBe(409);
        });
        await result.MatchSnapshot();
    }

    [Fact]
    public async Task The_same_email_may_register_with_another_merchant()
    {
        var first = await Given.Merchant(app.Db);
        var second = await Given.Merchant(app.Db);
        var email = $"shared-{Guid.NewGuid():N}@mail.com";
        await app.Host.Scenario(x => { x.Post.FormData(Form(first, email)).ToUrl("/accounts"); x.StatusCodeShouldBe(201); });
        await app.Host.Scenario(x => { x.Post.FormData(Form(second, email)).ToUrl("/accounts"); x.StatusCodeShouldBe(201); });
    }

    [Fact]
    public async Task Reports_every_invalid_field_at_once_and_writes_nothing()
    {
        var merchant = await Given.Merchant(app.Db);
        var result = await app.Host.Scenario(x =>
        {
            x.Post.FormData(new Dictionary<string, string>
            {
                ["username"] = "not-an-email", ["password"] = "short", ["password_confirmation"] = "other",
                ["client_id"] = merchant.Uuid.ToString(), ["type"] = "merchant",
            }).ToUrl("/accounts");
            x.StatusCodeShouldBe(400);
        });
        await result.MatchSnapshot();
        await using var connection = await app.Db.OpenConnectionAsync();
        Assert.Equal(0, await connection.ExecuteScalarAsync<int>("select count(*) from accounts.consumers where merchant_id = @Id", new { merchant.Id }));
    }

    [Fact]
    public async Task Rejects_mismatched_password_confirmation()
    {
        var merchant = await Given.Merchant(app.Db);
        var form = Form(merchant, $"m-{Guid.NewGuid():N}@mail.com");
        form["password_confirmation"] = "secret-pass-2";
        var result = await app.Host.Scenario(x => { x.Post.FormData(form).ToUrl("/accounts"); x.StatusCodeShouldBe(400); });
        await result.MatchSnapshot();
    }

    [Theory]
    [InlineData("", "missing")]
    [InlineData("not-a-uuid", "malformed")]
    [InlineData("00000000-0000-0000-0000-000000000001", "unknown")]
    public async Task Rejects_a_bad_client_id(string clientId, string name)
    {
        var merchant = await Given.Merchant(app.Db);
        var form = Form(merchant, $"c-{Guid.NewGuid():N}@mail.com");
        form["client_id"] = clientId;
        var result = await app.Host.Scenario(x => { x.Post.FormData(form).ToUrl("/accounts"); x.StatusCodeShouldBe(400); });
        await result.MatchSnapshot(name);
    }

    [Fact]
    public async Task Accepts_json_as_well_as_forms()
    {
        var merchant = await Given.Merchant(app.Db);
        var result = await app.Host.Scenario(x =>
        {
            x.Post.Json(new
            {
                full_name = "Json Viewer", username = $"json-{Guid.NewGuid():N}@mail.com", password = "secret-pass-1",
                password_confirmation = "secret-pass-1", client_id = merchant.Uuid, metadata = new { country = "SE" },
            }).ToUrl("/accounts");
            x.StatusCodeShouldBe(201);
        });
        var body = JsonDocument.Parse(await result.ReadAsTextAsync()).RootElement;
        Assert.Equal("SE", body.GetProperty("account").GetProperty("metadata").GetProperty("country").GetString());
    }

    [Fact]
    public async Task Accepts_multipart_forms()
    {
        var merchant = await Given.Merchant(app.Db);
        using var client = app.Host.Server.CreateClient();
        using var content = new MultipartFormDataContent();
        foreach (var (key, value) in Form(merchant, "multipart@mail.com")) content.Add(new StringContent(value), key);
        var response = await client.PostAsync("/accounts", content);
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("MK", body.GetProperty("account").GetProperty("metadata").GetProperty("country").GetString());
    }

    [Fact]
    public async Task Rejects_metadata_of_the_wrong_type()
    {
        var merchant = await Given.Merchant(app.Db);
        var result = await app.Host.Scenario(x =>
        {
            x.Post.Json(new
            {
                full_name = 42, username = $"t-{Guid.NewGuid():N}@mail.com", password = "secret-pass-1",
                password_confirmation = "secret-pass-1", client_id = merchant.Uuid,
            }).ToUrl("/accounts");
            x.StatusCodeShouldBe(400);
        });
        await result.MatchSnapshot();
    }
}
