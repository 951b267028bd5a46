using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Tests.Vouchers;
using Gatehouse.Webhooks;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Gatehouse.Tests.Webhooks;

/// <summary>What the webhook tests share: endpoints and events through the API, the dispatcher run by hand, the log read back.</summary>
internal static class WebhookKit
{
    public static Task<JsonElement> Send(AppFixture app, string token, Action<Scenario> request, int status = 200) =>
        VoucherShop.Send(app, token, request, status);

    public static Task<JsonElement> CreateEndpoint(AppFixture app, string token, string url, string format = "standard", string types = "",
        int status = 201) =>
        Send(app, token, x => x.Post.FormData(new Dictionary<string, string> { ["url"] = url, ["format"] = format, ["event_types"] = types })
            .ToUrl("/v2/webhooks"), status);

    /// <summary>A merchant grant: one asset.access.granted event.</summary>
    public static Task<JsonElement> Grant(AppFixture app, VoucherShop shop, long viewer) =>
        Send(app, shop.Token, x => x.Post.FormData(new Dictionary<string, string>
        {
            ["item_id"] = shop.Item.ToString(), ["consumer_id"] = viewer.ToString(), ["expires_at"] = app.Clock.GetUtcNow().AddDays(3).ToString("o"),
        }).ToUrl("/items/access"), 201);

    /// <summary>
    /// <paramref name="count"/> events written to the outbox in one transaction, as a module writes them (with the NOTIFY):
    /// a burst, faster than as many API calls.
    /// </summary>
    public static async Task<long[]> Burst(NpgsqlDataSource db, long merchantId, int count, DateTimeOffset at, string type = "asset.access.granted")
    {
        await using var connection = await db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var ids = (await connection.QueryAsync<long>(
            """
            insert into kernel.outbox (merchant_id, type, payload, created_at)
            select @merchantId, @type, json_build_object('n', n, 'consumer_id', 1000 + n), @at from generate_series(1, @count) n
            returning id
            """, new { merchantId, type, count, at }, transaction)).ToArray();
        await connection.ExecuteAsync("select pg_notify('kernel_outbox', @merchantId::text)", new { merchantId }, transaction);
        await transaction.CommitAsync();
        return ids;
    }

    /// <summary>One dispatcher round now (the pump does the same every second).</summary>
    public static Task Dispatch(AppFixture app) => app.Host.Services.GetRequiredService<WebhookDispatcher>().RunOnce();

    public static Task<T> Scalar<T>(NpgsqlDataSource db, string sql, object? args = null) => db.Scalar<T>(sql, args);

    public static async Task<List<T>> Query<T>(NpgsqlDataSource db, string sql, object? args = null)
    {
        await using var connection = await db.OpenConnectionAsync();
        return (await connection.QueryAsync<T>(sql, args)).ToList();
    }

    /// <summary>Polls the database until <paramref name="sql"/> (a count) reaches <paramref name="expected"/>.</summary>
    public static async Task WaitForCount(NpgsqlDataSource db, string sql, object? args, long expected, int seconds = 30, Func<Task>? between = null)
    {
        var until = DateTime.UtcNow.AddSeconds(seconds);
        long seen;
        while ((seen = await Scalar<long>(db, sql, args)) != expected)
        {
            if (DateTime.UtcNow > until) throw new TimeoutException($"Waited for {expected} from \"{sql}\", saw {seen}");
            if (between is not null) await between();
            await Task.Delay(100);
        }
    }

    /// <summary>A message's status and schedule as the delivery log shows it.</summary>
    public static async Task<JsonElement> Message(AppFixture app, string token, long id) =>
        (await Send(app, token, x => x.Get.Url($"/v2/webhooks/messages/{id}"))).GetProperty("message");

    /// <summary>The merchant's messages (newest first), through the API.</summary>
    public static async Task<List<JsonElement>> Messages(AppFixture app, string token, string query = "")
    {
        var page = await Send(app, token, x => x.Get.Url($"/v2/webhooks/messages?limit=100{query}"));
        return page.GetProperty("collection").EnumerateArray().ToList();
    }

    /// <summary>Replaces values a snapshot must not pin: the receiver's port, latencies; a payload string becomes JSON the scrubber sees into.</summary>
    public static string Stable(JsonElement json, string? receiverUrl = null)
    {
        var node = JsonNode.Parse(json.GetRawText())!;
        Walk(node);
        return node.ToJsonString();

        void Walk(JsonNode? n)
        {
            switch (n)
            {
                case JsonObject o:
                    foreach (var (key, value) in o.ToList())
                    {
                        if (key == "latency_ms" && value is not null) o[key] = 0;
                        else if (key == "payload" && value is JsonValue v && v.TryGetValue<string>(out var text)) o[key] = JsonNode.Parse(text);
                        else if (value is JsonValue s && s.TryGetValue<string>(out var str) && receiverUrl is not null && str.Contains(receiverUrl))
                            o[key] = str.Replace(receiverUrl, "http://receiver");
                        else Walk(value);
                    }
                    break;
                case JsonArray a:
                    foreach (var item in a) Walk(item);
                    break;
            }
        }
    }
}

/// <summary>The checks the README gives receivers.</summary>
internal static class Signatures
{
    /// <summary>Standard Webhooks: does one of the space-separated v1 signatures match this secret?</summary>
    public static bool Standard(string secret, Receiver.Request request)
    {
        var key = Convert.FromBase64String(secret["whsec_".Length..]);
        var signed = System.Text.Encoding.UTF8.GetBytes($"{request.Header("webhook-id")}.{request.Header("webhook-timestamp")}.").Concat(request.Body).ToArray();
        var expected = "v1," + Convert.ToBase64String(System.Security.Cryptography.HMACSHA256.HashData(key, signed));
        return request.Header("webhook-signature").Split(' ').Any(s => s == expected);
    }

    public static int StandardCount(Receiver.Request request) => request.Header("webhook-signature").Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;

    /// <summary>InPlayer: does one of the X-InPlayer-Signature values match this secret?</summary>
    public static bool InPlayer(string secret, Receiver.Request request)
    {
        var expected = "sha256=" + Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData(System.Text.Encoding.UTF8.GetBytes(secret), request.Body));
        return InPlayerValues(request).Contains(expected);
    }

    public static string[] InPlayerValues(Receiver.Request request) =>
        request.Header("x-inplayer-signature").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
