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

    /// <summary>
    /// Writes the attempt as a failure before its password is checked, then counts: of attempts at once, on any
    /// instance, the k-th to be written counts at least k, so no more than ten get their password checked (counted
    /// afterwards, forty at once were all checked). Null when the account is locked (the refused attempt is not
    /// kept, so it does not prolong the lock); otherwise the attempt's id, for <see cref="Succeeded"/>.
    /// </summary>
    public static async Task<long?> Attempt(NpgsqlConnection connection, long merchantId, string email, DateTimeOffset now)
    {
        // Two statements, each committed on its own: the count must see every attempt written before it.
        var id = await connection.ExecuteScalarAsync<long>(
            "insert into accounts.sign_in_failures (merchant_id, email, failed_at) values (@merchantId, @email, @now) returning id",
            new { merchantId, email, now });
        var failures = await connection.ExecuteScalarAsync<int>(
            """
            select count(*) from accounts.sign_in_failures
            where merchant_id = @merchantId and lower(email) = lower(@email) and failed_at > @since
            """, new { merchantId, email, since = now - Window });
        if (failures <= Max) return id;
        await Succeeded(connection, id);
        return null;
    }

    /// <summary>The password was right: the attempt was no failure.</summary>
    public static Task Succeeded(NpgsqlConnection connection, long attempt) =>
        connection.ExecuteAsync("delete from accounts.sign_in_failures where id = @attempt", new { attempt });
}
