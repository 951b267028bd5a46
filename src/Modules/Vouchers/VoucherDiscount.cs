using System.Security.Claims;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Http;
using Npgsql;

namespace Gatehouse.Vouchers;

/// <summary>
/// POST /vouchers/discount (viewer or merchant): what a price option costs with a voucher code, as InPlayer's
/// Voucher.getDiscount reads it: {amount, discount_duration}. Nothing is taken. A viewer's own email rules and
/// per-viewer limit count, and so does the guessing limit (<see cref="VoucherGuesses"/>); a merchant asking sees the price for anyone.
/// </summary>
public static class VoucherDiscount
{
    public sealed record Price(decimal Amount, int? DiscountDuration);

    internal sealed record Request(string? VoucherCode, long? AccessFeeId, long? ItemId);

    public static async Task<IResult> Handle(HttpContext http, RequestBody body, ClaimsPrincipal user, NpgsqlDataSource db, TimeProvider clock,
        VoucherGuesses guesses)
    {
        var request = body.As<Request>();
        if (request.AccessFeeId is null) throw ApiException.Invalid("access_fee_id", "is required");
        await using var connection = await db.OpenConnectionAsync();
        // A viewer's code is a guess that counts; a merchant's back end holds the secret that lists every code anyway.
        if (user.IsConsumer()) await guesses.Admit(connection, http, user.MerchantId(), user.ConsumerId(), request.VoucherCode);
        var voucher = await RedeemVoucher.Check(connection, null, user.MerchantId(), user.IsConsumer() ? user.ConsumerId() : null,
            request.VoucherCode, request.AccessFeeId.Value, clock.GetUtcNow());
        if (request.ItemId is { } item && voucher.Fee.ItemId is { } feeItem && feeItem != item)
            throw ApiException.Invalid("item_id", "is not the asset of this price option");
        return Results.Ok(new Price(voucher.DiscountedAmount, voucher.DiscountDuration));
    }
}
