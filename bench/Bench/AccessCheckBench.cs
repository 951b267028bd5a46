using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Gatehouse.Access;

namespace Gatehouse.Bench;

/// <summary>
/// GET /items/{id}/access at 32 concurrent connections against pgbench running the same lookup (the app's own
/// query text) at 32 clients. Target: throughput ≥ 0.5 × pgbench, p99 ≤ 10 ms.
/// </summary>
public static class AccessCheckBench
{
    private const int Concurrency = 32;
    private static readonly TimeSpan Warmup = TimeSpan.FromSeconds(3), Duration = TimeSpan.FromSeconds(20);

    public static async Task<IReadOnlyList<Result>> Run(BenchData data, string baseUrl, string pgBin)
    {
        var reference = PgBench(data, pgBin);
        Console.WriteLine($"pgbench, same lookup, {Concurrency} clients: {reference:0} tps");

        var clients = data.ViewerTokens.Select(t => data.Client(baseUrl, t, connections: 2)).ToArray();
        await Load(clients, data, Warmup, new List<double>());
        var latencies = new List<double>();
        var stopwatch = Stopwatch.StartNew();
        var failures = await Load(clients, data, Duration, latencies);
        var seconds = stopwatch.Elapsed.TotalSeconds;
        var throughput = latencies.Count / seconds;
        latencies.Sort();
        var p99 = latencies[(int)(latencies.Count * 0.99)];
        var p50 = latencies[latencies.Count / 2];
        Console.WriteLine($"access check: {throughput:0} req/s, p50 {p50:0.00} ms, p99 {p99:0.00} ms, {failures} failures");
        return
        [
            new("access check throughput, 32 connections", throughput, "req/s", reference, "pgbench, same query, 32 clients", "ratio ≥ 0.5",
                throughput / reference >= 0.5 && failures == 0),
            new("access check p99 latency, 32 connections", p99, "ms", null, $"p50 {p50:0.00} ms", "≤ 10 ms", p99 <= 10),
        ];
    }

    private static async Task<int> Load(HttpClient[] clients, BenchData data, TimeSpan duration, List<double> latencies)
    {
        var failures = 0;
        var end = DateTime.UtcNow + duration;
        var workers = Enumerable.Range(0, Concurrency).Select(async w =>
        {
            var random = new Random(w);
            var mine = new List<double>();
            while (DateTime.UtcNow < end)
            {
                var client = clients[random.Next(clients.Length)];
                var item = data.FirstItemId + random.Next(BenchData.TargetItems);
                var started = Stopwatch.GetTimestamp();
                using var response = await client.GetAsync($"/items/{item}/access");
                await response.Content.ReadAsByteArrayAsync();
                mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                if (!response.IsSuccessStatusCode) Interlocked.Increment(ref failures);
            }
            return mine;
        }).ToArray();
        foreach (var list in await Task.WhenAll(workers)) latencies.AddRange(list);
        return failures;
    }

    /// <summary>pgbench with the app's query: random viewer and asset from the same ranges, now() for the clock.</summary>
    private static double PgBench(BenchData data, string pgBin)
    {
        var query = CheckAccess.Query
            .Replace("@consumerId", $"({data.FirstViewerId} + :v)")
            .Replace("@merchantId", data.MerchantId.ToString(CultureInfo.InvariantCulture))
            .Replace("@now", "now()")
            .Replace("@id", $"({data.FirstItemId} + :i)");
        var script = Path.GetTempFileName();
        File.WriteAllText(script, $"\\set v random(0, {BenchData.TokenHolders - 1})\n\\set i random(0, {BenchData.TargetItems - 1})\n" +
                                  string.Join(' ', query.Split('\n', StringSplitOptions.TrimEntries)) + ";\n");
        var (host, port, user, password, database) = data.Server();
        var start = new ProcessStartInfo(Path.Combine(pgBin, "pgbench"),
            $"-h {host} -p {port} -U {user} -n -c {Concurrency} -j 2 -T {Duration.TotalSeconds} -f {script} {database}")
        { RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["PGPASSWORD"] = password;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        var match = Regex.Match(output, @"tps = ([\d.]+) \(without initial connection time\)");
        return match.Success ? double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture)
            : throw new InvalidOperationException("pgbench failed:\n" + output);
    }
}
