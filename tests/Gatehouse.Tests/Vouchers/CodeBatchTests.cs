using System.Text.Json;
using System.Text.RegularExpressions;
using Dapper;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Vouchers;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Gatehouse.Tests.Vouchers;

/// <summary>Vouchers and codes straight in the database (until the voucher API exists), and the code batch calls.</summary>
internal static class CodeBatches
{
    /// <summary>A discount voucher with its own code, as creating one through the API will store it.</summary>
    public static async Task<long> Voucher(NpgsqlDataSource db, long merchantId, string code = "SUMMER2026", bool gift = false, bool deleted = false)
    {
        await using var connection = await db.OpenConnectionAsync();
        var id = await connection.ExecuteScalarAsync<long>(
            """
            insert into vouchers.vouchers (merchant_id, name, kind, code, discount, rebill_discount, start_date, is_gift, created_at, updated_at, deleted_at)
            values (@merchantId, 'Summer sale', 'discount', @code, 20, 0, now(), @gift, now(), now(), case when @deleted then now() end)
            returning id
            """, new { merchantId, code, gift, deleted });
        if (!deleted)
            await connection.ExecuteAsync(
                "insert into vouchers.codes (merchant_id, voucher_id, code, created_at) values (@merchantId, @id, @code, now())",
                new { merchantId, id, code });
        return id;
    }

    public static async Task<IScenarioResult> Create(IAlbaHost host, string token, long voucherId, Dictionary<string, string> form, int status) =>
        await host.Scenario(x =>
        {
            x.Post.FormData(form).ToUrl($"/v2/vouchers/{voucherId}/code-batches");
            x.WithBearerToken(token);
            x.StatusCodeShouldBe(status);
        });

    public static async Task<JsonElement> Get(IAlbaHost host, string token, string url, int status = 200)
    {
        var result = await host.Scenario(x => { x.Get.Url(url); x.WithBearerToken(token); x.StatusCodeShouldBe(status); });
        return JsonDocument.Parse(await result.ReadAsTextAsync()).RootElement.Clone();
    }

    /// <summary>Runs the worker here and now (the one the request started, or the scheduler's, may have it; the claim makes that safe).</summary>
    public static async Task<JsonElement> Finish(IAlbaHost host, string token, JsonElement batch)
    {
        var (id, voucherId) = (batch.GetProperty("id").GetInt64(), batch.GetProperty("voucher_id").GetInt64());
        await host.Services.GetRequiredService<RunCodeBatches>().Invoke();
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var body = await Get(host, token, $"/v2/vouchers/{voucherId}/code-batches/{id}");
            if (CodeBatchView.Finished.Contains(body.GetProperty("status").GetString())) return body;
            await Task.Delay(100);
        }
        throw new TimeoutException($"code batch {id} did not finish");
    }

    public static async Task<JsonElement> Body(this IScenarioResult result) =>
        JsonDocument.Parse(await result.ReadAsTextAsync()).RootElement.Clone();

    public static async Task<string[][]> Export(IAlbaHost host, string token, long voucherId)
    {
        var result = await host.Scenario(x => { x.Get.Url($"/v2/vouchers/{voucherId}/codes"); x.WithBearerToken(token); });
        Assert.StartsWith("text/csv", result.Context.Response.ContentType);
        Assert.Equal($"attachment; filename=\"voucher-{voucherId}-codes.csv\"", result.Context.Response.Headers.ContentDisposition.ToString());
        var text = await result.ReadAsTextAsync();
        Assert.EndsWith("\n", text);
        return text.TrimEnd('\n').Split('\n').Select(l => l.Split(',')).ToArray();
    }

    public static async Task<List<string>> CodesOfBatch(NpgsqlDataSource db, long batchId)
    {
        await using var connection = await db.OpenConnectionAsync();
        return (await connection.QueryAsync<string>("select code from vouchers.codes where batch_id = @batchId order by id", new { batchId })).AsList();
    }
}

public sealed class CodeBatchTests(AppFixture app) : IClassFixture<AppFixture>
{
    private async Task<(TestMerchant Merchant, string Token, long Voucher)> Shop()
    {
        var merchant = await Given.Merchant(app.Db);
        return (merchant, await Given.MerchantToken(app.Host, merchant), await CodeBatches.Voucher(app.Db, merchant.Id));
    }

