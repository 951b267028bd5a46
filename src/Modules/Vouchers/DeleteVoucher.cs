using System.Security.Claims;
using Dapper;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Http;
using Npgsql;

namespace Gatehouse.Vouchers;

/// <summary>
/// DELETE /vouchers/{id}: the voucher stops working at once and leaves the lists. Its redemptions stay (payment
/// reports still show who used which voucher); its codes are released, so the merchant may use them again.
/// </summary>
public static class DeleteVoucher
{
    public static async Task<IResult> Handle(long id, ClaimsPrincipal user, NpgsqlDataSource db, TimeProvider clock)
    {
        await Run(db, user.MerchantId(), id, clock);
        return Results.Ok(new { code = 200, message = "Voucher was successfully deleted." });
    }

    /// <summary>The use case, shared by the API and the admin's Delete button.</summary>
    public static async Task Run(NpgsqlDataSource db, long merchantId, long id, TimeProvider clock)
    {
        await using var connection = await db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var deleted = await connection.ExecuteAsync(
            "update vouchers.vouchers set deleted_at = @now, updated_at = @now where id = @id and merchant_id = @merchantId and deleted_at is null and not is_gift",
            new { id, merchantId, now = clock.GetUtcNow() }, transaction);
        if (deleted == 0) throw ApiException.NotFound("Voucher not found");
        await connection.ExecuteAsync("delete from vouchers.codes where voucher_id = @id and merchant_id = @merchantId", new { id, merchantId }, transaction);
        await transaction.CommitAsync();
    }
}
