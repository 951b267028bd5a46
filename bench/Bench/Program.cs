// Gatehouse's benchmarks. Each scenario prints its figure beside a reference measured in the same run on the same
// machine, the ratio and the target; the table is also written to bench/results/latest.md.
// Usage (through ./gatehouse bench): Gatehouse.Bench <repo root> [all|access|search|reports|bulk|redemptions|codes|webhooks]
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Dapper;
using Gatehouse.Bench;
using Npgsql;

var root = args[0];
var only = args.Length > 1 ? args[1] : "all";
var connectionString = Environment.GetEnvironmentVariable("GATEHOUSE_DB") ?? throw new InvalidOperationException("GATEHOUSE_DB is not set");
var pgBin = Environment.GetEnvironmentVariable("GATEHOUSE_PG_BIN") ?? "/usr/lib/postgresql/15/bin";
var results = new List<Result>();

Console.WriteLine($"Gatehouse benchmarks, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores");
var data = await BenchData.Reset(connectionString);
await using (var app = await AppProcess.Start(root, connectionString, port: 5091))
{
    // Code batches need only a merchant; the other scenarios its million passes.
    if (only is "codes" or "webhooks") await data.SeedMerchant(app.BaseUrl);
    else await data.Seed(app.BaseUrl);

    // Each scenario starts from a database at rest (see BenchData.Settle).
    async Task Scenario(string name, Func<Task<IReadOnlyList<Result>>> run)
    {
        if (only != "all" && only != name) return;
        await data.Settle();
        results.AddRange(await run());
    }

    await Scenario("access", () => AccessCheckBench.Run(data, app.BaseUrl, pgBin));
    await Scenario("search", () => SearchBench.Run(data, app.BaseUrl));
    // Before the bulk grant, which adds passes: the report covers exactly the seeded million.
    await Scenario("reports", () => ReportBench.Run(data, app, pgBin));
    await Scenario("bulk", () => BulkGrantBench.Run(data, app.BaseUrl, pgBin));
    await Scenario("redemptions", () => RedemptionBench.Run(data, app.BaseUrl, pgBin));
    await Scenario("codes", () => CodeBatchBench.Run(data, app.BaseUrl));
    await Scenario("webhooks", () => WebhookBench.Run(data, app.BaseUrl));
}

var table = Result.Table(results);
Console.WriteLine();
Console.WriteLine(table);
Directory.CreateDirectory(Path.Combine(root, "bench", "results"));
await File.WriteAllTextAsync(Path.Combine(root, "bench", "results", "latest.md"),
    $"# Benchmark results\n\n{DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, `./gatehouse bench {only}`\n\n{table}\n");
return results.All(r => r.Pass) ? 0 : 1;
