using System.Security.Claims;
using Dapper;
using Gatehouse.Kernel;
using Npgsql;

namespace Gatehouse.Accounts;

/// <summary>Checks an admin user's email and password for the admin login page, with the same per-account and per-address limits as the API.</summary>
public static class AdminSignIn
{
    public enum Outcome { SignedIn, Invalid, Locked, AddressLimited }

    // Admin users are not under a merchant's client_id at login; their failures are kept under merchant 0.
    private const long AdminFailuresMerchantId = 0;

    public static async Task<(Outcome Outcome, ClaimsPrincipal? User)> Verify(
        NpgsqlDataSource db, TimeProvider clock, SignInFailures failures, string address, string? email, string? password)
    {
        email = email?.Trim();
        if (string.IsNullOrEmpty(email) || string.IsNullOrEmpty(password) || email.Length > 254 || password.Length > Passwords.MaxLength)
            return (Outcome.Invalid, null);

        var now = clock.GetUtcNow();
        await using var connection = await db.OpenConnectionAsync();
        var attempt = await failures.Attempt(connection, AdminFailuresMerchantId, email, address, now);
        if (attempt.Refused is { } refused) return (refused == SignInFailures.AccountLocked ? Outcome.Locked : Outcome.AddressLimited, null);

        var admin = await connection.QuerySingleOrDefaultAsync<(long Id, long MerchantId, Guid MerchantUuid, string Email, string FullName, string MerchantName, string PasswordHash)>(
            """
            select a.id, a.merchant_id, m.uuid, a.email, a.full_name, m.name, a.password_hash
            from accounts.admin_users a join accounts.merchants m on m.id = a.merchant_id
            where lower(a.email) = lower(@email)
            """, new { email });
        if (!await Passwords.Verify(admin.PasswordHash, password)) return (Outcome.Invalid, null);
        await SignInFailures.Succeeded(connection, attempt.Id);

        var identity = new ClaimsIdentity(
        [
            new Claim(Auth.AdminUserIdClaim, admin.Id.ToString()),
            new Claim(Auth.MerchantIdClaim, admin.MerchantId.ToString()),
            new Claim(Auth.MerchantUuidClaim, admin.MerchantUuid.ToString()),
            new Claim(ClaimTypes.Name, admin.FullName),
            new Claim(ClaimTypes.Email, admin.Email),
            new Claim("merchant_name", admin.MerchantName),
        ], Auth.AdminCookieScheme);
        return (Outcome.SignedIn, new ClaimsPrincipal(identity));
    }
}
