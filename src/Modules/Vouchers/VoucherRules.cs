using System.Net.Mail;
using System.Security.Claims;
using Dapper;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Http;
using Npgsql;

namespace Gatehouse.Vouchers;

/// <summary>
/// Where a voucher applies. POST /vouchers/{id}/{rule_type} (the reference's assets, packages and emails; Gatehouse also
/// takes access_fees and payment_types there), GET /v2/vouchers/{id}/rules, DELETE /v2/vouchers/{id}/rules/{rule_id}.
/// No rule of a type means no restriction of that type.
/// </summary>
public static class VoucherRules
{
    public sealed record Added(long Id, string Message, int Code);

    internal sealed record Request(string? Value);

    public static async Task<IResult> HandleAdd(long id, string ruleType, RequestBody body, ClaimsPrincipal user, NpgsqlDataSource db, TimeProvider clock)
    {
        var value = body.Fields["value"]?.ToString();
        await using var connection = await db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await EnsureVoucher(connection, transaction, user.MerchantId(), id);
        var ruleId = await Add(connection, transaction, user.MerchantId(), id, ruleType, value, clock.GetUtcNow());
        await transaction.CommitAsync();
        return Results.Ok(new Added(ruleId, "Voucher rule was successfully added.", 200));
    }

    public static async Task<IResult> HandleList(long id, ClaimsPrincipal user, NpgsqlDataSource db)
    {
        await using var connection = await db.OpenConnectionAsync();
        var voucher = await VoucherViews.One(connection, user.MerchantId(), id) ?? throw ApiException.NotFound("Voucher not found");
        return Results.Ok(voucher.Rules);
    }

    public static async Task<IResult> HandleRemove(long id, long ruleId, ClaimsPrincipal user, NpgsqlDataSource db)
    {
        await using var connection = await db.OpenConnectionAsync();
        await Remove(connection, user.MerchantId(), id, ruleId);
        return Results.Ok(new { code = 200, message = "Voucher rule was successfully removed." });
    }

    public static async Task Remove(NpgsqlConnection connection, long merchantId, long voucherId, long ruleId)
    {
        var removed = await connection.ExecuteAsync(
            """
            delete from vouchers.rules r using vouchers.vouchers v
            where r.id = @ruleId and r.voucher_id = @voucherId and r.merchant_id = @merchantId
              and v.id = r.voucher_id and v.deleted_at is null
            """, new { ruleId, voucherId, merchantId });
        if (removed == 0) throw ApiException.NotFound("Voucher rule not found");
    }

    internal static async Task EnsureVoucher(NpgsqlConnection connection, NpgsqlTransaction transaction, long merchantId, long voucherId)
    {
        var exists = await connection.ExecuteScalarAsync<bool>(
            "select exists (select 1 from vouchers.vouchers where id = @voucherId and merchant_id = @merchantId and deleted_at is null and not is_gift)",
            new { voucherId, merchantId }, transaction);
        if (!exists) throw ApiException.NotFound("Voucher not found");
    }

    /// <summary>Adds one rule after checking its value is the merchant's (an asset, package or price option), a valid email
    /// (the viewer need not exist yet) or a payment type. A rule already there is a 409.</summary>
    public static async Task<long> Add(NpgsqlConnection connection, NpgsqlTransaction transaction, long merchantId, long voucherId,
        string ruleType, string? value, DateTimeOffset now)
    {
        var normalized = await Check(connection, transaction, merchantId, ruleType, value, "value");
        var id = await connection.ExecuteScalarAsync<long?>(
            """
            insert into vouchers.rules (merchant_id, voucher_id, rule_type, value, created_at)
            values (@merchantId, @voucherId, @ruleType, @normalized, @now)
            on conflict (voucher_id, rule_type, lower(value)) do nothing
            returning id
            """, new { merchantId, voucherId, ruleType, normalized, now }, transaction);
        return id ?? throw ApiException.Conflict("The voucher already has this rule");
    }

    /// <summary>The rule's value as stored, or a 400 naming <paramref name="field"/>.</summary>
    public static async Task<string> Check(NpgsqlConnection connection, NpgsqlTransaction? transaction, long merchantId, string ruleType,
        string? value, string field)
    {
        value = value?.Trim();
        if (!VoucherViews.RuleTypes.Contains(ruleType))
            throw ApiException.Invalid("rule_type", "must be one of assets, packages, access_fees, emails, payment_types");
        if (string.IsNullOrEmpty(value)) throw ApiException.Invalid(field, "is required");
        switch (ruleType)
        {
            case "emails":
                if (value.Length > 254 || !MailAddress.TryCreate(value, out var address) || address.Address != value)
                    throw ApiException.Invalid(field, "must be an email address");
                return value.ToLowerInvariant();
            case "payment_types":
                return value is "ppv" or "subscription" ? value : throw ApiException.Invalid(field, "must be ppv or subscription");
        }
        if (!long.TryParse(value, out var id) || id < 1) throw ApiException.Invalid(field, "must be an id");
        var table = ruleType switch { "assets" => "access.items", "packages" => "access.packages", _ => "access.access_fees" };
        var found = await connection.ExecuteScalarAsync<bool>(
            $"select exists (select 1 from {table} where id = @id and merchant_id = @merchantId)", new { id, merchantId }, transaction);
        var what = ruleType switch { "assets" => "asset", "packages" => "package", _ => "price option" };
        return found ? id.ToString() : throw ApiException.Invalid(field, $"is not one of your {what}s");
    }
}
