using System.Diagnostics;

namespace Gatehouse.Bench;

/// <summary>
/// The Access table's searches over 1,000,000 passes through the API (GET /v2/access), each the median of 5 runs,
/// beside the time to count every pass of the merchant (the cost of touching them all). Target: ≤ 300 ms each.
/// </summary>
public static class SearchBench
{
    public static async Task<IReadOnlyList<Result>> Run(BenchData data, string baseUrl)
    {
        using var client = data.Client(baseUrl, data.MerchantToken);
        var viewer = data.FirstViewerId + 4999;
        var queries = new (string Name, string Query)[]
        {
            ("newest active passes, page 1", "status=active"),
            ("email, whole address", "filter=email&q=viewer5000@example0.com&status=all"),
            ("email, part before @", "filter=email&q=viewer5000&status=all"),
            ("email, part after @ (200 viewers)", "filter=email&q=example7.com&status=all"),
            ("viewer id", $"filter=viewer_id&q={viewer}&status=all"),
            ("asset id", $"filter=asset_id&q={data.FirstItemId + 42}&status=all"),
            ("asset title", "filter=asset_title&q=Asset 42&status=inactive"),
        };
        var reference = await FullCount(data);
        var results = new List<Result>();
        foreach (var (name, query) in queries)
        {
            var times = new List<double>();
            for (var run = 0; run < 6; run++)
            {
                var started = Stopwatch.GetTimestamp();
                using var response = await client.GetAsync("/v2/access?" + query);
                response.EnsureSuccessStatusCode();
                await response.Content.ReadAsByteArrayAsync();
                if (run > 0) times.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds); // the first warms the plan cache
            }
            times.Sort();
            var median = times[times.Count / 2];
            Console.WriteLine($"search {name}: {median:0.0} ms");
            results.Add(new($"Access search over 1M passes: {name}", median, "ms", reference, "count(*) of all passes", "≤ 300 ms", median <= 300));
        }
        return results;
    }

    private static async Task<double> FullCount(BenchData data)
    {
        await using var connection = new Npgsql.NpgsqlConnection(data.ConnectionString);
        await connection.OpenAsync();
        var times = new List<double>();
        for (var run = 0; run < 3; run++)
        {
            var started = Stopwatch.GetTimestamp();
            await using var command = new Npgsql.NpgsqlCommand("select count(*) from access.passes where merchant_id = @m", connection);
            command.Parameters.AddWithValue("m", data.MerchantId);
            await command.ExecuteScalarAsync();
            times.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        times.Sort();
        return times[1];
    }
}
