using System.Net;
using System.Net.Http.Headers;
using System.Security.Claims;
using System.Text;
using System.Text.Json;
using Dapper;
using Gatehouse.Kernel;
using Gatehouse.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Tests.Kernel;

public sealed class IdempotencyTests(AppFixture app) : IClassFixture<AppFixture>
{
    private sealed record Shop(TestMerchant Merchant, string Token, long Item, long Viewer);

    private sealed record Answer(HttpStatusCode Status, string? ContentType, byte[] Body, bool Replayed)
    {
        public string Text => Encoding.UTF8.GetString(Body);
    }

    private async Task<Shop> OpenShop()
    {
        var merchant = await Given.Merchant(app.Db);
        var token = await Given.MerchantToken(app.Host, merchant);
        var viewer = await Given.Consumer(app.Host, merchant);
        var item = await Send(token, "/v2/items", new() { ["title"] = "Cup Final", ["item_type"] = "video" }, key: null);
        Assert.Equal(HttpStatusCode.Created, item.Status);
        return new Shop(merchant, token, JsonDocument.Parse(item.Body).RootElement.GetProperty("id").GetInt64(), viewer.Id);
    }

    private async Task<Answer> Send(string token, string path, Dictionary<string, string> form, string? key)
    {
        using var client = app.Host.Server.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new FormUrlEncodedContent(form) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (key is not null) request.Headers.TryAddWithoutValidation(Idempotency.Header, key);
        using var response = await client.SendAsync(request);
        return new Answer(response.StatusCode, response.Content.Headers.ContentType?.ToString(), await response.Content.ReadAsByteArrayAsync(),
            response.Headers.TryGetValues(Idempotency.ReplayedHeader, out var replayed) && replayed.Single() == "true");
    }

    private Dictionary<string, string> GrantForm(Shop shop) => new()
    {
        ["consumer_id"] = shop.Viewer.ToString(), ["item_id"] = shop.Item.ToString(),
        ["expires_at"] = app.Clock.GetUtcNow().AddDays(7).ToString("o"),
    };

    private Task<Answer> Grant(Shop shop, Dictionary<string, string> form, string? key) => Send(shop.Token, "/items/access", form, key);

    private async Task<int> Passes(Shop shop)
    {
        await using var connection = await app.Db.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<int>("select count(*) from access.passes where merchant_id = @Id", new { shop.Merchant.Id });
    }

    private async Task<int> Keys(long merchantId)
    {
        await using var connection = await app.Db.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<int>("select count(*) from kernel.idempotency_keys where merchant_id = @merchantId", new { merchantId });
    }

    [Fact]
    public async Task A_replayed_grant_answers_the_first_response_and_grants_once()
    {
        var shop = await OpenShop();
        var form = GrantForm(shop);

        var first = await Grant(shop, form, "grant-1");
        Assert.Equal((HttpStatusCode.Created, false), (first.Status, first.Replayed));
        var replay = await Grant(shop, form, "grant-1");
        Assert.Equal((HttpStatusCode.Created, true), (replay.Status, replay.Replayed));
        Assert.Equal(first.ContentType, replay.ContentType);
        Assert.Equal(first.Body, replay.Body);
        Assert.Equal(1, await Passes(shop));

        // Without the header a write behaves as it always did; another key is another request.
        Assert.Equal(HttpStatusCode.Created, (await Grant(shop, form, key: null)).Status);
        Assert.Equal(HttpStatusCode.Created, (await Grant(shop, form, "grant-2")).Status);
        Assert.Equal(3, await Passes(shop));
    }

