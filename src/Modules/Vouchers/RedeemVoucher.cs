using System.Security.Claims;
using Dapper;
using Gatehouse.Access;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Http;
using Npgsql;

namespace Gatehouse.Vouchers;

/// <summary>
/// Using a voucher code on a price option. <see cref="Check"/> says whether a code applies (every rejection names its
/// reason); <see cref="Take"/> also takes the use, atomically, inside the caller's transaction (Payments calls it in
/// its checkout and <see cref="GiveBack"/> when a card is declined); <see cref="Redeem"/> takes the use of an access
/// voucher or a 100 % voucher and grants the pass, no card needed. POST /v2/vouchers/redeem (viewer) calls Redeem;
/// InPlayer itself applies codes on its purchase calls.
/// </summary>
public static class RedeemVoucher
{
    /// <summary>The refusal of a code the merchant does not have; <see cref="VoucherGuesses"/> counts these.</summary>
    public const string UnknownCode = "Unknown voucher code";

    /// <summary>A price option as a voucher sees it.</summary>
    public sealed record Fee(long Id, long? ItemId, long? PackageId, string AccessType, decimal Amount, string Currency,
        int PeriodQuantity, string Period, string Description);

    /// <summary>A code that applies to a fee for a viewer.</summary>
    public sealed record Candidate(long VoucherId, long CodeId, string Code, bool SingleUse, string Kind, int Discount, int RebillDiscount,
        string DiscountPeriod, int? DiscountDuration, int? PerCustomerLimit, DateTimeOffset? AccessExpiresAt, int? AccessPeriodQuantity,
        string? AccessPeriodUnit, Fee Fee)
    {
        /// <summary>What the first charge costs with the discount, in the fee's currency (cents rounded half up).</summary>
        public decimal DiscountedAmount => Math.Round(Fee.Amount * (100 - Discount) / 100m, 2, MidpointRounding.AwayFromZero);
        public bool IsFree => Kind == "access" || Discount == 100;
    }

    /// <summary>A use taken: the redemption row, written in the caller's transaction.</summary>
    public sealed record Use(long RedemptionId, Candidate Voucher);

    public sealed record Redeemed(long RedemptionId, long VoucherId, string Code, string VoucherType, int Discount, PassView Pass);

    private sealed record Row(long CodeId, string Code, long? BatchId, DateTimeOffset? UsedAt, long VoucherId, string Kind, int Discount,
        int RebillDiscount, string DiscountPeriod, int? DiscountDuration, DateTimeOffset StartDate, DateTimeOffset? EndDate, int? UsageLimit,
        int UsageCounter, int? PerCustomerLimit, DateTimeOffset? AccessExpiresAt, int? AccessPeriodQuantity, string? AccessPeriodUnit);

