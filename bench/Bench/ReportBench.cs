using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Gatehouse.Reports;

namespace Gatehouse.Bench;

/// <summary>
/// An access report of every pass (1,001,280 rows, all columns) through the API, from the request to the report being
/// ready (generated in the background and stored in the database), against psql's \copy of the same query to a CSV
/// file; and the app's memory growth while it runs (its working set sampled every 20 ms, the peak minus the figure
/// before the request). Targets: ≤ 2 × the reference; ≤ 100 MB.
/// </summary>
public static class ReportBench
{
    public static async Task<IReadOnlyList<Result>> Run(BenchData data, AppProcess app, string pgBin)
    {
        var from = new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var to = new DateTimeOffset(2100, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var file = Path.Combine(Path.GetTempPath(), "gatehouse-report-reference.csv");
        var reference = Enumerable.Range(0, 2).Select(_ => Copy(data, pgBin, from, to, file)).Min();
        var referenceBytes = new FileInfo(file).Length;
        File.Delete(file);
        Console.WriteLine($"psql \\copy (the access report's query) to csv: {reference:0.00} s, {referenceBytes / 1e6:0.0} MB");

        using var client = data.Client(app.BaseUrl, data.MerchantToken);
        // A small report first, so the worker's code paths are warm as they would be in a running instance.
        await Generate(client, from, from.AddDays(1), null);
        GC.Collect();
        await Task.Delay(1000);
        var before = app.WorkingSetBytes();
        var peak = before;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peak = Math.Max(peak, app.WorkingSetBytes());
                await Task.Delay(20);
            }
        });
        var (seconds, report) = await Generate(client, from, to, p => Console.WriteLine($"  progress {p}"));
        await sampling.CancelAsync();
        await sampler;
        var rows = report.GetProperty("rows_written").GetInt64();
        var bytes = report.GetProperty("size_bytes").GetInt64();
        var growth = (peak - before) / 1e6;
        Console.WriteLine($"access report through the app: {seconds:0.00} s, {rows:N0} rows, {bytes / 1e6:0.0} MB; working set {before / 1e6:0} MB before, peak {peak / 1e6:0} MB");

        // The download, for the record (no target): streamed from the database's chunks.
        var download = Stopwatch.StartNew();
        await using (var stream = await client.GetStreamAsync($"/v2/reports/{report.GetProperty("id").GetInt64()}/download"))
        {
            var buffer = new byte[1 << 16];
            long read = 0;
            int n;
            while ((n = await stream.ReadAsync(buffer)) > 0) read += n;
            if (read != bytes) throw new InvalidOperationException($"download: {read} bytes, the report says {bytes}");
        }
        Console.WriteLine($"download of the report: {download.Elapsed.TotalSeconds:0.00} s");

        var expected = BenchData.Passes + BenchData.TokenHolders * BenchData.TargetItems;
        return
        [
            new($"access report, {rows:N0} rows, all columns (request to ready)", seconds, "s", reference, "psql \\copy (same query) to csv", "ratio ≤ 2",
                rows == expected && seconds / reference <= 2),
            new("app memory growth during that report", growth, "MB", null, $"working set {before / 1e6:0} MB before", "≤ 100 MB", growth <= 100),
        ];
    }

    private static async Task<(double Seconds, JsonElement Report)> Generate(HttpClient client, DateTimeOffset from, DateTimeOffset to, Action<int>? progress)
    {
        var started = Stopwatch.GetTimestamp();
        var response = await client.PostAsJsonAsync("/v2/reports", new { type = "access", from = from.ToString("O"), to = to.ToString("O") });
        var report = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException("report request failed: " + report);
        var id = report.GetProperty("id").GetInt64();
        var lastProgress = -1;
        while (true)
        {
            await Task.Delay(20);
            report = JsonDocument.Parse(await client.GetStringAsync($"/v2/reports/{id}")).RootElement;
            var status = report.GetProperty("status").GetString();
            if (status == "ready") return (Stopwatch.GetElapsedTime(started).TotalSeconds, report);
            if (status == "failed") throw new InvalidOperationException("the report failed: " + report);
            var percent = report.GetProperty("progress").GetInt32();
            if (progress is not null && percent / 25 != lastProgress / 25) progress(percent);
            lastProgress = percent;
        }
    }

    /// <summary>psql's \copy of the report's own query (ReportType.Access.Query), its parameters written in as literals.</summary>
    private static double Copy(BenchData data, string pgBin, DateTimeOffset from, DateTimeOffset to, string file)
    {
        var (sql, parameters) = ReportType.Access.Query(new ReportType.Filter(data.MerchantId, from, to, "all", [], [], DateTimeOffset.UtcNow));
        foreach (var (name, value) in parameters.OrderByDescending(p => p.Key.Length))
            sql = sql.Replace("@" + name, value switch
            {
                DateTime t => $"'{t.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture)}+00'::timestamptz",
                long l => l.ToString(CultureInfo.InvariantCulture),
                _ => throw new InvalidOperationException($"parameter {name}: {value}"),
            });
        return data.Psql(pgBin, $"\\copy ({sql.ReplaceLineEndings(" ")}) to '{file}' with (format csv, header true)\n");
    }
}
