using Dapper;
using Npgsql;

namespace Gatehouse.Access;

/// <summary>
/// A customer access record as InPlayer's API shapes it, plus the spec's status column. A package pass is shown as
/// the package (resource_type "package", item_id and item_title of the package), never expanded into its assets.
/// </summary>
public sealed record PassView(
    long ItemAccessId, string Type, string Status, string ResourceType, long ItemId, string ItemTitle, long? PackageId,
    long CustomerId, Guid CustomerUuid, string ConsumerEmail, long MerchantId, long StartsAt, long ExpiresAt, long CreatedAt,
    bool Revoked, long? RevokedAt, bool IsTrial, long? ParentResourceId, string Source,
    long? PurchasedAccessFeeId, string? PurchasedAccessFeeDescription, string? PurchasedAccessFeeType,
    decimal? PurchasedAmount, string? PurchasedCurrency);

public static class Passes
{
    /// <summary>The spec's statuses: Purchased, Granted, Access-voucher, Full-discount, Expired (and Revoked).</summary>
    public static string Status(string type, DateTimeOffset startsAt, DateTimeOffset expiresAt, DateTimeOffset? revokedAt, DateTimeOffset now) =>
        revokedAt is not null ? "Revoked"
        : expiresAt <= now ? "Expired"
        : startsAt > now ? "Scheduled"
        : type switch
        {
            "purchased" => "Purchased",
            "granted" => "Granted",
            "access-voucher" => "Access-voucher",
            _ => "Full-discount",
        };

    internal sealed record Row(long Id, string Type, long? ItemId, long? PackageId, string Title, long ConsumerId, Guid ConsumerUuid,
        string Email, long MerchantId, DateTimeOffset StartsAt, DateTimeOffset ExpiresAt, DateTimeOffset CreatedAt,
        DateTimeOffset? RevokedAt, bool IsTrial, string Source, long? AccessFeeId, string? FeeDescription, string? FeeType,
        decimal? Amount, string? Currency);

    /// <summary>The select list and joins every pass read uses; callers add where/order.</summary>
    internal const string Select = """
        select p.id, p.type, p.item_id, p.package_id, coalesce(i.title, pk.title) as title, p.consumer_id, c.uuid as consumer_uuid,
               c.email, p.merchant_id, p.starts_at, p.expires_at, p.created_at, p.revoked_at, p.is_trial, p.source, p.access_fee_id,
               f.description as fee_description, f.access_type as fee_type, f.amount, f.currency
        from access.passes p
        join accounts.consumers c on c.id = p.consumer_id
        left join access.items i on i.id = p.item_id
        left join access.packages pk on pk.id = p.package_id
        left join access.access_fees f on f.id = p.access_fee_id
        """;

    internal static PassView View(Row r, DateTimeOffset now) => new(
        r.Id, r.Type, Status(r.Type, r.StartsAt, r.ExpiresAt, r.RevokedAt, now), r.PackageId is null ? "item" : "package",
        r.ItemId ?? r.PackageId!.Value, r.Title, r.PackageId, r.ConsumerId, r.ConsumerUuid, r.Email, r.MerchantId,
        r.StartsAt.ToUnixTimeSeconds(), r.ExpiresAt.ToUnixTimeSeconds(), r.CreatedAt.ToUnixTimeSeconds(), r.RevokedAt is not null,
        r.RevokedAt?.ToUnixTimeSeconds(), r.IsTrial, r.PackageId, r.Source, r.AccessFeeId, r.FeeDescription, r.FeeType, r.Amount,
        r.Currency?.Trim());

    public static async Task<PassView?> One(NpgsqlConnection connection, long merchantId, long passId, DateTimeOffset now,
        NpgsqlTransaction? transaction = null)
    {
        var row = await connection.QuerySingleOrDefaultAsync<Row>(
            Select + " where p.id = @passId and p.merchant_id = @merchantId", new { passId, merchantId }, transaction);
        return row is null ? null : View(row, now);
    }
}
