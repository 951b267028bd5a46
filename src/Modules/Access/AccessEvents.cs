using System.Text.Json;
using Dapper;
using Gatehouse.Kernel;
using Npgsql;

namespace Gatehouse.Access;

/// <summary>
/// Every change to a pass is written twice in its transaction: an audit row (who, when, before, after) and an
/// outbox event for the merchant's systems (asset.access.granted, .revoked or .extended).
/// </summary>
internal static class AccessEvents
{
    public static async Task Record(NpgsqlConnection connection, NpgsqlTransaction transaction, PassView after, string action,
        string actor, PassView? before, DateTimeOffset now)
    {
        await connection.ExecuteAsync(
            """
            insert into access.pass_changes (merchant_id, pass_id, action, actor, at, before, after)
            values (@merchantId, @passId, @action, @actor, @now, @before::jsonb, @after::jsonb)
            """,
            new
            {
                merchantId = after.MerchantId, passId = after.ItemAccessId, action, actor, now,
                before = before is null ? null : JsonSerializer.Serialize(Snapshot(before), Json.Options),
                after = JsonSerializer.Serialize(Snapshot(after), Json.Options),
            }, transaction);

        // The audit keeps what a change can change; the whole record travels in the event below.
        static object Snapshot(PassView pass) => new { pass.Status, pass.StartsAt, pass.ExpiresAt, pass.RevokedAt };

        // InPlayer's access events: the customer access record plus these fields.
        var payload = new Dictionary<string, object?>(
            JsonSerializer.SerializeToElement(after, Json.Options).EnumerateObject().Select(p => new KeyValuePair<string, object?>(p.Name, p.Value)))
        {
            ["access_fee_id"] = after.PurchasedAccessFeeId,
            ["consumer_id"] = after.CustomerId,
            ["date"] = now.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'"),
            ["extended"] = action == "extended",
            ["original_expires_at"] = before?.ExpiresAt ?? after.ExpiresAt,
            ["voucher_code"] = null,
            ["actor"] = actor,
        };
        await Outbox.Enqueue(connection, transaction, after.MerchantId, $"asset.access.{action}", payload, now);
    }
}
