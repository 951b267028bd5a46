using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Gatehouse.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Tests.Kernel;

/// <summary>What the host serves besides the modules: health, the OpenAPI document and Scalar, and instances sharing state.</summary>
public sealed class HostTests(AppFixture app) : IClassFixture<AppFixture>
{
    [Fact]
    public async Task Health_answers_when_the_database_does()
    {
        var result = await app.Host.Scenario(x => x.Get.Url("/health"));
        await result.MatchSnapshot();
    }

    [Fact]
    public async Task The_openapi_document_lists_the_account_routes()
    {
        var result = await app.Host.Scenario(x => x.Get.Url("/openapi/v1.json"));
        var paths = JsonDocument.Parse(await result.ReadAsTextAsync()).RootElement.GetProperty("paths");
        foreach (var path in new[] { "/accounts", "/accounts/authenticate", "/v2/accounts/authenticate", "/accounts/logout", "/v2/accounts/customers" })
            Assert.True(paths.TryGetProperty(path, out _), $"{path} is missing from the OpenAPI document");
    }

    [Fact]
    public async Task The_openapi_document_describes_bearer_auth_on_protected_routes_only()
    {
        var result = await app.Host.Scenario(x => x.Get.Url("/openapi/v1.json"));
        var document = JsonDocument.Parse(await result.ReadAsTextAsync()).RootElement;
        var scheme = document.GetProperty("components").GetProperty("securitySchemes").GetProperty("Bearer");
        Assert.Equal("bearer", scheme.GetProperty("scheme").GetString());
        var paths = document.GetProperty("paths");
        Assert.True(paths.GetProperty("/accounts").GetProperty("get").TryGetProperty("security", out _));
        Assert.False(paths.GetProperty("/accounts/authenticate").GetProperty("post").TryGetProperty("security", out _));
    }

    [Fact]
    public async Task Each_use_case_request_has_its_own_schema_in_the_openapi_document()
    {
        var document = JsonDocument.Parse(await (await app.Host.Scenario(x => x.Get.Url("/openapi/v1.json"))).ReadAsTextAsync()).RootElement;
        JsonElement BodySchema(string path, string method)
        {
            var content = document.GetProperty("paths").GetProperty(path).GetProperty(method).GetProperty("requestBody").GetProperty("content");
            var reference = content.EnumerateObject().First().Value.GetProperty("schema").GetProperty("$ref").GetString()!;
            return document.GetProperty("components").GetProperty("schemas").GetProperty(reference.Split('/').Last());
        }
        // Both use cases call their record Request; each must keep its own fields.
        Assert.True(BodySchema("/v2/items", "post").GetProperty("properties").TryGetProperty("title", out _));
        Assert.True(BodySchema("/accounts", "post").GetProperty("properties").TryGetProperty("password", out _));
        Assert.True(BodySchema("/v2/vouchers/redeem", "post").GetProperty("properties").TryGetProperty("voucher_code", out _));
    }

