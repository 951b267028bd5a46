using System.Buffers;
using System.Text.Json;
using Dapper;
using Gatehouse.Kernel;
using Npgsql;

namespace Gatehouse.Access;

/// <summary>
/// Every change to a pass is written twice in its transaction: an audit row (who, when, before, after) and an
/// outbox event for the merchant's systems (asset.access.granted, .revoked or .extended). Bulk jobs write the
/// same rows for many passes at once, with the same payload built here.
/// </summary>
public static class AccessEvents
{
    public static async Task Record(NpgsqlConnection connection, NpgsqlTransaction transaction, PassView after, string action,
        string actor, PassView? before, DateTimeOffset now, string? voucherCode = null)
    {
        await connection.ExecuteAsync(
            """
            insert into access.pass_changes (merchant_id, pass_id, action, actor, at, before, after)
            values (@merchantId, @passId, @action, @actor, @now, @before::jsonb, @after::jsonb)
            """,
            new
            {
                merchantId = after.MerchantId, passId = after.ItemAccessId, action, actor, now,
                before = before is null ? null : JsonSerializer.Serialize(Snapshot(before.Status, before.StartsAt, before.ExpiresAt, before.RevokedAt), Json.Options),
                after = JsonSerializer.Serialize(Snapshot(after.Status, after.StartsAt, after.ExpiresAt, after.RevokedAt), Json.Options),
            }, transaction);
        await Outbox.EnqueueJson(connection, transaction, after.MerchantId, $"asset.access.{action}",
            Payload(after, action, actor, before?.ExpiresAt, now, voucherCode), now);
    }

    /// <summary>The audit keeps what a change can change; the whole record travels in the event.</summary>
    public static object Snapshot(string status, long startsAt, long expiresAt, long? revokedAt) =>
        new { status, starts_at = startsAt, expires_at = expiresAt, revoked_at = revokedAt };

    /// <summary>
    /// InPlayer's access event as JSON: the customer access record plus these fields. Written straight to UTF-8
    /// in one pass, since a bulk job writes a hundred thousand of them.
    /// </summary>
    public static string Payload(PassView after, string action, string actor, long? beforeExpiresAt, DateTimeOffset now, string? voucherCode = null)
    {
        var record = JsonSerializer.SerializeToUtf8Bytes(after, Json.Options);
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(record.Length + 256);
        buffer.Write(record.AsSpan(0, record.Length - 1)); // the record without its closing brace
        using (var writer = new Utf8JsonWriter(buffer))
        {
            // A writer cannot continue another's object, so the extra members are written as one and spliced in.
            writer.WriteStartObject();
            if (after.PurchasedAccessFeeId is { } fee) writer.WriteNumber("access_fee_id", fee); else writer.WriteNull("access_fee_id");
            writer.WriteNumber("consumer_id", after.CustomerId);
            writer.WriteString("date", now.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'"));
            writer.WriteBoolean("extended", action == "extended");
            writer.WriteNumber("original_expires_at", beforeExpiresAt ?? after.ExpiresAt);
            if (voucherCode is null) writer.WriteNull("voucher_code"); else writer.WriteString("voucher_code", voucherCode);
            writer.WriteString("actor", actor);
            writer.WriteEndObject();
        }
        var json = System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
        var splice = json.IndexOf('{', record.Length - 1);
        return json[..splice] + "," + json[(splice + 1)..];
    }
}