    [Fact]
    public async Task A_batch_generates_unique_codes_of_the_asked_shape_and_the_export_lists_them_with_their_use()
    {
        var (merchant, token, voucher) = await Shop();
        var created = await CodeBatches.Create(app.Host, token, voucher,
            new() { ["count"] = "500", ["length"] = "10", ["prefix"] = "SUMMER-", ["suffix"] = "_X" }, 202);
        var queued = await created.Body();
        queued.GetRawText().MatchSnapshot("queued");

        var done = await CodeBatches.Finish(app.Host, token, queued);
        done.GetRawText().MatchSnapshot("completed");
        var batchId = done.GetProperty("id").GetInt64();

        var codes = await CodeBatches.CodesOfBatch(app.Db, batchId);
        Assert.Equal(500, codes.Count);
        Assert.Equal(500, codes.Select(c => c.ToLowerInvariant()).Distinct().Count());
        Assert.All(codes, c => Assert.Matches("^SUMMER-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{10}_X$", c));

        var list = await CodeBatches.Get(app.Host, token, $"/v2/vouchers/{voucher}/code-batches");
        Assert.Equal(batchId, list.GetProperty("collection")[0].GetProperty("id").GetInt64());
        list.GetRawText().MatchSnapshot("list");

        // One code used by a viewer; the export says which, when and by whom.
        var viewer = await Given.Consumer(app.Host, merchant);
        await using (var connection = await app.Db.OpenConnectionAsync())
            await connection.ExecuteAsync(
                "update vouchers.codes set used_at = '2026-03-01T10:20:30.456Z', used_by = @viewer where lower(code) = lower(@code) and merchant_id = @merchant",
                new { viewer = viewer.Id, code = codes[42], merchant = merchant.Id });
        var rows = await CodeBatches.Export(app.Host, token, voucher);
        Assert.Equal(["code", "batch_id", "status", "used_at", "used_by"], rows[0]);
        Assert.Equal(["SUMMER2026", "", "unused", "", ""], rows[1]);
        Assert.Equal(codes, rows.Skip(2).Select(r => r[0]));
        Assert.All(rows.Skip(2), r => Assert.Equal(batchId.ToString(), r[1]));
        Assert.Equal([codes[42], batchId.ToString(), "used", "2026-03-01T10:20:30.456Z", viewer.Id.ToString()], rows[44]);
        Assert.Equal(499, rows.Count(r => r[2] == "unused" && r[1] != ""));
    }

    [Theory]
    [InlineData("missing_count", "", "", "", "")]
    [InlineData("out_of_range", "0", "3", "ABCDEFGHIJKLMNOPQRSTU", "")]
    [InlineData("too_many", "100001", "65", "", "")]
    [InlineData("characters", "10", "", "-SALE", "50%")]
    [InlineData("not_numbers", "many", "long", "", "")]
    [InlineData("space_too_small", "100000", "4", "", "")]
    public async Task Bad_fields_are_refused_with_every_reason_and_nothing_is_queued(string name, string count, string length, string prefix, string suffix)
    {
        var (merchant, token, voucher) = await Shop();
        var form = new Dictionary<string, string> { ["count"] = count, ["length"] = length, ["prefix"] = prefix, ["suffix"] = suffix };
        var result = await CodeBatches.Create(app.Host, token, voucher, form, 400);
        await result.MatchSnapshot(name);
        await using var connection = await app.Db.OpenConnectionAsync();
        Assert.Equal(0, await connection.ExecuteScalarAsync<int>("select count(*) from vouchers.code_batches where merchant_id = @Id", new { merchant.Id }));
    }

    [Fact]
    public async Task Unknown_deleted_and_gift_vouchers_are_not_found()
    {
        var (merchant, token, _) = await Shop();
        var deleted = await CodeBatches.Voucher(app.Db, merchant.Id, "GONE2026", deleted: true);
        var gift = await CodeBatches.Voucher(app.Db, merchant.Id, "GIFT2026", gift: true);
        var form = new Dictionary<string, string> { ["count"] = "5" };
        await (await CodeBatches.Create(app.Host, token, 99_999_999, form, 404)).MatchSnapshot();
        foreach (var id in new[] { deleted, gift })
        {
            await CodeBatches.Create(app.Host, token, id, form, 404);
            await CodeBatches.Get(app.Host, token, $"/v2/vouchers/{id}/code-batches", 404);
            await app.Host.Scenario(x => { x.Get.Url($"/v2/vouchers/{id}/codes"); x.WithBearerToken(token); x.StatusCodeShouldBe(404); });
        }
    }

