using Dapper;
using Npgsql;

namespace Gatehouse.Accounts;

/// <summary>
/// Failed password sign-ins per account, kept in the database so the lockout holds across instances:
/// ten failures within fifteen minutes lock the account for the rest of that window.
/// </summary>
internal static class SignInFailures
{
    public const int Max = 10;
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(15);

    public static async Task<bool> IsLocked(NpgsqlConnection connection, long merchantId, string email, DateTimeOffset now) =>
        await connection.ExecuteScalarAsync<int>(
            """
            select count(*) from accounts.sign_in_failures
            where merchant_id = @merchantId and lower(email) = lower(@email) and failed_at > @since
            """, new { merchantId, email, since = now - Window }) >= Max;

    public static Task Record(NpgsqlConnection connection, long merchantId, string email, DateTimeOffset now) =>
        connection.ExecuteAsync(
            "insert into accounts.sign_in_failures (merchant_id, email, failed_at) values (@merchantId, @email, @now)",
            new { merchantId, email, now });
}
