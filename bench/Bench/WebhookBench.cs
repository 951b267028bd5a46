using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Dapper;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Gatehouse.Bench;

/// <summary>
/// Webhook deliveries from the app to a receiver on this machine (Kestrel in the bench process, answering 200 at once).
/// Throughput: 20,000 events committed to the outbox in one transaction, timed from the commit to the last one
/// received; the reference is a plain HttpClient posting the same 20,000 bodies to the same receiver with the
/// dispatcher's concurrency per endpoint (8). Latency: 300 events committed one at a time, each timed from its commit
/// to its arrival; the reference is the same body posted by a plain HttpClient, timed from send to arrival.
/// Targets: ≥ 1,000 deliveries/s and a commit-to-delivery p50 ≤ 250 ms.
/// </summary>
public static class WebhookBench
{
    private const int Burst = 20_000;
    private const int Singles = 300;
    private const int Connections = 8;

    public static async Task<IReadOnlyList<Result>> Run(BenchData data, string baseUrl)
    {
        var arrivals = new ConcurrentDictionary<string, long>();
        var received = 0;
        await using var receiver = await StartReceiver(arrivals, () => Interlocked.Increment(ref received));
        var receiverUrl = receiver.Urls.First();

        // The endpoint, through the API (the app runs with Webhooks__AllowPrivateTargets=true for this loopback receiver).
        using (var client = data.Client(baseUrl, data.MerchantToken))
        {
            var response = await client.PostAsync("/v2/webhooks", new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["url"] = receiverUrl + "/hooks", ["event_types"] = "asset.access.granted",
            }));
            if (!response.IsSuccessStatusCode) throw new InvalidOperationException("creating the endpoint failed: " + await response.Content.ReadAsStringAsync());
        }
        var payload = SamplePayload(data);

        // Throughput: one commit of 20,000 events, then wait for all of them.
        await using var connection = new NpgsqlConnection(data.ConnectionString);
        await connection.OpenAsync();
        var start = Stopwatch.GetTimestamp();
        await connection.ExecuteAsync(
            """
            insert into kernel.outbox (merchant_id, type, payload, created_at)
            select @MerchantId, 'asset.access.granted', @payload::json, now() from generate_series(1, @Burst);
            select pg_notify('kernel_outbox', @MerchantId::text);
            """, new { data.MerchantId, payload, Burst });
        await WaitFor(() => Volatile.Read(ref received) >= Burst, TimeSpan.FromMinutes(5));
        var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var rate = Burst / seconds;
        Console.WriteLine($"webhooks: {Burst:N0} deliveries in {seconds:0.00} s = {rate:0} /s");

        var body = Encoding.UTF8.GetBytes($"{{\"type\":\"asset.access.granted\",\"timestamp\":\"2026-01-01T00:00:00.000Z\",\"data\":{payload}}}");
        var referenceRate = await PlainClientRate(receiverUrl, body, () => Volatile.Read(ref received));
        Console.WriteLine($"plain HttpClient, same bodies, {Connections} connections: {referenceRate:0} /s");

        // Latency: one event per commit, each timed from its commit to its arrival at the receiver.
        var latencies = new List<double>();
        for (var i = 0; i < Singles; i++)
        {
            var outboxId = await connection.ExecuteScalarAsync<long>(
                """
                insert into kernel.outbox (merchant_id, type, payload, created_at) values (@MerchantId, 'asset.access.granted', @payload::json, now())
                returning id
                """, new { data.MerchantId, payload });
            // Autocommit: the insert above is committed when it returns; NOTIFY as the app's own writes do.
            await connection.ExecuteAsync("select pg_notify('kernel_outbox', @MerchantId::text)", new { data.MerchantId });
            var committed = Stopwatch.GetTimestamp();
            var id = $"msg_{outboxId}";
            await WaitFor(() => arrivals.ContainsKey(id), TimeSpan.FromSeconds(30));
            latencies.Add(Stopwatch.GetElapsedTime(committed, arrivals[id]).TotalMilliseconds);
            await Task.Delay(10);
        }
        var p50 = Percentile(latencies, 0.5);
        var referenceP50 = await PlainClientLatency(receiverUrl, body, arrivals);
        Console.WriteLine($"commit to delivery: p50 {p50:0.0} ms, p99 {Percentile(latencies, 0.99):0.0} ms; plain HttpClient send to arrival p50 {referenceP50:0.00} ms");

        return
        [
            new("webhook deliveries per second (20,000 events, one endpoint)", rate, "/s", referenceRate,
                "plain HttpClient posting the same bodies, 8 connections", "≥ 1,000 /s", rate >= 1000),
            new("webhook commit-to-delivery latency p50", p50, "ms", referenceP50, "plain HttpClient, send to arrival", "≤ 250 ms", p50 <= 250),
        ];
    }

    private static async Task<WebApplication> StartReceiver(ConcurrentDictionary<string, long> arrivals, Func<int> count)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:5095");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapPost("/hooks", async (HttpContext context) =>
        {
            var at = Stopwatch.GetTimestamp();
            await context.Request.Body.CopyToAsync(Stream.Null);
            if (context.Request.Headers["webhook-id"].ToString() is { Length: > 0 } id) arrivals.TryAdd(id, at);
            count();
            return Results.Ok();
        });
        await app.StartAsync();
        return app;
    }

    private static async Task<double> PlainClientRate(string receiverUrl, byte[] body, Func<int> received)
    {
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = Connections });
        var before = received();
        var start = Stopwatch.GetTimestamp();
        await Parallel.ForEachAsync(Enumerable.Range(0, Burst), new ParallelOptions { MaxDegreeOfParallelism = Connections * 4 }, async (i, _) =>
        {
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = MediaTypeHeaderValue.Parse("application/json");
            using var response = await client.PostAsync(receiverUrl + "/hooks", content);
        });
        var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        return (received() - before) / seconds;
    }

    private static async Task<double> PlainClientLatency(string receiverUrl, byte[] body, ConcurrentDictionary<string, long> arrivals)
    {
        using var client = new HttpClient();
        var latencies = new List<double>();
        for (var i = 0; i < Singles; i++)
        {
            var id = $"plain_{i}";
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = MediaTypeHeaderValue.Parse("application/json");
            using var request = new HttpRequestMessage(HttpMethod.Post, receiverUrl + "/hooks") { Content = content };
            request.Headers.Add("webhook-id", id);
            var sent = Stopwatch.GetTimestamp();
            using var response = await client.SendAsync(request);
            latencies.Add(Stopwatch.GetElapsedTime(sent, arrivals[id]).TotalMilliseconds);
        }
        return Percentile(latencies, 0.5);
    }

    private static string SamplePayload(BenchData data) => JsonSerializer.Serialize(new
    {
        item_access_id = 1, type = "granted", status = "Granted", resource_type = "item", item_id = data.FirstItemId, item_title = "Bench asset",
        customer_id = data.FirstViewerId, consumer_email = "viewer1@bench.test", merchant_id = data.MerchantId, starts_at = 1795000000,
        expires_at = 1796000000, created_at = 1795000000, revoked = false, is_trial = false, source = "api", access_fee_id = (long?)null,
        consumer_id = data.FirstViewerId, date = "2026-11-24T00:00:00.000Z", extended = false, original_expires_at = 1796000000,
        voucher_code = (string?)null, actor = "merchant:api",
    });

    private static async Task WaitFor(Func<bool> condition, TimeSpan limit)
    {
        var until = Stopwatch.GetTimestamp() + (long)(limit.TotalSeconds * Stopwatch.Frequency);
        while (!condition())
        {
            if (Stopwatch.GetTimestamp() > until) throw new TimeoutException("The receiver did not get every webhook in time");
            await Task.Delay(2);
        }
    }

    private static double Percentile(List<double> values, double p)
    {
        var sorted = values.Order().ToList();
        return sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
    }
}
