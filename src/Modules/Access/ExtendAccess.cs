using System.Security.Claims;
using Dapper;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Http;
using Npgsql;

namespace Gatehouse.Access;

/// <summary>
/// POST /v2/access/{id}/extend (merchant) with <c>expires_at</c>: moves a pass's end to a later date. The date must be
/// in the future and later than the current end; a revoked pass cannot be extended. An expired pass extended into
/// the future is active again. The admin's "Extend" calls <see cref="Extend"/>.
/// </summary>
public static class ExtendAccess
{
    internal sealed record Request(DateTimeOffset? ExpiresAt);

    public static async Task<PassView> Extend(NpgsqlConnection connection, NpgsqlTransaction transaction, long merchantId,
        long passId, DateTimeOffset expiresAt, string actor, DateTimeOffset now)
    {
        if (expiresAt <= now) throw ApiException.Invalid("expires_at", "must be in the future");
        // Two extends at once must not both read the same "before".
        await connection.ExecuteAsync("select 1 from access.passes where id = @passId and merchant_id = @merchantId for update",
            new { passId, merchantId }, transaction);
        var before = await Passes.One(connection, merchantId, passId, now, transaction) ?? throw ApiException.NotFound("Access pass not found");
        if (before.Revoked) throw ApiException.Conflict("A revoked access pass cannot be extended");
        if (expiresAt.ToUnixTimeSeconds() <= before.ExpiresAt)
            throw ApiException.Invalid("expires_at", "must be later than the current expiry");
        await connection.ExecuteAsync(
            "update access.passes set expires_at = @expiresAt, updated_at = @now where id = @passId and merchant_id = @merchantId",
            new { expiresAt, now, passId, merchantId }, transaction);
        var after = (await Passes.One(connection, merchantId, passId, now, transaction))!;
        await AccessEvents.Record(connection, transaction, after, "extended", actor, before, now);
        return after;
    }

    public static async Task<IResult> Handle(long id, RequestBody body, ClaimsPrincipal user, NpgsqlDataSource db, TimeProvider clock)
    {
        var request = body.As<Request>();
        if (request.ExpiresAt is null) throw ApiException.Invalid("expires_at", "is required");
        await using var connection = await db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var pass = await Extend(connection, transaction, user.MerchantId(), id, request.ExpiresAt.Value, "merchant:api", clock.GetUtcNow());
        await transaction.CommitAsync();
        return Results.Ok(pass);
    }
}
