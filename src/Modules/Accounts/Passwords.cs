using Microsoft.AspNetCore.Identity;

namespace Gatehouse.Accounts;

/// <summary>
/// ASP.NET Core Identity's hasher (PBKDF2), for consumers and admin users alike. Requests hash through the Async
/// forms: a hash is deliberately tens of milliseconds of CPU, and socket completions run on the event threads
/// (Program.cs), so it must not run there and hold up every other request on that thread.
/// </summary>
public static class Passwords
{
    private static readonly PasswordHasher<object> Hasher = new();
    private static readonly object User = new();

    public const int MinLength = 8;
    public const int MaxLength = 128;

    public static string Hash(string password) => Hasher.HashPassword(User, password);

    public static Task<string> HashAsync(string password) => Task.Run(() => Hash(password));

    public static Task<bool> VerifyAsync(string? hash, string password) => Task.Run(() => Verify(hash, password));

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
