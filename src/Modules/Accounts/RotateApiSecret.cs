using System.Security.Cryptography;
using Dapper;
using Npgsql;

namespace Gatehouse.Accounts;

/// <summary>
/// Replaces the merchant's API client secret. The old secret stops working at once, and so do the merchant
/// tokens minted with it: a leaked secret may have been used to mint them.
/// </summary>
public static class RotateApiSecret
{
    public static string NewSecret() => "gh_sk_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));

    public static async Task<string> Run(NpgsqlDataSource db, TimeProvider clock, ActiveSessions sessions, long merchantId)
    {
        var secret = NewSecret();
        var now = clock.GetUtcNow();
        await using var connection = await db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await connection.ExecuteAsync(
            """
            update accounts.merchants set api_secret = @secret, api_secret_rotated_at = @now, updated_at = @now where id = @merchantId;
            update accounts.sessions set revoked_at = @now where merchant_id = @merchantId and consumer_id is null and revoked_at is null;
            """, new { secret, now, merchantId }, transaction);
        await ActiveSessions.Announce(connection, transaction, ActiveSessions.Everything);
        await transaction.CommitAsync();
        sessions.Forget(ActiveSessions.Everything);
        return secret;
    }
}
