using Coravel.Invocable;
using Dapper;
using Npgsql;

namespace Gatehouse.Accounts;

/// <summary>
/// Hourly: forgets failed sign-ins older than the lockout window and sessions that ended more than 30 days ago
/// (kept that long for support questions). Idempotent, so instances running it at once do no harm.
/// </summary>
public sealed class PruneSignIns(NpgsqlDataSource db, TimeProvider clock) : IInvocable
{
    public static readonly TimeSpan EndedSessionRetention = TimeSpan.FromDays(30);

    public async Task Invoke()
    {
        var now = clock.GetUtcNow();
        await using var connection = await db.OpenConnectionAsync();
        await connection.ExecuteAsync(
            """
            delete from accounts.sign_in_failures where failed_at <= @failuresBefore;
            delete from accounts.sessions
            where coalesce(revoked_at, expires_at) <= @sessionsBefore;
            """, new { failuresBefore = now - SignInFailures.Window, sessionsBefore = now - EndedSessionRetention });
    }
}
