using System.Collections.Concurrent;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Gatehouse.Accounts;

/// <summary>
/// Validates bearer tokens once per instance and remembers the result until the token expires. A viewer's app
/// sends the same token on every play; re-checking its signature and re-parsing its claims each time was half the
/// access check's allocations (10 KB a request). Whether the session is still open is asked on every request all
/// the same (<see cref="ActiveSessions"/>), so logout and secret rotation take effect as before.
/// </summary>
internal sealed class ValidatedTokens(TimeProvider clock) : JsonWebTokenHandler
{
    private const int MaxRemembered = 100_000;
    private readonly ConcurrentDictionary<string, TokenValidationResult> _valid = new(StringComparer.Ordinal);

    public override async Task<TokenValidationResult> ValidateTokenAsync(string token, TokenValidationParameters parameters)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        if (_valid.TryGetValue(token, out var remembered))
        {
            if (remembered.SecurityToken.ValidTo > now) return remembered;
            _valid.TryRemove(token, out _);
        }
        var result = await base.ValidateTokenAsync(token, parameters);
        if (result.IsValid && result.SecurityToken.ValidTo > now)
        {
            if (_valid.Count >= MaxRemembered) _valid.Clear(); // crude, but bounded; the next requests re-validate
            _valid[token] = result;
        }
        return result;
    }
}