    [Fact]
    public async Task The_same_key_with_other_parameters_is_a_409()
    {
        var shop = await OpenShop();
        var form = GrantForm(shop);
        Assert.Equal(HttpStatusCode.Created, (await Grant(shop, form, "grant-1")).Status);

        var other = await Grant(shop, new Dictionary<string, string>(form) { ["expires_at"] = app.Clock.GetUtcNow().AddDays(30).ToString("o") }, "grant-1");
        Assert.Equal((HttpStatusCode.Conflict, false), (other.Status, other.Replayed));
        other.Text.MatchSnapshot("different_parameters");
        // Another path is another request too.
        var elsewhere = await Send(shop.Token, "/v2/items", new() { ["title"] = "Derby", ["item_type"] = "video" }, "grant-1");
        Assert.Equal(HttpStatusCode.Conflict, elsewhere.Status);
        Assert.Equal(other.Text, elsewhere.Text);
        Assert.Equal(1, await Passes(shop));
    }

    [Fact]
    public async Task A_key_must_be_1_to_255_characters()
    {
        var shop = await OpenShop();
        var form = GrantForm(shop);

        var tooLong = await Grant(shop, form, new string('k', 256));
        Assert.Equal(HttpStatusCode.BadRequest, tooLong.Status);
        tooLong.Text.MatchSnapshot("too_long");
        var empty = await app.Host.Scenario(x =>
        {
            x.Post.FormData(form).ToUrl("/items/access");
            x.WithBearerToken(shop.Token);
            x.WithRequestHeader(Idempotency.Header, "");
            x.StatusCodeShouldBe(400);
        });
        await empty.MatchSnapshot("empty");
        Assert.Equal(0, await Passes(shop));

        Assert.Equal(HttpStatusCode.Created, (await Grant(shop, form, new string('k', 255))).Status);
        Assert.True((await Grant(shop, form, new string('k', 255))).Replayed);
        Assert.Equal(1, await Passes(shop));
    }

    [Fact]
    public async Task Two_merchants_use_the_same_key_independently()
    {
        var first = await OpenShop();
        var second = await OpenShop();

        var one = await Grant(first, GrantForm(first), "shared-key");
        var other = await Grant(second, GrantForm(second), "shared-key");
        Assert.Equal((HttpStatusCode.Created, false), (one.Status, one.Replayed));
        Assert.Equal((HttpStatusCode.Created, false), (other.Status, other.Replayed));
        Assert.NotEqual(one.Body, other.Body);
        Assert.Equal((1, 1), (await Passes(first), await Passes(second)));
    }

