using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Dapper;
using Gatehouse.Access;
using Gatehouse.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Tests.Access;

public sealed class BulkTests(AppFixture app) : IClassFixture<AppFixture>
{
    private sealed record Shop(TestMerchant Merchant, string Token, long[] Viewers, long[] Items);

    private async Task<Shop> OpenShop(int viewers = 3, int items = 2)
    {
        var merchant = await Given.Merchant(app.Db);
        var token = await Given.MerchantToken(app.Host, merchant);
        var viewerIds = new List<long>();
        for (var i = 0; i < viewers; i++) viewerIds.Add((await Given.Consumer(app.Host, merchant)).Id);
        var itemIds = new List<long>();
        for (var i = 0; i < items; i++)
        {
            var result = await app.Host.Scenario(x =>
            {
                x.Post.FormData(new Dictionary<string, string> { ["title"] = $"Asset {i}", ["item_type"] = "video" }).ToUrl("/v2/items");
                x.WithBearerToken(token);
                x.StatusCodeShouldBe(201);
            });
            itemIds.Add(JsonDocument.Parse(await result.ReadAsTextAsync()).RootElement.GetProperty("id").GetInt64());
        }
        return new Shop(merchant, token, viewerIds.ToArray(), itemIds.ToArray());
    }

    private string Date(TimeSpan fromNow) => app.Clock.GetUtcNow().Add(fromNow).ToString("yyyy-MM-ddTHH:mm:ssZ");

    private async Task<(HttpStatusCode Status, JsonElement Body)> Upload(string token, string action, string csv,
        bool dryRun = false, bool applyValidRows = false, byte[]? raw = null)
    {
        using var client = app.Host.Server.CreateClient();
        using var content = new MultipartFormDataContent
        {
            { new StringContent(action), "action" },
            { new StringContent(dryRun ? "true" : "false"), "dry_run" },
            { new StringContent(applyValidRows ? "true" : "false"), "apply_valid_rows" },
        };
        var file = new ByteArrayContent(raw ?? Encoding.UTF8.GetBytes(csv));
        file.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
        content.Add(file, "file", "access.csv");
        var request = new HttpRequestMessage(HttpMethod.Post, "/v2/access/bulk") { Content = content };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var response = await client.SendAsync(request);
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    /// <summary>Runs the worker here and now (the app's scheduler may also pick the job up; the claim makes that safe).</summary>
    private async Task<JsonElement> Finish(string token, JsonElement job)
    {
        var id = job.GetProperty("id").GetInt64();
        await app.Host.Services.GetRequiredService<RunBulkJobs>().Invoke();
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var result = await app.Host.Scenario(x => { x.Get.Url($"/v2/access/bulk/{id}"); x.WithBearerToken(token); });
            var body = JsonDocument.Parse(await result.ReadAsTextAsync()).RootElement.Clone();
            if (BulkJobView.Finished.Contains(body.GetProperty("status").GetString())) return body;
            await Task.Delay(100);
        }
        throw new TimeoutException($"bulk job {id} did not finish");
    }

    private async Task<string> Results(string token, long jobId)
    {
        var result = await app.Host.Scenario(x => { x.Get.Url($"/v2/access/bulk/{jobId}/results"); x.WithBearerToken(token); });
        return await result.ReadAsTextAsync();
    }

    private async Task<int> Passes(long merchantId, string where = "true")
    {
        await using var connection = await app.Db.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<int>($"select count(*) from access.passes where merchant_id = @merchantId and {where}", new { merchantId });
    }

    [Theory]
    [InlineData("grant")]
    [InlineData("revoke")]
    [InlineData("extend")]
    public async Task Each_action_has_a_template_with_the_spec_columns_and_one_dummy_row(string action)
    {
        var (_, token) = (0, await Given.MerchantToken(app.Host, await Given.Merchant(app.Db)));
        var result = await app.Host.Scenario(x => { x.Get.Url($"/v2/access/bulk/template?action={action}"); x.WithBearerToken(token); });
        var lines = (await result.ReadAsTextAsync()).TrimEnd('\n').Split('\n');
        Assert.Equal("user_id,item_id,starts_at,expires_at", lines[0]);
        Assert.Equal(2, lines.Length);
        Assert.Equal(4, lines[1].Split(',').Length);
        Assert.StartsWith("text/csv", result.Context.Response.ContentType);
    }

