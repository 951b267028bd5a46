using System.Text.Json;
using Dapper;
using Gatehouse.Reports;
using Gatehouse.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using static Gatehouse.Tests.Reports.ReportKit;

namespace Gatehouse.Tests.Reports;

/// <summary>
/// Report files in the database: a large one streamed into ~1 MB chunks and downloaded whole, and every report deleted
/// with its file 10 days after it was generated (PruneReports, run by hand at the clock the test sets).
/// </summary>
public sealed class RetentionTests(ReportsFixture app) : IClassFixture<ReportsFixture>
{
    private async Task<(TestMerchant Merchant, string Token)> OpenShop()
    {
        var merchant = await Given.Merchant(app.Db, "Kept Media");
        return (merchant, await Given.MerchantToken(app.Host, merchant));
    }

    private Task Prune() => app.Host.Services.GetRequiredService<PruneReports>().Invoke();

    private Task<long> Chunks(long reportId) => Scalar<long>(app, "select count(*) from reports.report_chunks where report_id = @reportId", new { reportId });

    private static Dictionary<string, string> Form(DateTimeOffset from, DateTimeOffset to) =>
        new() { ["type"] = "access", ["from"] = from.ToString("o"), ["to"] = to.ToString("o") };

    [Fact]
    public async Task A_ready_report_is_deleted_with_its_file_ten_days_after_it_was_generated()
    {
        var (merchant, token) = await OpenShop();
        var start = app.Clock.GetUtcNow();
        await using (var connection = await app.Db.OpenConnectionAsync())
        {
            var seed = new ReportSeeder(connection, merchant.Id);
            var viewer = await seed.Viewer($"kept-{merchant.Uuid:N}@viewers.test", Guid.NewGuid());
            await seed.AccessPass(new(viewer, start.AddDays(-1).ToString("o"), start.AddDays(-1).ToString("o"), start.AddDays(30).ToString("o"),
                ItemId: await seed.Item("Cup Final")));
        }

        var first = (await Request(app, token, Form(start.AddDays(-7), start))).GetProperty("id").GetInt64();
        var firstReady = await Ready(app, token, first);
        var finished = firstReady.GetProperty("finished_at").GetDateTimeOffset();
        Assert.Equal((start, start.AddDays(10)), (finished, firstReady.GetProperty("expires_at").GetDateTimeOffset()));
        Assert.Equal(1L, await Chunks(first));

        app.Clock.SetUtcNow(start.AddDays(4));
        var second = (await Request(app, token, Form(start.AddDays(-7), start))).GetProperty("id").GetInt64();
        Assert.Equal(start.AddDays(14), (await Ready(app, token, second)).GetProperty("expires_at").GetDateTimeOffset());

        // A second before its time, the first is kept.
        app.Clock.SetUtcNow(start.AddDays(10).AddSeconds(-1));
        await Prune();
        Assert.Equal(2, Lines((await Download(app, token, first)).Text).Length);

        // At its time it goes, with its file; the second stays.
        app.Clock.SetUtcNow(start.AddDays(10));
        token = await Given.MerchantToken(app.Host, merchant);
        await Prune();
        await Send(app, token, x => x.Get.Url($"/v2/reports/{first}"), 404);
        await Send(app, token, x => x.Get.Url($"/v2/reports/{first}/download"), 404);
        Assert.Equal(0L, await Chunks(first));
        Assert.Equal("ready", (await Send(app, token, x => x.Get.Url($"/v2/reports/{second}"))).GetProperty("status").GetString());
        Assert.Equal(2, Lines((await Download(app, token, second)).Text).Length);
        Assert.Equal(second, Assert.Single((await Send(app, token, x => x.Get.Url("/v2/reports"))).GetProperty("collection").EnumerateArray())
            .GetProperty("id").GetInt64());

        app.Clock.SetUtcNow(start.AddDays(14));
        await Prune();
        await Send(app, token, x => x.Get.Url($"/v2/reports/{second}"), 404);
        Assert.Equal(0L, await Scalar<long>(app, "select count(*) from reports.report_chunks c join reports.reports r on r.id = c.report_id where r.merchant_id = @Id",
            new { merchant.Id }) + await Scalar<long>(app, "select count(*) from reports.reports where merchant_id = @Id", new { merchant.Id }));
    }

    [Fact]
    public async Task A_large_report_is_streamed_into_chunks_and_downloaded_byte_for_byte()
    {
        const int rows = 30_000;
        var (merchant, token) = await OpenShop();
        var start = app.Clock.GetUtcNow();
        await using (var connection = await app.Db.OpenConnectionAsync())
        {
            var seed = new ReportSeeder(connection, merchant.Id);
            var viewer = await seed.Viewer($"bulk-{merchant.Uuid:N}@viewers.test", Guid.NewGuid());
            var item = await seed.Item("Cup Final");
            // One pass a second over the last 30,000 seconds, in one statement.
            await connection.ExecuteAsync(
                """
                insert into access.passes (merchant_id, consumer_id, item_id, type, source, starts_at, expires_at, created_at, updated_at)
                select @merchantId, @viewer, @item, 'granted', 'bulk', @start - n * interval '1 second', @start + interval '30 days',
                       @start - n * interval '1 second', @start
                from generate_series(1, @rows) n
                """, new { merchantId = merchant.Id, viewer, item, start, rows });
        }

        var id = (await Request(app, token, Form(start.AddDays(-1), start))).GetProperty("id").GetInt64();
        var ready = await Ready(app, token, id);
        Assert.Equal((rows, rows, 100), (ready.GetProperty("rows_written").GetInt64(), ready.GetProperty("rows_total").GetInt64(),
            ready.GetProperty("progress").GetInt32()));

        var chunks = await Query<(int Seq, byte[] Data)>(app, "select seq, data from reports.report_chunks where report_id = @id order by seq", new { id });
        Assert.True(chunks.Count > 1, $"{chunks.Count} chunk(s)");
        Assert.Equal(Enumerable.Range(0, chunks.Count), chunks.Select(c => c.Seq));
        Assert.All(chunks.SkipLast(1), c => Assert.Equal(1 << 20, c.Data.Length));

        var (text, bytes, _) = await Download(app, token, id);
        Assert.Equal(chunks.SelectMany(c => c.Data).ToArray(), bytes);
        Assert.Equal(ready.GetProperty("size_bytes").GetInt64(), bytes.Length);
        var lines = Lines(text);
        Assert.Equal(rows + 1, lines.Length);
        // Oldest first: the pass created 30,000 seconds before the clock, then every second up to one second before it.
        Assert.Contains($",{start.AddSeconds(-rows):yyyy-MM-dd'T'HH:mm:ss'Z'},", lines[1]);
        Assert.Contains($",{start.AddSeconds(-1):yyyy-MM-dd'T'HH:mm:ss'Z'},", lines[^1]);
        Assert.All(lines.Skip(1), l => Assert.Equal(21, l.Split(',').Length));
    }
}
