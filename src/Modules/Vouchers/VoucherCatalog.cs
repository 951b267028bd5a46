using Dapper;
using Gatehouse.Kernel;
using Npgsql;

namespace Gatehouse.Vouchers;

/// <summary>
/// The merchant's assets, packages and price options as a voucher's rule sections offer and name them: what can be
/// added (a page of it, found by title) and the names of what rules and redemptions point at. Read-only; every query
/// is confined to one merchant.
/// </summary>
public static class VoucherCatalog
{
    public sealed record Entry(long Id, string Title, bool IsActive);

    public sealed record Offered(IReadOnlyList<Entry> Entries, long Total);

    /// <summary>A price option with the title of the asset or package it sells.</summary>
    public sealed record Fee(long Id, long? ItemId, long? PackageId, string ForTitle, string AccessType, decimal Amount, string Currency,
        int PeriodQuantity, string Period, string Description, bool IsActive);

    // Table names come from this fixed map, never from the caller's text.
    private static string Table(string ruleType) => ruleType switch
    {
        "assets" => "access.items",
        "packages" => "access.packages",
        _ => throw new ArgumentOutOfRangeException(nameof(ruleType), ruleType, "assets or packages"),
    };

    /// <summary>Up to <paramref name="limit"/> of the merchant's assets or packages, by title, leaving out <paramref name="exclude"/>
    /// (those the voucher has) and, with <paramref name="search"/>, those whose title does not contain it.</summary>
    public static async Task<Offered> Offer(NpgsqlConnection connection, long merchantId, string ruleType, string? search, long[] exclude, int limit)
    {
        var args = new { merchantId, exclude, search = LikePattern.Containing(search), limit };
        var where = $"""
            from {Table(ruleType)} where merchant_id = @merchantId and id <> all(@exclude)
              and (@search::text is null or lower(title) like @search)
            """;
        var total = await connection.ExecuteScalarAsync<long>($"select count(*) {where}", args);
        var entries = (await connection.QueryAsync<Entry>($"select id, title, is_active {where} order by lower(title), id limit @limit", args)).ToList();
        return new Offered(entries, total);
    }

    /// <summary>The merchant's assets or packages with these ids, by id (ids that are not the merchant's are left out).</summary>
    public static async Task<IReadOnlyDictionary<long, Entry>> Named(NpgsqlConnection connection, long merchantId, string ruleType, long[] ids) =>
        ids.Length == 0 ? new Dictionary<long, Entry>()
            : (await connection.QueryAsync<Entry>($"select id, title, is_active from {Table(ruleType)} where merchant_id = @merchantId and id = any(@ids)",
                new { merchantId, ids })).ToDictionary(e => e.Id);

    /// <summary>
    /// Price options to choose from: those of <paramref name="itemIds"/> and <paramref name="packageIds"/>, or, when both are
    /// empty, every one of the merchant's (up to <paramref name="limit"/>); always with <paramref name="feeIds"/> (those already
    /// chosen). By asset or package title, then id.
    /// </summary>
    public static async Task<(IReadOnlyList<Fee> Fees, long Total)> Fees(NpgsqlConnection connection, long merchantId, long[] itemIds,
        long[] packageIds, long[] feeIds, int limit)
    {
        var args = new { merchantId, itemIds, packageIds, feeIds, all = itemIds.Length == 0 && packageIds.Length == 0, limit };
        const string where = """
            from access.access_fees f
            left join access.items i on i.id = f.item_id and i.merchant_id = f.merchant_id
            left join access.packages p on p.id = f.package_id and p.merchant_id = f.merchant_id
            where f.merchant_id = @merchantId
              and (@all or f.item_id = any(@itemIds) or f.package_id = any(@packageIds) or f.id = any(@feeIds))
            """;
        var total = await connection.ExecuteScalarAsync<long>($"select count(*) {where}", args);
        var fees = (await connection.QueryAsync<Fee>(
            $"""
            select f.id, f.item_id, f.package_id, coalesce(i.title, p.title, '') as for_title, f.access_type, f.amount,
                   trim(f.currency) as currency, f.period_quantity, f.period, f.description, f.is_active
            {where}
            order by f.id = any(@feeIds) desc, lower(coalesce(i.title, p.title, '')), f.id
            limit @limit
            """, args)).ToList();
        return (fees, total);
    }
}
