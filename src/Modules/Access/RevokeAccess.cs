using System.Security.Claims;
using Dapper;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Http;
using Npgsql;

namespace Gatehouse.Access;

/// <summary>
/// POST /v2/access/{id}/revoke (merchant): ends an active pass now. Revoking a pass that is already
/// revoked or expired is a 409, not a silent no-op. The admin's "Yes, revoke!" calls <see cref="Revoke"/>.
/// </summary>
public static class RevokeAccess
{
    public static async Task<PassView> Revoke(NpgsqlConnection connection, NpgsqlTransaction transaction, long merchantId,
        long passId, string actor, DateTimeOffset now)
    {
        var before = await Passes.One(connection, merchantId, passId, now, transaction) ?? throw ApiException.NotFound("Access pass not found");
        var revoked = await connection.ExecuteAsync(
            """
            update access.passes set revoked_at = @now, updated_at = @now
            where id = @passId and merchant_id = @merchantId and revoked_at is null and expires_at > @now
            """, new { now, passId, merchantId }, transaction);
        if (revoked == 0)
            throw ApiException.Conflict(before.Revoked ? "The access pass is already revoked" : "The access pass has expired; there is nothing to revoke");
        var after = (await Passes.One(connection, merchantId, passId, now, transaction))!;
        await AccessEvents.Record(connection, transaction, after, "revoked", actor, before, now);
        return after;
    }

    public static async Task<IResult> Handle(long id, ClaimsPrincipal user, NpgsqlDataSource db, TimeProvider clock)
    {
        await using var connection = await db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var pass = await Revoke(connection, transaction, user.MerchantId(), id, "merchant:api", clock.GetUtcNow());
        await transaction.CommitAsync();
        return Results.Ok(pass);
    }
}
