using Microsoft.AspNetCore.Identity;

namespace Gatehouse.Accounts;

/// <summary>ASP.NET Core Identity's hasher (PBKDF2), for consumers and admin users alike. A hash costs tens of
/// milliseconds of CPU, so it runs on the thread pool: after an awaited query the caller may be on the socket event
/// thread (Program.cs), where it would hold up every other connection's I/O.</summary>
public static class Passwords
{
    private static readonly PasswordHasher<object> Hasher = new();
    private static readonly object User = new();

    public const int MinLength = 8;
    public const int MaxLength = 128;

    public static Task<string> Hash(string password) => Task.Run(() => Hasher.HashPassword(User, password));

    /// <summary>Verifies against a stored hash; a missing hash never verifies. Still hashes once so timing does not tell.</summary>
    public static Task<bool> Verify(string? hash, string password) => Task.Run(() => Check(hash, password));

    private static bool Check(string? hash, string password)
    {
        if (hash is null)
        {
            Hasher.HashPassword(User, password);
            return false;
        }
        try
        {
            return Hasher.VerifyHashedPassword(User, hash, password) != PasswordVerificationResult.Failed;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