    [Fact]
    public async Task Another_merchant_sees_neither_the_batches_nor_the_codes()
    {
        var (_, token, voucher) = await Shop();
        var (_, otherToken, otherVoucher) = await Shop();
        var done = await CodeBatches.Finish(app.Host, token,
            await (await CodeBatches.Create(app.Host, token, voucher, new() { ["count"] = "3" }, 202)).Body());
        var batchId = done.GetProperty("id").GetInt64();

        (await CodeBatches.Get(app.Host, otherToken, $"/v2/vouchers/{voucher}/code-batches/{batchId}", 404)).GetRawText().MatchSnapshot("voucher");
        await CodeBatches.Get(app.Host, otherToken, $"/v2/vouchers/{voucher}/code-batches", 404);
        await app.Host.Scenario(x => { x.Get.Url($"/v2/vouchers/{voucher}/codes"); x.WithBearerToken(otherToken); x.StatusCodeShouldBe(404); });
        await CodeBatches.Create(app.Host, otherToken, voucher, new() { ["count"] = "3" }, 404);
        // Its own voucher with the first merchant's batch id: still nothing.
        (await CodeBatches.Get(app.Host, otherToken, $"/v2/vouchers/{otherVoucher}/code-batches/{batchId}", 404)).GetRawText().MatchSnapshot("batch");
        Assert.Equal(2, (await CodeBatches.Export(app.Host, otherToken, otherVoucher)).Length); // the header and its own code
    }

    [Fact]
    public async Task A_voucher_holds_at_most_100000_batch_codes()
    {
        var (merchant, token, voucher) = await Shop();
        await using (var connection = await app.Db.OpenConnectionAsync())
            // Earlier batches, as rows only: a completed one of 99,000 and a failed one that made 990 of 5,000.
            await connection.ExecuteAsync(
                """
                insert into vouchers.code_batches (merchant_id, voucher_id, requested, length, status, generated, created_at, finished_at)
                values (@merchant, @voucher, 99000, 8, 'completed', 99000, now(), now()), (@merchant, @voucher, 5000, 8, 'failed', 990, now(), now())
                """, new { merchant = merchant.Id, voucher });
        await (await CodeBatches.Create(app.Host, token, voucher, new() { ["count"] = "11" }, 409)).MatchSnapshot();
        var last = await (await CodeBatches.Create(app.Host, token, voucher, new() { ["count"] = "10" }, 202)).Body();
        Assert.Equal("completed", (await CodeBatches.Finish(app.Host, token, last)).GetProperty("status").GetString());
        await CodeBatches.Create(app.Host, token, voucher, new() { ["count"] = "1" }, 409);
    }

    [Fact]
    public async Task A_batch_left_by_a_dead_worker_is_finished_from_where_it_stopped()
    {
        var (merchant, token, voucher) = await Shop();
        long batchId;
        await using (var connection = await app.Db.OpenConnectionAsync())
        {
            // Three codes made and committed, then the worker's process died: no lock is held, the status says generating.
            batchId = await connection.ExecuteScalarAsync<long>(
                """
                insert into vouchers.code_batches (merchant_id, voucher_id, requested, length, status, generated, created_at, heartbeat_at)
                values (@merchant, @voucher, 10, 6, 'generating', 2, now(), now()) returning id
                """, new { merchant = merchant.Id, voucher });
            await connection.ExecuteAsync(
                """
                insert into vouchers.codes (merchant_id, voucher_id, batch_id, code, created_at)
                values (@merchant, @voucher, @batchId, 'AAAAAA', now()), (@merchant, @voucher, @batchId, 'BBBBBB', now()), (@merchant, @voucher, @batchId, 'CCCCCC', now())
                """, new { merchant = merchant.Id, voucher, batchId });
        }
        var batch = await CodeBatches.Get(app.Host, token, $"/v2/vouchers/{voucher}/code-batches/{batchId}");
        var done = await CodeBatches.Finish(app.Host, token, batch);
        Assert.Equal(("completed", 10), (done.GetProperty("status").GetString(), done.GetProperty("generated").GetInt32()));
        var codes = await CodeBatches.CodesOfBatch(app.Db, batchId);
        Assert.Equal(10, codes.Count);
        Assert.Equal(["AAAAAA", "BBBBBB", "CCCCCC"], codes.Take(3));
    }

    [Fact]
    public async Task A_batch_of_a_voucher_deleted_before_it_ran_fails_and_makes_no_codes()
    {
        var (merchant, token, voucher) = await Shop();
        long batchId;
        await using (var connection = await app.Db.OpenConnectionAsync())
        {
            // Queued, then the voucher was deleted (which removes its codes) before any worker took the batch.
            batchId = await connection.ExecuteScalarAsync<long>(
                """
                insert into vouchers.code_batches (merchant_id, voucher_id, requested, length, status, created_at)
                values (@merchant, @voucher, 10, 8, 'queued', now()) returning id
                """, new { merchant = merchant.Id, voucher });
            await connection.ExecuteAsync("update vouchers.vouchers set deleted_at = now() where id = @voucher; delete from vouchers.codes where voucher_id = @voucher",
                new { voucher });
            await app.Host.Services.GetRequiredService<RunCodeBatches>().Invoke();
            for (var i = 0; i < 100 && await connection.ExecuteScalarAsync<string>("select status from vouchers.code_batches where id = @batchId", new { batchId })
                     is "queued" or "generating"; i++)
                await Task.Delay(100);
            var (status, message) = await connection.QuerySingleAsync<(string, string)>("select status, message from vouchers.code_batches where id = @batchId", new { batchId });
            Assert.Equal(("failed", "The voucher was deleted; generation stopped at 0 codes."), (status, message));
        }
        Assert.Empty(await CodeBatches.CodesOfBatch(app.Db, batchId));
    }
}