    [Fact]
    public async Task A_grant_file_grants_every_row_once_with_audit_and_events()
    {
        var shop = await OpenShop();
        var csv = "user_id,item_id,starts_at,expires_at\n" + string.Join("\n",
            shop.Viewers.Select(v => $"{v},{shop.Items[0]},{Date(TimeSpan.Zero)},{Date(TimeSpan.FromDays(30))}")) + "\n";
        var (status, job) = await Upload(shop.Token, "grant", csv);
        Assert.Equal(HttpStatusCode.Accepted, status);
        job.GetRawText().MatchSnapshot("queued");

        var done = await Finish(shop.Token, job);
        Assert.Equal(("completed", 3, 0, 0), (done.GetProperty("status").GetString(), done.GetProperty("applied_rows").GetInt32(),
            done.GetProperty("skipped_rows").GetInt32(), done.GetProperty("error_rows").GetInt32()));
        done.GetRawText().MatchSnapshot("completed");
        Assert.Equal(3, await Passes(shop.Merchant.Id, "type = 'granted' and source = 'bulk'"));

        var results = await Results(shop.Token, job.GetProperty("id").GetInt64());
        Assert.StartsWith("line,user_id,item_id,starts_at,expires_at,outcome,reason\n", results);
        Assert.Equal(3, results.Split('\n').Count(l => l.Contains(",applied,")));

        await using var connection = await app.Db.OpenConnectionAsync();
        Assert.Equal(3, await connection.ExecuteScalarAsync<int>(
            "select count(*) from kernel.outbox where merchant_id = @Id and type = 'asset.access.granted'", new { shop.Merchant.Id }));
        Assert.Equal(1, await connection.ExecuteScalarAsync<int>(
            "select count(*) from kernel.outbox where merchant_id = @Id and type = 'bulk.job.completed'", new { shop.Merchant.Id }));
        // Each granted pass is audited: who uploaded the file that granted it, and when.
        foreach (var passId in await connection.QueryAsync<long>("select id from access.passes where merchant_id = @Id", new { shop.Merchant.Id }))
        {
            var changes = await app.Host.Scenario(x => { x.Get.Url($"/v2/access/{passId}/changes"); x.WithBearerToken(shop.Token); });
            var change = Assert.Single(JsonDocument.Parse(await changes.ReadAsTextAsync()).RootElement.EnumerateArray());
            Assert.Equal(("granted", "merchant:api"), (change.GetProperty("action").GetString(), change.GetProperty("actor").GetString()));
        }

        // The same file again is refused, and nothing is granted twice.
        var (again, conflict) = await Upload(shop.Token, "grant", csv);
        Assert.Equal(HttpStatusCode.Conflict, again);
        conflict.GetRawText().MatchSnapshot("again");
        Assert.Equal(3, await Passes(shop.Merchant.Id));

        var list = await app.Host.Scenario(x => { x.Get.Url("/v2/access/bulk"); x.WithBearerToken(shop.Token); });
        var listed = JsonDocument.Parse(await list.ReadAsTextAsync()).RootElement;
        Assert.Equal(job.GetProperty("id").GetInt64(), listed.GetProperty("collection")[0].GetProperty("id").GetInt64());
        listed.GetRawText().MatchSnapshot("list");
    }

    [Fact]
    public async Task Bulk_events_have_the_same_fields_as_api_events()
    {
        var shop = await OpenShop(viewers: 2, items: 1);
        await app.Host.Scenario(x =>
        {
            x.Post.FormData(new Dictionary<string, string>
            {
                ["consumer_id"] = shop.Viewers[0].ToString(), ["item_id"] = shop.Items[0].ToString(), ["expires_at"] = Date(TimeSpan.FromDays(3)),
            }).ToUrl("/items/access");
            x.WithBearerToken(shop.Token);
            x.StatusCodeShouldBe(201);
        });
        await Finish(shop.Token, (await Upload(shop.Token, "grant",
            $"user_id,item_id,starts_at,expires_at\n{shop.Viewers[1]},{shop.Items[0]},,{Date(TimeSpan.FromDays(3))}\n")).Body);

        await using var connection = await app.Db.OpenConnectionAsync();
        var payloads = (await connection.QueryAsync<string>(
            "select payload::text from kernel.outbox where merchant_id = @Id and type = 'asset.access.granted' order by id", new { shop.Merchant.Id })).ToList();
        Assert.Equal(2, payloads.Count);
        var keys = payloads.Select(p => JsonDocument.Parse(p).RootElement.EnumerateObject().Select(e => e.Name).Order().ToList()).ToList();
        Assert.Equal(keys[0], keys[1]);
        var bulk = JsonDocument.Parse(payloads[1]).RootElement;
        Assert.Equal("Granted", bulk.GetProperty("status").GetString());
        Assert.Equal(shop.Viewers[1], bulk.GetProperty("customer_id").GetInt64());
    }