    [Fact]
    public async Task Scalar_serves_the_api_reference()
    {
        using var client = app.Host.Server.CreateClient();
        var response = await client.GetAsync("/scalar/");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("openapi/v1.json", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_admin_stylesheet_is_served_to_browsers_that_accept_gzip()
    {
        using var client = app.Host.Server.CreateClient();
        var request = new HttpRequestMessage(HttpMethod.Get, "/admin.css");
        request.Headers.Add("Accept-Encoding", "gzip, deflate, br");
        var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        var css = response.Content.Headers.ContentEncoding.Contains("gzip")
            ? new StreamReader(new System.IO.Compression.GZipStream(new MemoryStream(bytes), System.IO.Compression.CompressionMode.Decompress)).ReadToEnd()
            : System.Text.Encoding.UTF8.GetString(bytes);
        Assert.Contains(".topbar", css);
    }

    [Fact]
    public async Task An_admin_signed_in_on_one_instance_is_signed_in_on_another()
    {
        var merchant = await Given.Merchant(app.Db);
        await using var second = await AppFixture.StartHost(b =>
            AppFixture.Configure(b, app.ConnectionString, app.Clock, new Dictionary<string, string?>()));

        // Sign in on the first instance through the login form, antiforgery token included.
        using var first = app.Host.Server.CreateClient();
        var loginPage = await first.GetAsync("/admin/login");
        var html = await loginPage.Content.ReadAsStringAsync();
        var token = Regex.Match(html, "name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"").Groups[1].Value;
        Assert.NotEmpty(token);
        var post = new HttpRequestMessage(HttpMethod.Post, "/admin/login")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["Email"] = merchant.AdminEmail, ["Password"] = merchant.AdminPassword, ["__RequestVerificationToken"] = token,
            }),
        };
        post.Headers.Add("Cookie", Cookies(loginPage));
        var signedIn = await first.SendAsync(post);
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        var authCookie = Cookies(signedIn);
        Assert.Contains("gatehouse_admin=", authCookie);

        using var other = second.Server.CreateClient();
        var dashboard = new HttpRequestMessage(HttpMethod.Get, "/admin/settings");
        dashboard.Headers.Add("Cookie", authCookie);
        var response = await other.SendAsync(dashboard);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(merchant.Uuid.ToString(), await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_token_signed_out_on_one_instance_stops_working_on_another_at_once()
    {
        var merchant = await Given.Merchant(app.Db);
        var viewer = await Given.Consumer(app.Host, merchant);
        await using var second = await AppFixture.StartHost(b =>
            AppFixture.Configure(b, app.ConnectionString, app.Clock, new Dictionary<string, string?>()));
        // The second instance has seen the session open (and remembers it) ...
        await second.Scenario(x => { x.Get.Url("/accounts"); x.WithBearerToken(viewer.AccessToken); });
        // ... the viewer signs out on the first ...
        await app.Host.Scenario(x => { x.Get.Url("/accounts/logout"); x.WithBearerToken(viewer.AccessToken); });
        // ... and the second hears of it through NOTIFY well within a second.
        var refused = false;
        for (var attempt = 0; attempt < 20 && !refused; attempt++)
        {
            var result = await second.Scenario(x => { x.Get.Url("/accounts"); x.WithBearerToken(viewer.AccessToken); x.IgnoreStatusCode(); });
            refused = result.Context.Response.StatusCode == 401;
            if (!refused) await Task.Delay(50);
        }
        Assert.True(refused, "the second instance still accepted a signed-out token");
    }

    [Fact]
    public async Task A_cold_instance_answers_a_first_burst_of_signed_in_requests()
    {
        // Found by bench/: 32 signed-in requests arriving together at a fresh instance starved its thread pool, and it
        // stopped answering until the pool grew (18 s here, longer under wrk).
        var merchant = await Given.Merchant(app.Db);
        var viewer = await Given.Consumer(app.Host, merchant);
        await using var cold = await AppFixture.StartHost(b =>
            AppFixture.Configure(b, app.ConnectionString, app.Clock, new Dictionary<string, string?>()));
        using var client = cold.Server.CreateClient();
        client.Timeout = TimeSpan.FromSeconds(30);
        client.DefaultRequestHeaders.Authorization = new("Bearer", viewer.AccessToken);
        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        var statuses = await Task.WhenAll(Enumerable.Range(0, 32).Select(_ => Task.Run(async () => (await client.GetAsync("/accounts")).StatusCode)));
        Assert.All(statuses, status => Assert.Equal(HttpStatusCode.OK, status));
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(6), $"the first burst took {stopwatch.Elapsed.TotalSeconds:0.0} s");
    }

    [Fact]
    public async Task Rotating_the_api_secret_ends_the_merchant_tokens_minted_with_it()
    {
        var merchant = await Given.Merchant(app.Db);
        var token = await Given.MerchantToken(app.Host, merchant);
        var viewer = await Given.Consumer(app.Host, merchant);
        await app.Host.Scenario(x => { x.Get.Url("/accounts"); x.WithBearerToken(token); });
        await Gatehouse.Accounts.RotateApiSecret.Run(app.Db, app.Clock,
            app.Host.Services.GetRequiredService<Gatehouse.Accounts.ActiveSessions>(), merchant.Id);
        await app.Host.Scenario(x => { x.Get.Url("/accounts"); x.WithBearerToken(token); x.StatusCodeShouldBe(401); });
        await app.Host.Scenario(x => { x.Get.Url("/accounts"); x.WithBearerToken(viewer.AccessToken); }); // viewers are not affected
    }

    [Fact]
    public void Socket_completions_run_inline_here_as_in_the_app()
    {
        // The suite is the net for code that blocks on I/O on the socket event thread: it must run in the app's mode.
        var engine = typeof(System.Net.Sockets.Socket).Assembly.GetType("System.Net.Sockets.SocketAsyncEngine")!;
        var inline = engine.GetField("InlineSocketCompletionsEnabled", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!;
        Assert.True((bool)inline.GetValue(null)!, "run the tests with ./gatehouse test (it sets DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1)");
    }

    [Fact]
    public async Task Dapper_reads_whole_rows_asynchronously()
    {
        Gatehouse.Kernel.Database.ConfigureDapper();
        var allowed = (System.Data.CommandBehavior)typeof(Dapper.SqlMapper.Settings)
            .GetProperty("AllowedCommandBehaviors", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!.GetValue(null)!;
        Assert.False(allowed.HasFlag(System.Data.CommandBehavior.SequentialAccess));
        // A row far larger than Npgsql's 8 KB buffer, read through Dapper after an awaited query, as the bulk job reads its file.
        await using var connection = await app.Db.OpenConnectionAsync();
        var rows = await Dapper.SqlMapper.QueryAsync<(long Id, byte[] File)>(connection,
            "select n::bigint as id, decode(repeat('ab', 4 << 20), 'hex') as file from generate_series(1, 3) n");
        Assert.All(rows, r => Assert.Equal(4 << 20, r.File.Length));
    }

    private static string Cookies(HttpResponseMessage response) =>
        string.Join("; ", response.Headers.TryGetValues("Set-Cookie", out var values)
            ? values.Select(v => v.Split(';')[0])
            : []);
}