    /// <summary>
    /// Whether <paramref name="code"/> applies to the fee for the viewer (null: a merchant asking, so email rules and
    /// per-viewer limits are not checked). Unknown, not started, expired, used up and each rule that fails has its own 402.
    /// </summary>
    public static async Task<Candidate> Check(NpgsqlConnection connection, NpgsqlTransaction? transaction, long merchantId, long? consumerId,
        string? code, long feeId, DateTimeOffset now)
    {
        code = code?.Trim();
        if (string.IsNullOrEmpty(code)) throw ApiException.Invalid("voucher_code", "is required");
        if (code.Length > 100) throw ApiException.RequestFailed(UnknownCode);
        var row = await connection.QuerySingleOrDefaultAsync<Row>(
            """
            select c.id as code_id, c.code, c.batch_id, c.used_at, v.id as voucher_id, v.kind, v.discount, v.rebill_discount,
                   v.discount_period, v.discount_duration, v.start_date, v.end_date, v.usage_limit, v.usage_counter,
                   v.per_customer_limit, v.access_expires_at, v.access_period_quantity, v.access_period_unit
            from vouchers.codes c join vouchers.vouchers v on v.id = c.voucher_id and v.deleted_at is null
            where c.merchant_id = @merchantId and lower(c.code) = lower(@code)
            """, new { merchantId, code }, transaction) ?? throw ApiException.RequestFailed(UnknownCode);
        if (row.StartDate > now) throw ApiException.RequestFailed($"This voucher is not valid yet: it starts on {Iso(row.StartDate)}");
        if (row.EndDate <= now) throw ApiException.RequestFailed($"This voucher expired on {Iso(row.EndDate.Value)}");
        if (row.UsageLimit <= row.UsageCounter) throw ApiException.RequestFailed("This voucher has been used up");
        if (row.UsedAt is not null) throw ApiException.RequestFailed("This code has already been used");

        var fee = await connection.QuerySingleOrDefaultAsync<Fee>(
            """
            select id, item_id, package_id, access_type, amount, currency, period_quantity, period, description
            from access.access_fees where id = @feeId and merchant_id = @merchantId and is_active
            """, new { feeId, merchantId }, transaction) ?? throw ApiException.Invalid("access_fee_id", "is not one of the price options on sale");

        var rules = (await connection.QueryAsync<(string Type, string Value)>(
            "select rule_type, value from vouchers.rules where voucher_id = @VoucherId and merchant_id = @merchantId",
            new { row.VoucherId, merchantId }, transaction)).ToLookup(r => r.Type, r => r.Value);
        // Assets and packages together say what the voucher may be used on.
        if ((rules["assets"].Any() || rules["packages"].Any())
            && !(fee.ItemId is { } item && rules["assets"].Contains(item.ToString()))
            && !(fee.PackageId is { } package && rules["packages"].Contains(package.ToString())))
            throw ApiException.RequestFailed(fee.ItemId is null ? "This voucher is not valid for this package" : "This voucher is not valid for this asset");
        if (rules["access_fees"].Any() && !rules["access_fees"].Contains(fee.Id.ToString()))
            throw ApiException.RequestFailed("This voucher is not valid for this price option");
        if (rules["payment_types"].Any() && !rules["payment_types"].Contains(fee.AccessType))
            throw ApiException.RequestFailed($"This voucher is not valid for {fee.AccessType} price options");
        if (consumerId is { } viewer)
        {
            // The email is read at redemption, so a viewer who registered after the rule was added can use the code.
            if (rules["emails"].Any())
            {
                var email = await connection.ExecuteScalarAsync<string?>(
                    "select lower(email) from accounts.consumers where id = @viewer and merchant_id = @merchantId", new { viewer, merchantId }, transaction);
                if (email is null || !rules["emails"].Contains(email)) throw ApiException.RequestFailed("This voucher is not valid for your email address");
            }
            if (row.PerCustomerLimit is { } limit)
            {
                var uses = await connection.ExecuteScalarAsync<int?>(
                    "select uses from vouchers.customer_uses where voucher_id = @VoucherId and consumer_id = @viewer", new { row.VoucherId, viewer }, transaction);
                if (uses >= limit) throw ApiException.RequestFailed(UsedByYou(limit));
            }
        }
        return new Candidate(row.VoucherId, row.CodeId, row.Code, row.BatchId is not null, row.Kind, row.Discount, row.RebillDiscount,
            row.DiscountPeriod, row.DiscountDuration, row.PerCustomerLimit, row.AccessExpiresAt, row.AccessPeriodQuantity, row.AccessPeriodUnit, fee);
    }

