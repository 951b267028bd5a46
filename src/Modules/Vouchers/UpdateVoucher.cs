using System.Security.Claims;
using Dapper;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Http;
using Npgsql;

namespace Gatehouse.Vouchers;

/// <summary>
/// PUT /vouchers/{id} (name, discount and start_date required, as the reference marks them) and PATCH /v2/vouchers/{id}
/// (any field of the reference, rebill_discount included). Fields left out keep their value. The code never changes
/// once the voucher exists (the dashboard guide: "you can't edit the code"), nor do the length, prefix and suffix it
/// was drawn with: sending a different one is a 400.
/// </summary>
public static class UpdateVoucher
{
    public static async Task<IResult> HandlePut(long id, RequestBody body, ClaimsPrincipal user, NpgsqlDataSource db, TimeProvider clock)
    {
        var errors = new FieldErrors();
        foreach (var field in new[] { "name", "discount", "start_date" })
            if (!body.Has(field)) errors.Add(field, "is required");
        errors.ThrowIfAny();
        return Results.Ok(await Run(db, user.MerchantId(), id, body.As<VoucherRequest>(), body.Has, clock));
    }

    public static async Task<IResult> HandlePatch(long id, RequestBody body, ClaimsPrincipal user, NpgsqlDataSource db, TimeProvider clock) =>
        Results.Ok(await Run(db, user.MerchantId(), id, body.As<VoucherRequest>(), body.Has, clock));

    /// <summary>The use case, shared by the API and the admin's Details section.</summary>
    public static async Task<VoucherView> Run(NpgsqlDataSource db, long merchantId, long id, VoucherRequest request,
        Func<string, bool> isSent, TimeProvider clock)
    {
        await using var connection = await db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        // Locked, so a redemption cannot slip in between the usage check and the update.
        var locked = await connection.ExecuteScalarAsync<long?>(
            "select id from vouchers.vouchers where id = @id and merchant_id = @merchantId and deleted_at is null and not is_gift for update",
            new { id, merchantId }, transaction);
        var current = locked is null ? null : await VoucherViews.One(connection, merchantId, id, transaction);
        if (current is null) throw ApiException.NotFound("Voucher not found");

        var errors = new FieldErrors();
        if (isSent("code") && !string.Equals(request.Code?.Trim(), current.Code, StringComparison.Ordinal))
            errors.Add("code", "cannot be changed once the voucher exists");
        if (isSent("length") && request.Length != current.Length) errors.Add("length", "cannot be changed once the voucher exists");
        if (isSent("prefix") && (request.Prefix ?? "") != current.Prefix) errors.Add("prefix", "cannot be changed once the voucher exists");
        if (isSent("suffix") && (request.Suffix ?? "") != current.Suffix) errors.Add("suffix", "cannot be changed once the voucher exists");
        if (isSent("rules")) errors.Add("rules", "are changed with POST /vouchers/{id}/{rule_type} and DELETE /v2/vouchers/{id}/rules/{rule_id}");
        var s = VoucherInput.Check(errors, request, current, isSent, current.UsageCounter);
        errors.ThrowIfAny();

        await connection.ExecuteAsync(
            """
            update vouchers.vouchers set name = @Name, discount = @Discount, rebill_discount = @RebillDiscount,
                usage_limit = @UsageLimit, per_customer_limit = @PerCustomerLimit, discount_period = @DiscountPeriod,
                discount_duration = @DiscountDuration, start_date = @StartDate, end_date = @EndDate,
                access_expires_at = @AccessExpiresAt, access_period_quantity = @AccessPeriodQuantity,
                access_period_unit = @AccessPeriodUnit, updated_at = @now
            where id = @id and merchant_id = @merchantId
            """,
            new { s.Name, s.Discount, s.RebillDiscount, s.UsageLimit, s.PerCustomerLimit, s.DiscountPeriod, s.DiscountDuration,
                  s.StartDate, s.EndDate, s.AccessExpiresAt, s.AccessPeriodQuantity, s.AccessPeriodUnit, now = clock.GetUtcNow(), id, merchantId },
            transaction);
        var view = (await VoucherViews.One(connection, merchantId, id, transaction))!;
        await transaction.CommitAsync();
        return view;
    }
}