/// <summary>The app with a two-letter alphabet: codes of 4 characters after the prefix X make a space of 16.</summary>
public sealed class TinyCodeSpaceFixture : AppFixture
{
    protected override void ConfigureServices(IServiceCollection services) => services.AddSingleton(new CodeAlphabet("AB"));
}

public sealed class CodeBatchTinySpaceTests(TinyCodeSpaceFixture app) : IClassFixture<TinyCodeSpaceFixture>
{
    [Fact]
    public async Task Codes_never_collide_with_the_merchants_codes_and_a_used_up_space_fails_clearly()
    {
        var merchant = await Given.Merchant(app.Db);
        var token = await Given.MerchantToken(app.Host, merchant);
        var voucher = await CodeBatches.Voucher(app.Db, merchant.Id);
        var otherVoucher = await CodeBatches.Voucher(app.Db, merchant.Id, "WINTER2026");
        var all = Enumerable.Range(0, 16).Select(n => "X" + string.Concat(Enumerable.Range(0, 4).Select(b => (n >> (3 - b) & 1) == 0 ? 'A' : 'B'))).ToList();
        var free = new[] { all[5], all[10] };
        await using (var connection = await app.Db.OpenConnectionAsync())
            // 14 of the 16 taken by another voucher of the merchant, half of them in lower case: codes match case-insensitively.
            foreach (var (code, i) in all.Except(free).Select((c, i) => (c, i)))
                await connection.ExecuteAsync("insert into vouchers.codes (merchant_id, voucher_id, code, created_at) values (@merchant, @otherVoucher, @code, now())",
                    new { merchant = merchant.Id, otherVoucher, code = i % 2 == 0 ? code.ToLowerInvariant() : code });

        // 16 codes cannot hold 2 comfortably.
        await (await CodeBatches.Create(app.Host, token, voucher, new() { ["count"] = "2", ["length"] = "4", ["prefix"] = "X" }, 400)).MatchSnapshot("space");

        var made = new List<string>();
        for (var round = 0; round < 2; round++)
        {
            var done = await CodeBatches.Finish(app.Host, token,
                await (await CodeBatches.Create(app.Host, token, voucher, new() { ["count"] = "1", ["length"] = "4", ["prefix"] = "X" }, 202)).Body());
            Assert.Equal("completed", done.GetProperty("status").GetString());
            made.AddRange(await CodeBatches.CodesOfBatch(app.Db, done.GetProperty("id").GetInt64()));
        }
        Assert.Equal(free.Order(), made.Order());

        var failed = await CodeBatches.Finish(app.Host, token,
            await (await CodeBatches.Create(app.Host, token, voucher, new() { ["count"] = "1", ["length"] = "4", ["prefix"] = "X" }, 202)).Body());
        failed.GetRawText().MatchSnapshot("used_up");
        Assert.Empty(await CodeBatches.CodesOfBatch(app.Db, failed.GetProperty("id").GetInt64()));

        await using (var connection = await app.Db.OpenConnectionAsync())
            Assert.Equal(18, await connection.ExecuteScalarAsync<int>(
                "select count(distinct lower(code)) from vouchers.codes where merchant_id = @Id", new { merchant.Id }));
        var rows = await CodeBatches.Export(app.Host, token, voucher);
        Assert.Equal(["SUMMER2026", .. made], rows.Skip(1).Select(r => r[0]));

        // Codes are unique per merchant only: another merchant draws from the whole space.
        var other = await Given.Merchant(app.Db);
        var otherToken = await Given.MerchantToken(app.Host, other);
        var theirs = await CodeBatches.Voucher(app.Db, other.Id);
        var theirBatch = await CodeBatches.Finish(app.Host, otherToken,
            await (await CodeBatches.Create(app.Host, otherToken, theirs, new() { ["count"] = "1", ["length"] = "4", ["prefix"] = "X" }, 202)).Body());
        Assert.Equal("completed", theirBatch.GetProperty("status").GetString());
    }
}
