using Microsoft.AspNetCore.Identity;

namespace Gatehouse.Accounts;

/// <summary>ASP.NET Core Identity's hasher (PBKDF2), for consumers and admin users alike.</summary>
public static class Passwords
{
    private static readonly PasswordHasher<object> Hasher = new();
    private static readonly object User = new();

    public const int MinLength = 8;
    public const int MaxLength = 128;

    public static string Hash(string password) => Hasher.HashPassword(User, password);

    /// <summary>Verifies against a stored hash; a missing hash never verifies. Still hashes once so timing does not tell.</summary>
    public static bool Verify(string? hash, string password)
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
