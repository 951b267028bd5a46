using System.Security.Claims;
using Dapper;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Http;
using Npgsql;

namespace Gatehouse.Access;

/// <summary>What a pass is for: one item, or one package (which covers every item in it).</summary>
public readonly record struct Resource(long? ItemId, long? PackageId)
{
    public static Resource Item(long id) => new(id, null);
    public static Resource Package(long id) => new(null, id);
}

/// <summary>
/// Grants a pass. <see cref="Grant"/> is the public use case that payments, vouchers and bulk jobs call inside
/// their own transaction: it writes the pass, its audit row and the asset.access.granted event together.
/// POST /items/access (merchant, InPlayer's path) calls it with item_id or package_id, consumer_id and
/// expires_at or access_fee_id (whose period then sets the expiry).
/// </summary>
public static class GrantAccess
{
    /// <summary>A pass to grant; <paramref name="VoucherCode"/> is the code that paid for it, if any (its event carries it).</summary>
    public sealed record Pass(long MerchantId, long ConsumerId, Resource Resource, string Type, string Source, long? SourceId,
        DateTimeOffset StartsAt, DateTimeOffset ExpiresAt, long? AccessFeeId, bool IsTrial, string Actor, string? VoucherCode = null);

    public static readonly string[] Types = ["purchased", "granted", "access-voucher", "full-discount"];

    public static async Task<PassView> Grant(NpgsqlConnection connection, NpgsqlTransaction transaction, Pass pass, DateTimeOffset now)
    {
        var id = await connection.ExecuteScalarAsync<long>(
            """
            insert into access.passes (merchant_id, consumer_id, item_id, package_id, access_fee_id, type, source, source_id,
                                       starts_at, expires_at, is_trial, created_at, updated_at)
            values (@MerchantId, @ConsumerId, @itemId, @packageId, @AccessFeeId, @Type, @Source, @SourceId,
                    @StartsAt, @ExpiresAt, @IsTrial, @now, @now)
            returning id
            """,
            new { pass.MerchantId, pass.ConsumerId, itemId = pass.Resource.ItemId, packageId = pass.Resource.PackageId, pass.AccessFeeId,
                  pass.Type, pass.Source, pass.SourceId, pass.StartsAt, pass.ExpiresAt, pass.IsTrial, now }, transaction);
        var view = (await Passes.One(connection, pass.MerchantId, id, now, transaction))!;
        await AccessEvents.Record(connection, transaction, view, "granted", pass.Actor, before: null, now, pass.VoucherCode);
        return view;
    }

    /// <summary>The end of an access period that starts at <paramref name="start"/>.</summary>
    public static DateTimeOffset PeriodEnd(DateTimeOffset start, int quantity, string period) => period switch
    {
        "hour" => start.AddHours(quantity),
        "day" => start.AddDays(quantity),
        "week" => start.AddDays(7 * quantity),
        "month" => start.AddMonths(quantity),
        "year" => start.AddYears(quantity),
        _ => throw new ArgumentOutOfRangeException(nameof(period), period, null),
    };

    internal sealed record Request(long? ItemId, long? PackageId, long? ConsumerId, DateTimeOffset? StartsAt, DateTimeOffset? ExpiresAt, long? AccessFeeId);

    public static async Task<IResult> Handle(RequestBody body, ClaimsPrincipal user, NpgsqlDataSource db, TimeProvider clock)
    {
        var request = body.As<Request>();
        await using var connection = await db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var pass = await Run(connection, transaction, user.MerchantId(), request, "api", "merchant:api", clock.GetUtcNow());
        await transaction.CommitAsync();
        return Results.Json(pass, statusCode: StatusCodes.Status201Created);
    }

    /// <summary>
    /// A merchant's manual grant (type "granted"), checked: the viewer and the asset or package must be the merchant's,
    /// the end in the future. The API sends source "api"; the admin's viewer page sends "admin" and names the admin as actor.
    /// </summary>
    internal static async Task<PassView> Run(NpgsqlConnection connection, NpgsqlTransaction transaction, long merchantId,
        Request request, string source, string actor, DateTimeOffset now)
    {
        var errors = new FieldErrors();
        if (request.ItemId is null == request.PackageId is null) errors.Add("item_id", "send item_id or package_id");
        if (request.ConsumerId is null) errors.Add("consumer_id", "is required");
        if (request.ExpiresAt is null == request.AccessFeeId is null) errors.Add("expires_at", "send expires_at or access_fee_id");
        if (request.ExpiresAt is { } expires && expires <= (request.StartsAt ?? now)) errors.Add("expires_at", "must be in the future and after starts_at");
        errors.ThrowIfAny();

        var resource = new Resource(request.ItemId, request.PackageId);
        var found = await connection.QuerySingleAsync<(bool Consumer, bool Resource)>(
            """
            select exists (select 1 from accounts.consumers where id = @consumerId and merchant_id = @merchantId),
                   exists (select 1 from access.items where id = @itemId and merchant_id = @merchantId)
                   or exists (select 1 from access.packages where id = @packageId and merchant_id = @merchantId)
            """, new { consumerId = request.ConsumerId, itemId = request.ItemId, packageId = request.PackageId, merchantId }, transaction);
        if (!found.Consumer) errors.Add("consumer_id", "is not one of your viewers");
        if (!found.Resource) errors.Add(request.ItemId is null ? "package_id" : "item_id", "is not one of yours");
        errors.ThrowIfAny();

        var startsAt = request.StartsAt ?? now;
        var expiresAt = request.ExpiresAt ?? await FeePeriodEnd(connection, transaction, merchantId, resource, request.AccessFeeId!.Value, startsAt);
        return await Grant(connection, transaction, new Pass(merchantId, request.ConsumerId!.Value, resource, "granted", source, null,
            startsAt, expiresAt, request.AccessFeeId, false, actor), now);
    }

    private static async Task<DateTimeOffset> FeePeriodEnd(NpgsqlConnection connection, NpgsqlTransaction transaction, long merchantId,
        Resource resource, long feeId, DateTimeOffset start)
    {
        var fee = await connection.QuerySingleOrDefaultAsync<(int Quantity, string Period)>(
            """
            select period_quantity, period from access.access_fees
            where id = @feeId and merchant_id = @merchantId
              and (item_id = @itemId or package_id = @packageId)
            """, new { feeId, merchantId, itemId = resource.ItemId, packageId = resource.PackageId }, transaction);
        return fee.Period is null
            ? throw ApiException.Invalid("access_fee_id", "is not a price option of this asset or package")
            : PeriodEnd(start, fee.Quantity, fee.Period);
    }
}
