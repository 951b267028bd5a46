using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using Gatehouse.Reports;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Tests.Vouchers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Gatehouse.Tests.Reports;

/// <summary>
/// The app with its clock at a fixed instant, so the times in files and snapshots are the same on every run, and without
/// Coravel's ticks: the tests run RunReports, RunSchedules and PruneReports themselves, at the clock they set (an hourly
/// prune at the top of a real hour would otherwise delete reports a test has just moved the clock past).
/// </summary>
public sealed class ReportsFixture : AppFixture
{
    public static readonly DateTimeOffset Epoch = new(2030, 4, 2, 12, 0, 0, TimeSpan.Zero);

    private Task<ReportData>? _data;

    public ReportsFixture() => Clock.SetUtcNow(Epoch);

    /// <summary>The CSV tests' data, seeded once, before anything else the class writes (so its ids are the same on every run).</summary>
    public Task<ReportData> Data => _data ??= ReportData.Seed(this);

    protected override void ConfigureServices(IServiceCollection services)
    {
        var scheduler = services.Single(d => d.ServiceType == typeof(IHostedService)
                                             && d.ImplementationType?.FullName == "Coravel.Scheduling.HostedService.SchedulerHost");
        services.Remove(scheduler);
    }
}

/// <summary>What the report tests share: the API called as a merchant, the jobs run by hand, files read back.</summary>
internal static class ReportKit
{
    public static Task<JsonElement> Send(AppFixture app, string token, Action<Scenario> request, int status = 200) =>
        VoucherShop.Send(app, token, request, status);

    public static Task<JsonElement> Request(AppFixture app, string token, Dictionary<string, string> form, int status = 202) =>
        Send(app, token, x => x.Post.FormData(form).ToUrl("/v2/reports"), status);

    /// <summary>Runs the report worker here and now (the one the request started may have the report; the claim makes that safe) and waits for the report to be ready.</summary>
    public static async Task<JsonElement> Ready(AppFixture app, string token, long id)
    {
        await app.Host.Services.GetRequiredService<RunReports>().Invoke();
        var until = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var report = await Send(app, token, x => x.Get.Url($"/v2/reports/{id}"));
            var status = report.GetProperty("status").GetString();
            if (status == "ready") return report;
            Assert.NotEqual("failed", status);
            if (DateTime.UtcNow > until) throw new TimeoutException($"report {id} is still {status}");
            await Task.Delay(50);
        }
    }

    /// <summary>A report requested and generated: the downloaded file's text.</summary>
    public static async Task<string> Generate(AppFixture app, string token, Dictionary<string, string> form)
    {
        var id = (await Request(app, token, form)).GetProperty("id").GetInt64();
        await Ready(app, token, id);
        return (await Download(app, token, id)).Text;
    }

    /// <summary>The report's file, with the headers a browser saves it by.</summary>
    public static async Task<(string Text, byte[] Bytes, IScenarioResult Result)> Download(AppFixture app, string token, long id)
    {
        var result = await app.Host.Scenario(x => { x.Get.Url($"/v2/reports/{id}/download"); x.WithBearerToken(token); x.StatusCodeShouldBe(200); });
        var body = new MemoryStream();
        await result.Context.Response.Body.CopyToAsync(body);
        var bytes = body.ToArray();
        Assert.Equal("text/csv; charset=utf-8", result.Context.Response.ContentType);
        Assert.Equal(bytes.Length, result.Context.Response.ContentLength);
        return (System.Text.Encoding.UTF8.GetString(bytes), bytes, result);
    }

    /// <summary>The scheduler's run, as Coravel would start it.</summary>
    public static Task RunSchedules(AppFixture app) => app.Host.Services.GetRequiredService<RunSchedules>().Invoke();

    /// <summary>
    /// A report (or a list of them) as a snapshot: the fields that carry an id in their text (the download link, a schedule's
    /// requester) as placeholders, and the file's size too (its ids' digits vary); the tests check the size against the download.
    /// </summary>
    public static string Shape(JsonElement body)
    {
        var node = JsonNode.Parse(body.GetRawText())!;
        foreach (var item in node["collection"] is JsonArray items ? items.Select(i => i!) : [node])
        {
            if (item["download_url"] is not null) item["download_url"] = "/v2/reports/<id>/download";
            if (item["size_bytes"] is not null) item["size_bytes"] = 0;
            if (item["requested_by"]?.GetValue<string>().StartsWith("schedule:") == true) item["requested_by"] = "schedule:<id>";
        }
        return node.ToJsonString();
    }

    public static Task<T> Scalar<T>(AppFixture app, string sql, object? args = null) => app.Db.Scalar<T>(sql, args);

    public static async Task<List<T>> Query<T>(AppFixture app, string sql, object? args = null)
    {
        await using var connection = await app.Db.OpenConnectionAsync();
        return (await connection.QueryAsync<T>(sql, args)).ToList();
    }

    /// <summary>A CSV file's lines (the files end with a newline and hold no line breaks inside cells unless a test put one there).</summary>
    public static string[] Lines(string csv)
    {
        Assert.EndsWith("\n", csv);
        return csv[..^1].Split('\n');
    }
}
