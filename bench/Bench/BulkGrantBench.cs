using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Gatehouse.Bench;

/// <summary>
/// A 100,000-row bulk grant through the API (upload, background job, completed) against a bare psql \copy of the
/// same file into a table plus one set-based insert of the same passes (rolled back). Target: ≤ 3 × the reference.
/// </summary>
public static class BulkGrantBench
{
    private const int Rows = 100_000;

    public static async Task<IReadOnlyList<Result>> Run(BenchData data, string baseUrl, string pgBin)
    {
        // Distinct (viewer, asset) pairs: 10,000 viewers × 10 assets not used elsewhere, an expiry no pass has yet.
        var expires = DateTime.UtcNow.AddDays(400).ToString("yyyy-MM-ddTHH:mm:ssZ");
        var csv = new StringBuilder("user_id,item_id,starts_at,expires_at\n");
        for (var k = 0; k < Rows; k++)
            csv.Append(data.FirstViewerId + k % BenchData.Viewers).Append(',').Append(data.FirstItemId + 500 + k / BenchData.Viewers)
               .Append(",,").Append(expires).Append('\n');
        var file = Path.Combine(Path.GetTempPath(), $"gatehouse-bulk-{Rows}.csv");
        await File.WriteAllTextAsync(file, csv.ToString());

        var reference = Enumerable.Range(0, 2).Select(_ => CopyAndInsert(data, pgBin, file)).Min();
        Console.WriteLine($"psql \\copy + one insert of {Rows:N0} rows: {reference:0.00} s");

        using var client = data.Client(baseUrl, data.MerchantToken);
        var started = Stopwatch.GetTimestamp();
        using var content = new MultipartFormDataContent
        {
            { new StringContent("grant"), "action" },
            { new ByteArrayContent(await File.ReadAllBytesAsync(file)) { Headers = { ContentType = new MediaTypeHeaderValue("text/csv") } }, "file", "bench.csv" },
        };
        var upload = await client.PostAsync("/v2/access/bulk", content);
        var job = JsonDocument.Parse(await upload.Content.ReadAsStringAsync()).RootElement;
        if (!upload.IsSuccessStatusCode) throw new InvalidOperationException("upload failed: " + job);
        var id = job.GetProperty("id").GetInt64();
        JsonElement state;
        var phases = new List<string>();
        var last = "";
        do
        {
            await Task.Delay(50);
            state = JsonDocument.Parse(await client.GetStringAsync($"/v2/access/bulk/{id}")).RootElement;
            var status = state.GetProperty("status").GetString()!;
            if (status != last) phases.Add($"{status} at {Stopwatch.GetElapsedTime(started).TotalSeconds:0.00} s");
            last = status;
        } while (last is "queued" or "loading" or "validating" or "applying");
        Console.WriteLine("bulk job phases: " + string.Join(", ", phases));
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var applied = state.GetProperty("applied_rows").GetInt32();
        Console.WriteLine($"bulk grant of {Rows:N0} rows: {seconds:0.00} s, {state.GetProperty("status").GetString()}, {applied:N0} applied");
        return
        [
            new($"bulk grant, {Rows:N0} CSV rows (upload to completed)", seconds, "s", reference, "psql \\copy + one insert", "ratio ≤ 3",
                applied == Rows && seconds / reference <= 3),
        ];
    }

    private static double CopyAndInsert(BenchData data, string pgBin, string file) => data.Psql(pgBin, $"""
        begin;
        create temp table staging (user_id bigint, item_id bigint, starts_at timestamptz, expires_at timestamptz);
        \copy staging from '{file}' with (format csv, header true)
        insert into access.passes (merchant_id, consumer_id, item_id, type, source, starts_at, expires_at, created_at, updated_at)
        select {data.MerchantId}, user_id, item_id, 'granted', 'bulk', coalesce(starts_at, now()), expires_at, now(), now() from staging;
        rollback;
        """);
}
