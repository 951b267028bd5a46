using Dapper;
using Npgsql;

namespace Gatehouse.Vouchers;

/// <summary>A voucher rule: where the voucher applies (InPlayer's voucher_rule: id, rule_type, value).</summary>
public sealed record RuleView(long Id, string RuleType, string Value);

/// <summary>An access voucher's own access period: until a fixed date, or quantity × unit from redemption.</summary>
public sealed record AccessPeriodView(DateTimeOffset? ExpiresAt, int? Quantity, string? Unit);

/// <summary>
/// A voucher as the API reference shows it (times as ISO 8601, "2018-08-23T00:00:00.000Z"), with Gatehouse's
/// additions: its kind, the access period of access vouchers and a per-viewer usage limit.
/// </summary>
public sealed record VoucherView(
    long Id, string Name, string VoucherType, int Discount, int RebillDiscount, DateTimeOffset StartDate, DateTimeOffset? EndDate,
    string Code, int? Length, string Prefix, string Suffix, int? UsageLimit, int UsageCounter, int? PerCustomerLimit,
    string DiscountPeriod, int? DiscountDuration, AccessPeriodView? AccessPeriod, IReadOnlyList<RuleView> Rules,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>Reads vouchers for the API and the admin; every query is confined to one merchant.</summary>
public static class VoucherViews
{
    public static readonly string[] RuleTypes = ["assets", "packages", "access_fees", "emails", "payment_types"];

    internal sealed record Row(long Id, string Name, string Kind, int Discount, int RebillDiscount, DateTimeOffset StartDate,
        DateTimeOffset? EndDate, string Code, int? Length, string Prefix, string Suffix, int? UsageLimit, int UsageCounter,
        int? PerCustomerLimit, string DiscountPeriod, int? DiscountDuration, DateTimeOffset? AccessExpiresAt,
        int? AccessPeriodQuantity, string? AccessPeriodUnit, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

    internal const string Columns = """
        v.id, v.name, v.kind, v.discount, v.rebill_discount, v.start_date, v.end_date, v.code, v.length, v.prefix, v.suffix,
        v.usage_limit, v.usage_counter, v.per_customer_limit, v.discount_period, v.discount_duration, v.access_expires_at,
        v.access_period_quantity, v.access_period_unit, v.created_at, v.updated_at
        """;

    /// <summary>Vouchers by id (not gifts, not deleted), with their rules, in the order given.</summary>
    public static async Task<IReadOnlyList<VoucherView>> Load(NpgsqlConnection connection, long merchantId, long[] ids,
        NpgsqlTransaction? transaction = null)
    {
        var rows = (await connection.QueryAsync<Row>(
            $"select {Columns} from vouchers.vouchers v where v.merchant_id = @merchantId and v.id = any(@ids) and v.deleted_at is null and not v.is_gift",
            new { merchantId, ids }, transaction)).ToDictionary(r => r.Id);
        var rules = (await connection.QueryAsync<(long VoucherId, long Id, string RuleType, string Value)>(
            "select voucher_id, id, rule_type, value from vouchers.rules where merchant_id = @merchantId and voucher_id = any(@ids) order by id",
            new { merchantId, ids }, transaction)).ToLookup(r => r.VoucherId, r => new RuleView(r.Id, r.RuleType, r.Value));
        return ids.Where(rows.ContainsKey).Select(id => View(rows[id], rules[id].ToList())).ToList();
    }

    public static async Task<VoucherView?> One(NpgsqlConnection connection, long merchantId, long id, NpgsqlTransaction? transaction = null) =>
        (await Load(connection, merchantId, [id], transaction)).SingleOrDefault();

    internal static VoucherView View(Row r, IReadOnlyList<RuleView> rules) => new(
        r.Id, r.Name, r.Kind, r.Discount, r.RebillDiscount, r.StartDate, r.EndDate, r.Code, r.Length, r.Prefix, r.Suffix,
        r.UsageLimit, r.UsageCounter, r.PerCustomerLimit, r.DiscountPeriod, r.DiscountDuration,
        r.Kind == "access" ? new AccessPeriodView(r.AccessExpiresAt, r.AccessPeriodQuantity, r.AccessPeriodUnit) : null,
        rules, r.CreatedAt, r.UpdatedAt);
}
