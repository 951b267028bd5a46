using System.Security.Claims;
using Dapper;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Http;
using Npgsql;

namespace Gatehouse.Vouchers;

/// <summary>
/// Gift vouchers: a viewer buys a price option for someone else's email and that person gets a 100 % voucher bound
/// to it (its asset and email as rules, one use). <see cref="Create"/> is the use case Payments calls in its checkout
/// transaction; GET /vouchers/gifts ({total, page, size, collection}) and GET /v2/vouchers/gifts/{id} list them.
/// </summary>
public static class GiftVouchers
{
    public sealed record GiftView(long Id, string Code, string ItemTitle, long ItemId, string BuyerEmail, string ReceiverEmail,
        bool IsUsed, long AccessFeeId, string AccessFeeDescription, decimal Amount, string Currency, DateTimeOffset CreatedAt);

    public sealed record Gift(long MerchantId, string BuyerEmail, string ReceiverEmail, long ItemId, long AccessFeeId, decimal Amount, string Currency);

    private const string Select = """
        select v.id, v.code, coalesce(i.title, '') as item_title, v.gift_item_id as item_id, v.gift_buyer_email as buyer_email,
               v.gift_receiver_email as receiver_email, v.usage_counter > 0 as is_used, v.gift_access_fee_id as access_fee_id,
               coalesce(f.description, '') as access_fee_description, v.gift_amount as amount, v.gift_currency as currency, v.created_at
        from vouchers.vouchers v
        left join access.items i on i.id = v.gift_item_id and i.merchant_id = v.merchant_id
        left join access.access_fees f on f.id = v.gift_access_fee_id and f.merchant_id = v.merchant_id
        """;

    // The reference documents "size" but its own sample sends "limit": either works.
    public static async Task<IResult> HandleList(ClaimsPrincipal user, NpgsqlDataSource db, int? page, int? size, int? limit) =>
        Results.Ok(await List(db, user.MerchantId(), page, size ?? limit));

    /// <summary>The merchant's gift vouchers, newest first: the use case, shared by the API and the admin's Gift vouchers tab.</summary>
    public static async Task<SizedPage<GiftView>> List(NpgsqlDataSource db, long merchantId, int? page, int? size)
    {
        var paging = PageRequest.From(page, size);
        await using var connection = await db.OpenConnectionAsync();
        var args = new { merchantId, limit = paging.Size, offset = paging.Offset };
        var total = await connection.ExecuteScalarAsync<long>(
            "select count(*) from vouchers.vouchers where merchant_id = @merchantId and is_gift and deleted_at is null", args);
        var gifts = (await connection.QueryAsync<GiftView>(
            $"{Select} where v.merchant_id = @merchantId and v.is_gift and v.deleted_at is null order by v.id desc limit @limit offset @offset", args)).ToList();
        return SizedPage<GiftView>.Of(gifts, total, paging);
    }

    public static async Task<IResult> HandleOne(long id, ClaimsPrincipal user, NpgsqlDataSource db)
    {
        await using var connection = await db.OpenConnectionAsync();
        var gift = await connection.QuerySingleOrDefaultAsync<GiftView>(
            $"{Select} where v.id = @id and v.merchant_id = @merchantId and v.is_gift and v.deleted_at is null", new { id, merchantId = user.MerchantId() });
        return Results.Ok(gift ?? throw ApiException.NotFound("Gift voucher not found"));
    }

    /// <summary>Creates the gift's voucher in the caller's transaction: 100 %, one use, valid for the asset and the receiver's email.</summary>
    public static async Task<GiftView> Create(NpgsqlConnection connection, NpgsqlTransaction transaction, Gift gift, DateTimeOffset now)
    {
        for (var attempt = 1; ; attempt++)
        {
            var code = VoucherInput.Generate(10, "GIFT-", "");
            await connection.ExecuteAsync("savepoint gift_code", transaction: transaction);
            try
            {
                var id = await connection.ExecuteScalarAsync<long>(
                    """
                    insert into vouchers.vouchers (merchant_id, name, kind, code, length, prefix, discount, rebill_discount, usage_limit,
                        start_date, is_gift, gift_buyer_email, gift_receiver_email, gift_item_id, gift_access_fee_id, gift_amount, gift_currency,
                        created_at, updated_at)
                    values (@MerchantId, 'Gift for ' || @ReceiverEmail, 'discount', @code, 10, 'GIFT-', 100, 0, 1,
                        @now, true, @BuyerEmail, @ReceiverEmail, @ItemId, @AccessFeeId, @Amount, @Currency, @now, @now)
                    returning id
                    """, new { gift.MerchantId, gift.ReceiverEmail, code, now, gift.BuyerEmail, gift.ItemId, gift.AccessFeeId, gift.Amount, gift.Currency },
                    transaction);
                await connection.ExecuteAsync(
                    """
                    insert into vouchers.codes (merchant_id, voucher_id, code, created_at) values (@MerchantId, @id, @code, @now);
                    insert into vouchers.rules (merchant_id, voucher_id, rule_type, value, created_at) values
                        (@MerchantId, @id, 'assets', @ItemId::text, @now), (@MerchantId, @id, 'emails', lower(@ReceiverEmail), @now);
                    """, new { gift.MerchantId, id, code, now, gift.ItemId, gift.ReceiverEmail }, transaction);
                return await connection.QuerySingleAsync<GiftView>($"{Select} where v.id = @id", new { id }, transaction);
            }
            catch (PostgresException e) when (e is { SqlState: PostgresErrorCodes.UniqueViolation } && attempt < 5)
            {
                await connection.ExecuteAsync("rollback to savepoint gift_code", transaction: transaction);
            }
        }
    }
}
