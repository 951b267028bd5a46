using Dapper;
using Microsoft.Extensions.Configuration;
using Npgsql;

namespace Gatehouse.Accounts;

/// <summary>
/// Failed password sign-ins, kept in the database so the limits hold across instances: ten failures on one account
/// within fifteen minutes lock it for the rest of that window, and RateLimits:SignInFailuresPerAddress failures (100 by
/// default) from one client address within fifteen minutes stop that address's sign-ins, on every account, meanwhile.
/// </summary>
public sealed class SignInFailures(IConfiguration configuration)
{
    public const int Max = 10;
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(15);
    public const string AccountLocked = "Too many failed sign-in attempts for this account; try again in 15 minutes";
    public const string AddressLimited = "Too many failed sign-in attempts from your address; try again in 15 minutes";

    private readonly int _maxPerAddress = configuration.GetValue("RateLimits:SignInFailuresPerAddress", 100);

    /// <summary>The attempt's id, for <see cref="Succeeded"/>, or why it is refused (its password then is not checked).</summary>
    public readonly record struct Attempted(long Id, string? Refused);

    /// <summary>
    /// Writes the attempt as a failure before its password is checked, then counts: of attempts at once, on any
    /// instance, the k-th to be written counts at least k, so no more than the limit get their password checked
    /// (counted afterwards, forty at once were all checked). A refused attempt is not kept, so it does not prolong
    /// the lock.
    /// </summary>
    public async Task<Attempted> Attempt(NpgsqlConnection connection, long merchantId, string email, string address, DateTimeOffset now)
    {
        // Two statements, each committed on its own: the count must see every attempt written before it.
        var id = await connection.ExecuteScalarAsync<long>(
            "insert into accounts.sign_in_failures (merchant_id, email, address, failed_at) values (@merchantId, @email, @address, @now) returning id",
            new { merchantId, email, address, now });
        var (onAccount, fromAddress) = await connection.QuerySingleAsync<(int, int)>(
            """
            select count(*) filter (where merchant_id = @merchantId and lower(email) = lower(@email)),
                   count(*) filter (where address = @address)
            from accounts.sign_in_failures
            where failed_at > @since and ((merchant_id = @merchantId and lower(email) = lower(@email)) or address = @address)
            """, new { merchantId, email, address, since = now - Window });
        var refused = onAccount > Max ? AccountLocked
            : _maxPerAddress > 0 && fromAddress > _maxPerAddress ? AddressLimited
            : null;
        if (refused is not null) await Succeeded(connection, id);
        return new Attempted(id, refused);
    }

    /// <summary>The password was right (or the attempt was refused unchecked): the attempt was no failure.</summary>
    public static Task Succeeded(NpgsqlConnection connection, long attempt) =>
        connection.ExecuteAsync("delete from accounts.sign_in_failures where id = @attempt", new { attempt });
}
