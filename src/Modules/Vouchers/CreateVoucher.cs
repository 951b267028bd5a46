using System.Security.Claims;
using Dapper;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Http;
using Npgsql;

namespace Gatehouse.Vouchers;

/// <summary>
/// POST /vouchers (the reference's path) and POST /v2/vouchers (the same, for access vouchers too): a new voucher
/// with a custom code (≥ 5 characters) or one generated from length + prefix + suffix, and optional rules
/// (rules[0][rule_type]=assets&amp;rules[0][value]=12). Codes are unique per merchant, case-insensitively: 409.
/// </summary>
public static class CreateVoucher
{
    public static async Task<IResult> Handle(RequestBody body, ClaimsPrincipal user, NpgsqlDataSource db, TimeProvider clock) =>
        Results.Json(await Run(db, user.MerchantId(), body.As<VoucherRequest>(), clock), Json.Options, statusCode: StatusCodes.Status201Created);

    /// <summary>The use case, shared by the API and the admin's "New voucher" steps.</summary>
    public static async Task<VoucherView> Run(NpgsqlDataSource db, long merchantId, VoucherRequest request, TimeProvider clock)
    {
        var errors = Validate(request, out var settings);
        errors.ThrowIfAny();
        var custom = request.Code?.Trim();
        var rules = request.Rules ?? [];

        var now = clock.GetUtcNow();
        await using var connection = await db.OpenConnectionAsync();
        // A generated code may collide with one of the merchant's codes: draw again (a custom code is the merchant's to change).
        for (var attempt = 1; ; attempt++)
        {
            var code = string.IsNullOrEmpty(custom)
                ? VoucherInput.Generate(request.Length ?? 8, request.Prefix ?? "", request.Suffix ?? "")
                : custom;
            await using var transaction = await connection.BeginTransactionAsync();
            try
            {
                var id = await Insert(connection, transaction, merchantId, settings, code, request, now);
                for (var i = 0; i < rules.Count; i++)
                {
                    var type = rules[i].RuleType ?? throw ApiException.Invalid($"rules[{i}][rule_type]", "is required");
                    var value = await VoucherRules.Check(connection, transaction, merchantId, type, rules[i].Value, $"rules[{i}][value]");
                    await connection.ExecuteAsync(
                        """
                        insert into vouchers.rules (merchant_id, voucher_id, rule_type, value, created_at)
                        values (@merchantId, @id, @type, @value, @now) on conflict do nothing
                        """, new { merchantId, id, type, value, now }, transaction);
                }
                var view = (await VoucherViews.One(connection, merchantId, id, transaction))!;
                await transaction.CommitAsync();
                return view;
            }
            catch (PostgresException e) when (e is { SqlState: PostgresErrorCodes.UniqueViolation, ConstraintName: "codes_merchant_code" })
            {
                await transaction.RollbackAsync();
                if (!string.IsNullOrEmpty(custom)) throw ApiException.Conflict("A voucher with this code already exists");
                if (attempt == 5) throw ApiException.Conflict("Could not draw a free code: make the code longer");
            }
        }
    }

    /// <summary>Every reason <see cref="Run"/> would refuse the request before reading the database (unknown rule values and
    /// a taken code are found later). The admin's "New voucher" steps use it to check each step's fields as they go.</summary>
    internal static FieldErrors Validate(VoucherRequest request, out VoucherInput.Settings settings)
    {
        var errors = new FieldErrors();
        settings = VoucherInput.Check(errors, request, current: null, _ => true);
        var custom = request.Code?.Trim();
        if (!string.IsNullOrEmpty(custom)) VoucherInput.CheckCustomCode(errors, custom);
        VoucherInput.CheckAffixes(errors, request.Length, request.Prefix, request.Suffix);
        if (request.Rules?.Count > 1000) errors.Add("rules", "at most 1000 rules at once");
        return errors;
    }

    private static async Task<long> Insert(NpgsqlConnection connection, NpgsqlTransaction transaction, long merchantId,
        VoucherInput.Settings s, string code, VoucherRequest request, DateTimeOffset now)
    {
        var id = await connection.ExecuteScalarAsync<long>(
            """
            insert into vouchers.vouchers (merchant_id, name, kind, code, length, prefix, suffix, discount, rebill_discount,
                usage_limit, per_customer_limit, discount_period, discount_duration, start_date, end_date,
                access_expires_at, access_period_quantity, access_period_unit, created_at, updated_at)
            values (@merchantId, @Name, @Kind, @code, @length, @prefix, @suffix, @Discount, @RebillDiscount,
                @UsageLimit, @PerCustomerLimit, @DiscountPeriod, @DiscountDuration, @StartDate, @EndDate,
                @AccessExpiresAt, @AccessPeriodQuantity, @AccessPeriodUnit, @now, @now)
            returning id
            """,
            new { merchantId, s.Name, s.Kind, code, length = string.IsNullOrEmpty(request.Code) ? request.Length ?? 8 : (int?)null,
                  prefix = string.IsNullOrEmpty(request.Code) ? request.Prefix ?? "" : "", suffix = string.IsNullOrEmpty(request.Code) ? request.Suffix ?? "" : "",
                  s.Discount, s.RebillDiscount, s.UsageLimit, s.PerCustomerLimit, s.DiscountPeriod, s.DiscountDuration, s.StartDate,
                  s.EndDate, s.AccessExpiresAt, s.AccessPeriodQuantity, s.AccessPeriodUnit, now }, transaction);
        await connection.ExecuteAsync(
            "insert into vouchers.codes (merchant_id, voucher_id, code, created_at) values (@merchantId, @id, @code, @now)",
            new { merchantId, id, code, now }, transaction);
        return id;
    }
}