    [Fact]
    public async Task A_file_with_bad_rows_applies_nothing_unless_valid_rows_are_chosen()
    {
        var shop = await OpenShop();
        var other = await OpenShop(viewers: 1, items: 1);
        var good = $"{shop.Viewers[0]},{shop.Items[0]},,{Date(TimeSpan.FromDays(5))}";
        var csv = string.Join("\n",
            "user_id,item_id,starts_at,expires_at",
            good,
            "",
            $"{shop.Viewers[1]},{shop.Items[0]},{Date(TimeSpan.FromDays(5))},{Date(TimeSpan.FromDays(1))}",
            $"99999999,{shop.Items[0]},,{Date(TimeSpan.FromDays(5))}",
            $"{other.Viewers[0]},{other.Items[0]},,{Date(TimeSpan.FromDays(5))}",
            $"abc,{shop.Items[0]},,{Date(TimeSpan.FromDays(5))}",
            $"{shop.Viewers[2]},{shop.Items[1]},,next tuesday",
            $"{shop.Viewers[2]},{shop.Items[1]},,{Date(-TimeSpan.FromDays(1))}",
            $"{shop.Viewers[2]},{shop.Items[1]}",
            good) + "\n";

        var rejected = await Finish(shop.Token, (await Upload(shop.Token, "grant", csv)).Body);
        Assert.Equal("rejected", rejected.GetProperty("status").GetString());
        Assert.Equal(7, rejected.GetProperty("error_rows").GetInt32());
        rejected.GetRawText().MatchSnapshot("rejected");
        Assert.Equal(0, await Passes(shop.Merchant.Id));
        Assert.Equal(0, await Passes(other.Merchant.Id));

        var results = await Results(shop.Token, rejected.GetProperty("id").GetInt64());
        Assert.Contains("4,", results); // line numbers count the blank line, as an editor shows them
        Assert.Contains("expires_at must be after starts_at", results);
        Assert.Contains("user_id 99999999 is not one of your viewers", results);
        Assert.Contains($"user_id {other.Viewers[0]} is not one of your viewers", results);
        Assert.Contains("user_id must be a viewer id", results);
        Assert.Contains("expires_at must be a date and time in UTC", results);
        Assert.Contains("expires_at is in the past", results);
        Assert.Contains("expected 4 columns, found 2", results);
        Assert.Contains("same row as line 2", results);
        Assert.Contains($"\n2,{good},valid,", results); // good, but not applied: the file was rejected

        // The same file, now applying the valid rows: allowed, since nothing of it was applied.
        var applied = await Finish(shop.Token, (await Upload(shop.Token, "grant", csv, applyValidRows: true)).Body);
        Assert.Equal(("completed", 1, 1, 7), (applied.GetProperty("status").GetString(), applied.GetProperty("applied_rows").GetInt32(),
            applied.GetProperty("skipped_rows").GetInt32(), applied.GetProperty("error_rows").GetInt32()));
        Assert.Equal(1, await Passes(shop.Merchant.Id));
        var appliedResults = await Results(shop.Token, applied.GetProperty("id").GetInt64());
        Assert.Contains($"\n2,{good},applied,", appliedResults);
        Assert.StartsWith("11,", appliedResults.Split('\n').Single(l => l.Contains("skipped")));
    }