    /// <summary>
    /// Checks the code and takes one use of it inside the caller's transaction: the usage counter with one conditional
    /// UPDATE (so the limit holds under any concurrency, on any number of instances), the batch code and the viewer's
    /// own count likewise, and the redemption row. Nothing is taken if any of it fails.
    /// </summary>
    public static async Task<Use> Take(NpgsqlConnection connection, NpgsqlTransaction transaction, long merchantId, long consumerId,
        string? code, long feeId, DateTimeOffset now)
    {
        var voucher = await Check(connection, transaction, merchantId, consumerId, code, feeId, now);
        var taken = await connection.ExecuteScalarAsync<int?>(
            """
            update vouchers.vouchers set usage_counter = usage_counter + 1
            where id = @VoucherId and merchant_id = @merchantId and deleted_at is null
              and (usage_limit is null or usage_counter < usage_limit)
            returning usage_counter
            """, new { voucher.VoucherId, merchantId }, transaction);
        if (taken is null) throw ApiException.RequestFailed("This voucher has been used up");
        if (voucher.SingleUse && await connection.ExecuteAsync(
                "update vouchers.codes set used_at = @now, used_by = @consumerId where id = @CodeId and used_at is null",
                new { voucher.CodeId, consumerId, now }, transaction) == 0)
            throw ApiException.RequestFailed("This code has already been used");
        if (voucher.PerCustomerLimit is { } limit && await connection.ExecuteScalarAsync<int?>(
                """
                insert into vouchers.customer_uses (voucher_id, consumer_id, merchant_id, uses) values (@VoucherId, @consumerId, @merchantId, 1)
                on conflict (voucher_id, consumer_id) do update set uses = customer_uses.uses + 1 where customer_uses.uses < @limit
                returning uses
                """, new { voucher.VoucherId, consumerId, merchantId, limit }, transaction) is null)
            throw ApiException.RequestFailed(UsedByYou(limit));
        var redemptionId = await connection.ExecuteScalarAsync<long>(
            """
            insert into vouchers.redemptions (merchant_id, voucher_id, code_id, code, consumer_id, item_id, package_id, access_fee_id, discount, created_at)
            values (@merchantId, @VoucherId, @CodeId, @Code, @consumerId, @ItemId, @PackageId, @FeeId, @Discount, @now)
            returning id
            """, new { merchantId, voucher.VoucherId, voucher.CodeId, voucher.Code, consumerId, voucher.Fee.ItemId, voucher.Fee.PackageId,
                       FeeId = voucher.Fee.Id, voucher.Discount, now }, transaction);
        return new Use(redemptionId, voucher);
    }

    /// <summary>
    /// Gives a use back (a declined card), by its redemption: the counters go down, a batch code is free again and the
    /// redemption row goes, in the caller's transaction.
    /// </summary>
    public static async Task GiveBack(NpgsqlConnection connection, NpgsqlTransaction transaction, long merchantId, long redemptionId)
    {
        await connection.ExecuteAsync(
            """
            with gone as (
                delete from vouchers.redemptions where id = @redemptionId and merchant_id = @merchantId
                returning voucher_id, code_id, consumer_id),
            counter as (
                update vouchers.vouchers v set usage_counter = usage_counter - 1 from gone
                where v.id = gone.voucher_id and v.usage_counter > 0),
            code as (
                update vouchers.codes c set used_at = null, used_by = null from gone
                where c.id = gone.code_id and c.batch_id is not null)
            update vouchers.customer_uses u set uses = uses - 1 from gone
            where u.voucher_id = gone.voucher_id and u.consumer_id = gone.consumer_id and u.uses > 0
            """, new { redemptionId, merchantId }, transaction);
    }

    /// <summary>
    /// Redeems an access voucher (an access-voucher pass for the voucher's own period) or a 100 % voucher (a
    /// full-discount pass for the fee's period), with the voucher.redeemed and asset.access.granted events, in the
    /// caller's transaction. A partial discount is refused: it is applied at checkout.
    /// </summary>
    public static async Task<Redeemed> Redeem(NpgsqlConnection connection, NpgsqlTransaction transaction, long merchantId, long consumerId,
        string? code, long feeId, string actor, DateTimeOffset now)
    {
        var use = await Take(connection, transaction, merchantId, consumerId, code, feeId, now);
        var candidate = use.Voucher;
        // Thrown after the use was taken: the caller's transaction rolls it back with everything else.
        if (!candidate.IsFree)
            throw ApiException.RequestFailed($"This voucher takes {candidate.Discount} % off: use it when paying for the price option");
        var expiresAt = candidate.Kind == "access"
            ? candidate.AccessExpiresAt ?? GrantAccess.PeriodEnd(now, candidate.AccessPeriodQuantity!.Value, candidate.AccessPeriodUnit!)
            : GrantAccess.PeriodEnd(now, candidate.Fee.PeriodQuantity, candidate.Fee.Period);
        if (expiresAt <= now) throw ApiException.RequestFailed($"This voucher's access period ended on {Iso(expiresAt)}");

        var fee = use.Voucher.Fee;
        var pass = await GrantAccess.Grant(connection, transaction, new GrantAccess.Pass(merchantId, consumerId,
            new Resource(fee.ItemId, fee.PackageId), candidate.Kind == "access" ? "access-voucher" : "full-discount", "voucher",
            use.Voucher.VoucherId, now, expiresAt, fee.Id, false, actor, use.Voucher.Code), now);
        await EnqueueRedeemed(connection, transaction, merchantId, use.RedemptionId, pass.ItemAccessId, 0m, fee.Currency.Trim(), now);
        return new Redeemed(use.RedemptionId, use.Voucher.VoucherId, use.Voucher.Code, use.Voucher.Kind, use.Voucher.Discount, pass);
    }

