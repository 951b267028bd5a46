using System.Text.Json;
using Dapper;
using Npgsql;

namespace Gatehouse.Kernel;

/// <summary>
/// Events for the merchant's systems are written in the same transaction as the change they report,
/// so a rollback emits nothing. The Webhooks module delivers them.
/// </summary>
public static class Outbox
{
    public const string NotifyChannel = "kernel_outbox";

    public static Task Enqueue(NpgsqlConnection connection, NpgsqlTransaction transaction, long merchantId,
        string type, object payload, DateTimeOffset occurredAt) =>
        EnqueueJson(connection, transaction, merchantId, type, JsonSerializer.Serialize(payload, Json.Options), occurredAt);

    /// <summary>The same, for a payload that is already JSON.</summary>
    public static Task EnqueueJson(NpgsqlConnection connection, NpgsqlTransaction transaction, long merchantId,
        string type, string payload, DateTimeOffset occurredAt) =>
        connection.ExecuteAsync(
            """
            insert into kernel.outbox (merchant_id, type, payload, created_at)
            values (@merchantId, @type, @payload::json, @occurredAt);
            select pg_notify('kernel_outbox', @merchantId::text);
            """,
            new { merchantId, type, payload, occurredAt },
            transaction);
}