    [Fact]
    public async Task A_dry_run_reports_and_changes_nothing()
    {
        var shop = await OpenShop();
        var csv = $"user_id,item_id,starts_at,expires_at\n{shop.Viewers[0]},{shop.Items[0]},,{Date(TimeSpan.FromDays(5))}\n";
        var done = await Finish(shop.Token, (await Upload(shop.Token, "grant", csv, dryRun: true)).Body);
        Assert.Equal("completed", done.GetProperty("status").GetString());
        Assert.StartsWith("Dry run: 1 rows would be applied", done.GetProperty("message").GetString());
        Assert.Equal(0, await Passes(shop.Merchant.Id));
        Assert.Contains($"\n2,{shop.Viewers[0]},{shop.Items[0]},,", await Results(shop.Token, done.GetProperty("id").GetInt64()));
        Assert.EndsWith(",valid,\n", await Results(shop.Token, done.GetProperty("id").GetInt64()));
        // A dry run does not count as the file's upload.
        await Finish(shop.Token, (await Upload(shop.Token, "grant", csv)).Body);
        Assert.Equal(1, await Passes(shop.Merchant.Id));
    }

    [Fact]
    public async Task Revoke_and_extend_files_change_existing_passes_once()
    {
        var shop = await OpenShop();
        var grant = "user_id,item_id,starts_at,expires_at\n" + string.Join("\n", shop.Viewers.Select(v => $"{v},{shop.Items[0]},,{Date(TimeSpan.FromDays(10))}")) + "\n";
        await Finish(shop.Token, (await Upload(shop.Token, "grant", grant)).Body);

        var target = Date(TimeSpan.FromDays(60));
        var extend = $"user_id,item_id,starts_at,expires_at\n{shop.Viewers[0]},{shop.Items[0]},,{target}\n{shop.Viewers[1]},{shop.Items[1]},,{target}\n";
        var extended = await Finish(shop.Token, (await Upload(shop.Token, "extend", extend, applyValidRows: true)).Body);
        Assert.Equal((1, 1), (extended.GetProperty("applied_rows").GetInt32(), extended.GetProperty("error_rows").GetInt32()));
        Assert.Equal(1, await Passes(shop.Merchant.Id, $"expires_at = '{target}'::timestamptz"));

        // The same rows in a new file (say, re-exported) extend nothing twice: they are skipped.
        var again = await Finish(shop.Token, (await Upload(shop.Token, "extend", extend.Replace("\n", "\r\n"), applyValidRows: true)).Body);
        Assert.Equal((0, 1), (again.GetProperty("applied_rows").GetInt32(), again.GetProperty("skipped_rows").GetInt32()));

        var revoke = $"user_id,item_id,starts_at,expires_at\n{shop.Viewers[0]},{shop.Items[0]},,\n{shop.Viewers[1]},{shop.Items[0]},,\n";
        var revoked = await Finish(shop.Token, (await Upload(shop.Token, "revoke", revoke)).Body);
        Assert.Equal(2, revoked.GetProperty("applied_rows").GetInt32());
        Assert.Equal(2, await Passes(shop.Merchant.Id, "revoked_at is not null"));
        var nothingLeft = await Finish(shop.Token, (await Upload(shop.Token, "revoke", revoke + "\n")).Body);
        Assert.Equal(2, nothingLeft.GetProperty("skipped_rows").GetInt32());

        await using var connection = await app.Db.OpenConnectionAsync();
        var events = (await connection.QueryAsync<string>(
            "select type from kernel.outbox where merchant_id = @Id and type like 'asset.access.%' group by type order by type", new { shop.Merchant.Id })).ToList();
        Assert.Equal(["asset.access.extended", "asset.access.granted", "asset.access.revoked"], events);
    }

    [Theory]
    [InlineData("user;item;starts;expires\n1;2;;\n", "semicolons")]
    [InlineData("viewer,asset,from,to\n1,2,,\n", "wrong_columns")]
    [InlineData("", "empty")]
    public async Task Bad_files_are_refused_before_anything_is_stored(string csv, string name)
    {
        var shop = await OpenShop(viewers: 0, items: 0);
        var (status, body) = await Upload(shop.Token, "grant", csv);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        body.GetRawText().MatchSnapshot(name);
        await using var connection = await app.Db.OpenConnectionAsync();
        Assert.Equal(0, await connection.ExecuteScalarAsync<int>("select count(*) from access.bulk_jobs where merchant_id = @Id", new { shop.Merchant.Id }));
    }

