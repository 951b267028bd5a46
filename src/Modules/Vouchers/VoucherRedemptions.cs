using System.Security.Claims;
using Dapper;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Http;
using Npgsql;

namespace Gatehouse.Vouchers;

/// <summary>GET /v2/vouchers/{id}/redemptions (merchant): who used the voucher, when, with which code, on what; newest first.</summary>
public static class VoucherRedemptions
{
    public sealed record RedemptionView(long Id, string Code, long ConsumerId, string ConsumerEmail, long? ItemId, long? PackageId,
        long? AccessFeeId, long? ItemAccessId, int Discount, DateTimeOffset CreatedAt);

    public static async Task<IResult> Handle(long id, ClaimsPrincipal user, NpgsqlDataSource db, int? page, int? limit) =>
        Results.Ok(await Run(db, user.MerchantId(), id, page, limit));

    public static async Task<OffsetPage<RedemptionView>> Run(NpgsqlDataSource db, long merchantId, long id, int? page, int? limit)
    {
        var paging = PageRequest.From(page, limit);
        await using var connection = await db.OpenConnectionAsync();
        var args = new { id, merchantId, limit = paging.Size, offset = paging.Offset };
        if (!await connection.ExecuteScalarAsync<bool>(
                "select exists (select 1 from vouchers.vouchers where id = @id and merchant_id = @merchantId and deleted_at is null)", args))
            throw ApiException.NotFound("Voucher not found");
        var total = await connection.ExecuteScalarAsync<long>(
            "select count(*) from vouchers.redemptions where voucher_id = @id and merchant_id = @merchantId", args);
        var rows = (await connection.QueryAsync<RedemptionView>(
            """
            select r.id, r.code, r.consumer_id, coalesce(c.email, '') as consumer_email, r.item_id, r.package_id, r.access_fee_id,
                   r.pass_id as item_access_id, r.discount, r.created_at
            from vouchers.redemptions r left join accounts.consumers c on c.id = r.consumer_id and c.merchant_id = r.merchant_id
            where r.voucher_id = @id and r.merchant_id = @merchantId
            order by r.created_at desc, r.id desc limit @limit offset @offset
            """, args)).ToList();
        return OffsetPage<RedemptionView>.Of(rows, total, paging);
    }
}
