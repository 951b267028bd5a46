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
    private static readonly TimeSpan Warmup = TimeSpan.FromSeconds(10), Duration = TimeSpan.FromSeconds(20);

    public static Task<IReadOnlyList<Result>> Run(BenchData data, string baseUrl, string pgBin)
    {
        // pgbench runs before and after the app, and the reference is the mean: on 2 shared cores one pgbench run
        // alone moved between 15,000 and 25,000 tps from run to run.
        var before = PgBench(data, pgBin);
        Console.WriteLine($"pgbench, same lookup (prepared), {Concurrency} clients: {before.Tps:0} tps, p99 {before.P99:0.00} ms");
        Wrk(data, baseUrl, Warmup); // warms the JIT (tiered compilation needs several seconds under load), pools, statements
        var (throughput, p50, p99, errors) = Wrk(data, baseUrl, Duration);
        Console.WriteLine($"access check (wrk, {Concurrency} connections): {throughput:0} req/s, p50 {p50:0.00} ms, p99 {p99:0.00} ms, {errors} non-2xx");
        var after = PgBench(data, pgBin);
        Console.WriteLine($"pgbench again: {after.Tps:0} tps, p99 {after.P99:0.00} ms");
        var (reference, referenceP99) = ((before.Tps + after.Tps) / 2, (before.P99 + after.P99) / 2);
        return Task.FromResult<IReadOnlyList<Result>>(
        [
            new("access check throughput, 32 connections", throughput, "req/s", reference, "pgbench, same query prepared, 32 clients, mean of a run before and after", "ratio ≥ 0.5",
                throughput / reference >= 0.5 && errors == 0),
            new("access check p99 latency, 32 connections", p99, "ms", referenceP99, $"pgbench's own p99 (app p50 {p50:0.00} ms)", "≤ 10 ms", p99 <= 10),
        ]);
    }

    /// <summary>wrk at 32 connections on two threads: each request a random signed-in viewer and one of the assets they hold.</summary>
    private static (double Throughput, double P50, double P99, long Errors) Wrk(BenchData data, string baseUrl, TimeSpan duration)
    {
        var script = Path.Combine(Path.GetTempPath(), "gatehouse-access-check.lua");
        File.WriteAllText(script, $$"""
            local tokens = { {{string.Join(", ", data.ViewerTokens.Select(t => $"\"{t}\""))}} }
            local first_item = {{data.FirstItemId}}
            request = function()
              local token = tokens[math.random(#tokens)]
              local item = first_item + math.random(0, {{BenchData.TargetItems - 1}})
              return wrk.format("GET", "/items/" .. item .. "/access", { ["Authorization"] = "Bearer " .. token })
            end
            """);
        var start = new ProcessStartInfo("wrk", $"-t 2 -c {Concurrency} -d {(int)duration.TotalSeconds}s --latency -s {script} {baseUrl}")
        { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        double Latency(string percentile)
        {
            var m = Regex.Match(output, $@"^\s+{percentile}%\s+([\d.]+)(us|ms|s)\s*$", RegexOptions.Multiline);
            if (!m.Success) throw new InvalidOperationException("wrk output not understood:\n" + output);
            var value = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            return m.Groups[2].Value switch { "us" => value / 1000, "s" => value * 1000, _ => value };
        }
        var rps = Regex.Match(output, @"Requests/sec:\s+([\d.]+)");
        var errors = Regex.Match(output, @"Non-2xx or 3xx responses: (\d+)");
        return (double.Parse(rps.Groups[1].Value, CultureInfo.InvariantCulture), Latency("50"), Latency("99"),
            errors.Success ? long.Parse(errors.Groups[1].Value) : 0);
    }

    /// <summary>pgbench with the app's query (prepared, as the app runs it): random viewer and asset from the same ranges,
    /// now() for the clock. Answers its throughput and, from its per-transaction log, its p99 latency in ms.</summary>
    private static (double Tps, double P99) PgBench(BenchData data, string pgBin)
    {
        var query = CheckAccess.Query
            .Replace("$1", $"({data.FirstViewerId} + :v)")
            .Replace("$3", data.MerchantId.ToString(CultureInfo.InvariantCulture))
            .Replace("$4", "now()")
            .Replace("$2", $"({data.FirstItemId} + :i)");
        var script = Path.GetTempFileName();
        var logs = Directory.CreateTempSubdirectory("gatehouse-pgbench-").FullName;
        File.WriteAllText(script, $"\\set v random(0, {BenchData.TokenHolders - 1})\n\\set i random(0, {BenchData.TargetItems - 1})\n" +
                                  string.Join(' ', query.Split('\n', StringSplitOptions.TrimEntries)) + ";\n");
        var tps = data.PgBench(pgBin, script, Concurrency, (int)Duration.TotalSeconds, logs);
        // Each log line: client, transaction, latency in µs, ...
        var latencies = Directory.GetFiles(logs).SelectMany(File.ReadLines)
            .Select(line => long.Parse(line.Split(' ')[2], CultureInfo.InvariantCulture)).Order().ToArray();
        Directory.Delete(logs, recursive: true);
        return (tps, latencies[(int)(latencies.Length * 0.99)] / 1000.0);
    }
}