    [Fact]
    public async Task Garbage_oversized_and_incomplete_uploads_are_refused()
    {
        var shop = await OpenShop(viewers: 0, items: 0);
        var garbage = new byte[4096];
        new Random(3).NextBytes(garbage);
        Assert.Equal(HttpStatusCode.BadRequest, (await Upload(shop.Token, "grant", "", raw: garbage)).Status);
        var huge = Encoding.UTF8.GetBytes("user_id,item_id,starts_at,expires_at\n" + new string('x', 21 * 1024 * 1024));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await Upload(shop.Token, "grant", "", raw: huge)).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await Upload(shop.Token, "promote", "user_id,item_id,starts_at,expires_at\n")).Status);
        await app.Host.Scenario(x =>
        {
            x.Post.FormData(new Dictionary<string, string> { ["action"] = "grant" }).ToUrl("/v2/access/bulk");
            x.WithBearerToken(shop.Token);
            x.StatusCodeShouldBe(415); // a file needs multipart/form-data
        });
    }

    [Fact]
    public async Task A_byte_order_mark_and_windows_line_ends_are_fine()
    {
        var shop = await OpenShop(viewers: 1, items: 1);
        var csv = $"user_id,item_id,starts_at,expires_at\r\n{shop.Viewers[0]},{shop.Items[0]},,{Date(TimeSpan.FromDays(5))}\r\n\r\n";
        var raw = Encoding.UTF8.GetPreamble().Concat(Encoding.UTF8.GetBytes(csv)).ToArray();
        var done = await Finish(shop.Token, (await Upload(shop.Token, "grant", "", raw: raw)).Body);
        Assert.Equal(1, done.GetProperty("applied_rows").GetInt32());
    }

    [Fact]
    public async Task A_job_held_by_a_live_worker_is_left_alone_and_taken_over_when_that_worker_is_gone()
    {
        var shop = await OpenShop(viewers: 1, items: 1);
        // A stand-in for a worker on another instance: it holds the job's lock on its own connection.
        await using var otherWorker = await app.Db.OpenConnectionAsync();
        var csv = $"user_id,item_id,starts_at,expires_at\n{shop.Viewers[0]},{shop.Items[0]},,{Date(TimeSpan.FromDays(5))}\n";
        await using (var connection = await app.Db.OpenConnectionAsync())
        {
            // Lock the next job id before it exists, so the worker started by the upload cannot take it either.
            var next = await connection.ExecuteScalarAsync<long>("select coalesce(max(id), 0) + 1 from access.bulk_jobs");
            await otherWorker.ExecuteAsync("select pg_advisory_lock(hashtextextended('bulk_job:' || @next, 0))", new { next });
        }
        var (_, job) = await Upload(shop.Token, "grant", csv);
        var id = job.GetProperty("id").GetInt64();
        await app.Host.Services.GetRequiredService<RunBulkJobs>().Invoke();
        await Task.Delay(500);
        Assert.Equal(0, await Passes(shop.Merchant.Id));

        await otherWorker.CloseAsync(); // the other worker dies: its lock goes with its connection
        var done = await Finish(shop.Token, job);
        Assert.Equal((id, "completed", 1), (done.GetProperty("id").GetInt64(), done.GetProperty("status").GetString(), done.GetProperty("applied_rows").GetInt32()));
        Assert.Equal(1, await Passes(shop.Merchant.Id));
    }

    [Fact]
    public async Task Jobs_and_their_results_belong_to_their_merchant()
    {
        var shop = await OpenShop(viewers: 1, items: 1);
        var other = await OpenShop(viewers: 0, items: 0);
        var job = await Finish(shop.Token, (await Upload(shop.Token, "grant",
            $"user_id,item_id,starts_at,expires_at\n{shop.Viewers[0]},{shop.Items[0]},,{Date(TimeSpan.FromDays(5))}\n")).Body);
        var id = job.GetProperty("id").GetInt64();
        await app.Host.Scenario(x => { x.Get.Url($"/v2/access/bulk/{id}"); x.WithBearerToken(other.Token); x.StatusCodeShouldBe(404); });
        await app.Host.Scenario(x => { x.Get.Url($"/v2/access/bulk/{id}/results"); x.WithBearerToken(other.Token); x.StatusCodeShouldBe(404); });
        var list = await app.Host.Scenario(x => { x.Get.Url("/v2/access/bulk"); x.WithBearerToken(other.Token); });
        Assert.Equal(0, JsonDocument.Parse(await list.ReadAsTextAsync()).RootElement.GetProperty("total").GetInt64());
    }
}
