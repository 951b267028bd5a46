using System.Text.RegularExpressions;
using Gatehouse.Kernel;

namespace Gatehouse.Accounts;

/// <summary>The checks that registration, merchant-created customers and account updates share.</summary>
internal static partial class AccountInput
{
    public const int MaxMetadataKeys = 50;

    [GeneratedRegex(@"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
    private static partial Regex EmailPattern();

    public static string? Email(FieldErrors errors, string field, string? email)
    {
        email = email?.Trim();
        if (string.IsNullOrEmpty(email)) errors.Add(field, "is required");
        else if (email.Length > 254 || !EmailPattern().IsMatch(email)) errors.Add(field, "must be a valid email address");
        return email;
    }

    public static string? FullName(FieldErrors errors, string? fullName, bool required)
    {
        fullName = fullName?.Trim();
        if (string.IsNullOrEmpty(fullName))
        {
            if (required) errors.Add("full_name", "is required");
        }
        else if (fullName.Length > 250) errors.Add("full_name", "must be at most 250 characters");
        return fullName;
    }

    public static void Password(FieldErrors errors, string? password, string? confirmation, bool confirmationRequired)
    {
        if (string.IsNullOrEmpty(password)) errors.Add("password", "is required");
        else if (password.Length < Passwords.MinLength) errors.Add("password", $"must be at least {Passwords.MinLength} characters");
        else if (password.Length > Passwords.MaxLength) errors.Add("password", $"must be at most {Passwords.MaxLength} characters");
        else if ((confirmationRequired || confirmation is not null) && confirmation != password)
            errors.Add("password_confirmation", "must match the password");
    }

    public static void Metadata(FieldErrors errors, IReadOnlyDictionary<string, string?>? metadata)
    {
        if (metadata is null) return;
        if (metadata.Count > MaxMetadataKeys) errors.Add("metadata", $"can hold at most {MaxMetadataKeys} keys");
        foreach (var (key, value) in metadata)
        {
            if (key.Length is 0 or > 64) errors.Add($"metadata[{key}]", "keys must be 1 to 64 characters");
            else if (value?.Length > 1000) errors.Add($"metadata[{key}]", "must be at most 1000 characters");
        }
    }

    public static Guid? ClientId(FieldErrors errors, string? clientId)
    {
        if (string.IsNullOrWhiteSpace(clientId))
        {
            errors.Add("client_id", "is required");
            return null;
        }
        if (!Guid.TryParse(clientId.Trim(), out var uuid))
        {
            errors.Add("client_id", "must be the merchant's uuid");
            return null;
        }
        return uuid;
    }
}