    [Fact]
    public async Task Twenty_requests_at_once_with_one_key_grant_one_pass()
    {
        var shop = await OpenShop();
        var form = GrantForm(shop);

        var answers = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Task.Run(() => Grant(shop, form, "burst"))));

        Assert.Equal(1, await Passes(shop));
        var ran = Assert.Single(answers, a => a is { Status: HttpStatusCode.Created, Replayed: false });
        Assert.All(answers.Where(a => !ReferenceEquals(a, ran)), a =>
        {
            if (a.Replayed)
            {
                Assert.Equal(HttpStatusCode.Created, a.Status);
                Assert.Equal(ran.Body, a.Body);
            }
            else
                Assert.Equal((HttpStatusCode.Conflict, """{"code":409,"message":"A request with this Idempotency-Key is in progress"}"""), (a.Status, a.Text));
        });
    }

    [Fact]
    public async Task A_refused_request_is_stored_and_replayed_as_refused()
    {
        var shop = await OpenShop();
        var form = GrantForm(shop);
        form.Remove("consumer_id");

        // A 4xx is the request's answer, stored like a success (unlike a 5xx): it can depend on data that changes
        // (a viewer created later), and one key must keep meaning one outcome. A corrected request needs a new key.
        var refused = await Grant(shop, form, "refused");
        Assert.Equal((HttpStatusCode.BadRequest, false), (refused.Status, refused.Replayed));
        var replay = await Grant(shop, form, "refused");
        Assert.Equal((HttpStatusCode.BadRequest, true), (replay.Status, replay.Replayed));
        Assert.Equal(refused.ContentType, replay.ContentType);
        Assert.Equal(refused.Body, replay.Body);
        Assert.Contains("\"consumer_id\":\"is required\"", replay.Text);

        Assert.Equal(HttpStatusCode.Conflict, (await Grant(shop, GrantForm(shop), "refused")).Status);
        Assert.Equal(HttpStatusCode.Created, (await Grant(shop, GrantForm(shop), "corrected")).Status);
        Assert.Equal(1, await Passes(shop));
    }

    [Fact]
    public async Task A_bulk_upload_retried_with_a_new_multipart_boundary_is_replayed()
    {
        var shop = await OpenShop();
        var csv = $"user_id,item_id,starts_at,expires_at\n{shop.Viewer},{shop.Item},,{app.Clock.GetUtcNow().AddDays(7):yyyy-MM-ddTHH:mm:ssZ}\n";

        async Task<Answer> Upload(string fileName)
        {
            using var client = app.Host.Server.CreateClient();
            using var content = new MultipartFormDataContent { { new StringContent("grant"), "action" } }; // a fresh random boundary
            content.Add(new ByteArrayContent(Encoding.UTF8.GetBytes(csv)), "file", fileName);
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v2/access/bulk") { Content = content };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", shop.Token);
            request.Headers.Add(Idempotency.Header, "upload-1");
            using var response = await client.SendAsync(request);
            return new Answer(response.StatusCode, response.Content.Headers.ContentType?.ToString(), await response.Content.ReadAsByteArrayAsync(),
                response.Headers.Contains(Idempotency.ReplayedHeader));
        }

        var first = await Upload("access.csv");
        Assert.Equal((HttpStatusCode.Accepted, false), (first.Status, first.Replayed));
        var retry = await Upload("access.csv"); // not the 409 of a file uploaded twice
        Assert.Equal((HttpStatusCode.Accepted, true), (retry.Status, retry.Replayed));
        Assert.Equal(first.Body, retry.Body);
        Assert.Equal(HttpStatusCode.Conflict, (await Upload("renamed.csv")).Status);
    }

    [Fact]
    public async Task Keys_are_kept_48_hours_then_pruned()
    {
        var shop = await OpenShop();
        var form = GrantForm(shop);
        Assert.Equal(HttpStatusCode.Created, (await Grant(shop, form, "old-key")).Status);
        var job = app.Host.Services.GetRequiredService<PruneIdempotencyKeys>();

        app.Clock.Advance(TimeSpan.FromHours(47));
        await job.Invoke();
        Assert.Equal(1, await Keys(shop.Merchant.Id));
        var token = await Given.MerchantToken(app.Host, shop.Merchant);
        Assert.True((await Send(token, "/items/access", form, "old-key")).Replayed);

        app.Clock.Advance(TimeSpan.FromHours(1));
        await job.Invoke();
        Assert.Equal(0, await Keys(shop.Merchant.Id));
        // Forgotten: the key is free again, and the request runs as a new one.
        var again = await Send(token, "/items/access", form, "old-key");
        Assert.Equal((HttpStatusCode.Created, false), (again.Status, again.Replayed));
        Assert.Equal(2, await Passes(shop));
    }

    [Fact]
    public async Task A_claim_left_in_progress_by_a_dead_instance_is_taken_over_after_5_minutes()
    {
        var shop = await OpenShop();
        var form = GrantForm(shop);
        Assert.Equal(HttpStatusCode.Created, (await Grant(shop, form, "orphan")).Status);
        // As if the instance had died before it stored the answer (here, after its commit: the retry grants again).
        await using (var connection = await app.Db.OpenConnectionAsync())
            await connection.ExecuteAsync(
                "update kernel.idempotency_keys set state = 'in_progress', status_code = null, content_type = null, body = null where merchant_id = @Id",
                new { shop.Merchant.Id });

        var running = await Grant(shop, form, "orphan");
        Assert.Equal(HttpStatusCode.Conflict, running.Status);
        running.Text.MatchSnapshot("in_progress");
        app.Clock.Advance(Idempotency.AbandonedAfter);
        Assert.Equal(HttpStatusCode.Conflict, (await Grant(shop, new Dictionary<string, string>(form) { ["item_id"] = "0" }, "orphan")).Status);
        var taken = await Grant(shop, form, "orphan");
        Assert.Equal((HttpStatusCode.Created, false), (taken.Status, taken.Replayed));
        Assert.True((await Grant(shop, form, "orphan")).Replayed);
    }

    [Fact]
    public async Task The_openapi_document_offers_the_header_on_idempotent_routes_only()
    {
        var result = await app.Host.Scenario(x => x.Get.Url("/openapi/v1.json"));
        var paths = JsonDocument.Parse(await result.ReadAsTextAsync()).RootElement.GetProperty("paths");
        bool Offers(string path, string method) =>
            paths.GetProperty(path).GetProperty(method).TryGetProperty("parameters", out var parameters)
            && parameters.EnumerateArray().Any(p => p.GetProperty("name").GetString() == Idempotency.Header && p.GetProperty("in").GetString() == "header");
        Assert.True(Offers("/items/access", "post"));
        Assert.True(Offers("/v2/access/bulk", "post"));
        Assert.True(Offers("/v2/items/{id}/access-fees", "post"));
        Assert.False(Offers("/v2/access/{id}/revoke", "post"));
    }

    /// <summary>
    /// A bare app on the same database with one idempotent route whose outcomes the test lines up, and a caller
    /// chosen by a test header (none = anonymous): failures that must not be stored, and anonymous calls.
    /// </summary>
    [Fact]
    public async Task Failures_release_the_key_and_anonymous_callers_are_not_tracked()
    {
        var outcomes = new Queue<string>(["500", "throw", "201", "201", "201"]);
        var runs = 0;
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        builder.Services.AddDatabase(app.ConnectionString);
        builder.Services.AddSingleton<TimeProvider>(app.Clock);
        await using var web = builder.Build();
        web.UseApiErrors();
        web.Use((context, next) =>
        {
            if (context.Request.Headers["X-Test-Merchant"] is [{ } merchantId])
                context.User = new ClaimsPrincipal(new ClaimsIdentity(
                    [new(Auth.MerchantIdClaim, merchantId), new(Auth.RoleClaim, Auth.Merchant), new(Auth.SubjectClaim, merchantId)], "test"));
            return next(context);
        });
        web.MapPost("/test/flaky", () =>
        {
            var run = Interlocked.Increment(ref runs);
            return outcomes.Dequeue() switch
            {
                "500" => Results.StatusCode(500),
                "throw" => throw new InvalidOperationException("the database went away"),
                _ => Results.Json(new { run }, statusCode: 201),
            };
        }).Idempotent();
        await web.StartAsync();
        using var client = web.GetTestClient();
        var merchant = Random.Shared.NextInt64(1_000_000_000, long.MaxValue).ToString(); // no merchant row: keys are the kernel's

        async Task<(int Status, string Body, bool Replayed)> Post(bool signedIn)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/test/flaky");
            request.Headers.Add(Idempotency.Header, "flaky-1");
            if (signedIn) request.Headers.Add("X-Test-Merchant", merchant);
            using var response = await client.SendAsync(request);
            return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(), response.Headers.Contains(Idempotency.ReplayedHeader));
        }

        Assert.Equal(500, (await Post(signedIn: true)).Status);
        Assert.Equal(500, (await Post(signedIn: true)).Status); // the exception, answered by UseApiErrors
        Assert.Equal((201, """{"run":3}""", false), await Post(signedIn: true));
        Assert.Equal((201, """{"run":3}""", true), await Post(signedIn: true));
        Assert.Equal((201, """{"run":4}""", false), await Post(signedIn: false));
        Assert.Equal((201, """{"run":5}""", false), await Post(signedIn: false));
        Assert.Equal(1, await Keys(long.Parse(merchant)));
    }
}