    private sealed record RedemptionRow(long VoucherId, string Code, string Kind, int Discount, long ConsumerId, long? FeeId, long? ItemId, long? PackageId);

    /// <summary>
    /// The voucher.redeemed event, once the use has bought something: the pass (null for a gift) and what was charged.
    /// Redeem sends it for free uses; Payments' checkout sends it when the discounted charge succeeds.
    /// </summary>
    public static async Task EnqueueRedeemed(NpgsqlConnection connection, NpgsqlTransaction transaction, long merchantId, long redemptionId,
        long? passId, decimal charged, string currency, DateTimeOffset now)
    {
        var redemption = await connection.QuerySingleAsync<RedemptionRow>(
            """
            update vouchers.redemptions r set pass_id = coalesce(@passId, r.pass_id) from vouchers.vouchers v
            where r.id = @redemptionId and r.merchant_id = @merchantId and v.id = r.voucher_id
            returning r.voucher_id, r.code, v.kind, r.discount, r.consumer_id, r.access_fee_id as fee_id, r.item_id, r.package_id
            """, new { passId, redemptionId, merchantId }, transaction);
        await Outbox.Enqueue(connection, transaction, merchantId, "voucher.redeemed", new
        {
            redemption_id = redemptionId, voucher_id = redemption.VoucherId, voucher_code = redemption.Code, voucher_type = redemption.Kind,
            discount = redemption.Discount, consumer_id = redemption.ConsumerId, access_fee_id = redemption.FeeId, item_id = redemption.ItemId,
            package_id = redemption.PackageId, item_access_id = passId, amount = charged, currency, date = now,
        }, now);
    }

    internal sealed record Request(string? VoucherCode, long? AccessFeeId, long? ItemId);

    /// <summary>POST /v2/vouchers/redeem (viewer): voucher_code and access_fee_id (item_id, if sent, must be the fee's asset).</summary>
    public static async Task<IResult> Handle(HttpContext http, RequestBody body, ClaimsPrincipal user, NpgsqlDataSource db, TimeProvider clock,
        VoucherGuesses guesses)
    {
        var request = body.As<Request>();
        if (request.AccessFeeId is null) throw ApiException.Invalid("access_fee_id", "is required");
        await using var connection = await db.OpenConnectionAsync();
        await guesses.Admit(connection, http, user.MerchantId(), user.ConsumerId(), request.VoucherCode);
        await using var transaction = await connection.BeginTransactionAsync();
        if (request.ItemId is { } item && !await connection.ExecuteScalarAsync<bool>(
                """
                select exists (select 1 from access.access_fees f where f.id = @AccessFeeId and f.merchant_id = @merchantId
                               and (f.item_id = @item or exists (select 1 from access.package_items pi where pi.package_id = f.package_id and pi.item_id = @item)))
                """, new { request.AccessFeeId, merchantId = user.MerchantId(), item }, transaction))
            throw ApiException.Invalid("item_id", "is not sold by this price option");
        var redeemed = await Redeem(connection, transaction, user.MerchantId(), user.ConsumerId(), request.VoucherCode,
            request.AccessFeeId.Value, $"consumer:{user.ConsumerId()}", clock.GetUtcNow());
        await transaction.CommitAsync();
        return Results.Json(redeemed, Json.Options, statusCode: StatusCodes.Status201Created);
    }

    private static string UsedByYou(int limit) =>
        limit == 1 ? "You have already used this voucher" : $"You have already used this voucher {limit} times, its limit per viewer";

    private static string Iso(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'");
}
