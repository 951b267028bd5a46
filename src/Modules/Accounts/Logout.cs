using System.Security.Claims;
using Dapper;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Http;
using Npgsql;

namespace Gatehouse.Accounts;

/// <summary>GET /accounts/logout: ends the session, so its access and refresh tokens stop working everywhere.</summary>
internal static class Logout
{
    public static async Task<IResult> Handle(ClaimsPrincipal user, NpgsqlDataSource db, TimeProvider clock, ActiveSessions sessions)
    {
        await using var connection = await db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await connection.ExecuteAsync(
            "update accounts.sessions set revoked_at = @now where id = @sessionId and merchant_id = @merchantId and revoked_at is null",
            new { now = clock.GetUtcNow(), sessionId = user.SessionId(), merchantId = user.MerchantId() }, transaction);
        await ActiveSessions.Announce(connection, transaction, user.SessionId().ToString());
        await transaction.CommitAsync();
        sessions.Forget(user.SessionId().ToString());
        return Results.Ok(new { code = 200, message = "Account logged out" });
    }
}
