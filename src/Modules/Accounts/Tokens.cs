using System.IdentityModel.Tokens.Jwt;
using System.Security.Claims;
using System.Security.Cryptography;
using Dapper;
using Gatehouse.Kernel;
using Microsoft.IdentityModel.Tokens;
using Npgsql;

namespace Gatehouse.Accounts;

/// <summary>What a sign-in answers: {access_token, refresh_token, expires, account}, expires in absolute Unix seconds.</summary>
public sealed record TokenResponse(string AccessToken, string RefreshToken, long Expires, AccountView Account);

/// <summary>
/// Issues bearer tokens. Each sign-in is a row in accounts.sessions: the access token (a JWT, 30 days)
/// carries the session id, so logging out revokes it; the refresh token is "sessionId.secret", stored
/// hashed and replaced on every use.
/// </summary>
public sealed class Tokens(NpgsqlDataSource db, TimeProvider clock, Microsoft.Extensions.Configuration.IConfiguration configuration)
{
    public static readonly TimeSpan AccessTokenLifetime = TimeSpan.FromDays(30);
    public static readonly TimeSpan RefreshTokenLifetime = TimeSpan.FromDays(90);
    public const string Issuer = "gatehouse";

    private SymmetricSecurityKey? _key;

    /// <summary>The signing key: Auth:SigningKey if configured, otherwise one generated once and shared through the database.
    /// Loaded at start-up (<see cref="KeyLoader"/>): loading it lazily let a cold instance's first burst of requests
    /// all block thread-pool threads on the same query, and the app stopped answering.</summary>
    public SymmetricSecurityKey SigningKey => _key ?? throw new InvalidOperationException("The signing key is loaded at start-up");

    public async Task LoadKey(CancellationToken cancellation)
    {
        if (configuration["Auth:SigningKey"] is { Length: >= 32 } configured)
        {
            _key = new SymmetricSecurityKey(System.Text.Encoding.UTF8.GetBytes(configured));
            return;
        }
        await using var connection = await db.OpenConnectionAsync(cancellation);
        var value = await connection.QuerySingleAsync<byte[]>(
            """
            insert into kernel.secrets (name, value, created_at) values ('jwt_signing_key', @value, @now)
            on conflict (name) do nothing;
            select value from kernel.secrets where name = 'jwt_signing_key';
            """, new { value = RandomNumberGenerator.GetBytes(64), now = clock.GetUtcNow() });
        _key = new SymmetricSecurityKey(value);
    }

    internal sealed class KeyLoader(Tokens tokens) : Microsoft.Extensions.Hosting.IHostedService
    {
        public Task StartAsync(CancellationToken cancellation) => tokens.LoadKey(cancellation);
        public Task StopAsync(CancellationToken cancellation) => Task.CompletedTask;
    }

    public async Task<(string AccessToken, string RefreshToken, long Expires)> StartSession(
        NpgsqlConnection connection, NpgsqlTransaction transaction, long merchantId, Guid merchantUuid, long? consumerId)
    {
        var now = clock.GetUtcNow();
        var secret = RandomNumberGenerator.GetBytes(32);
        var sessionId = await connection.ExecuteScalarAsync<long>(
            """
            insert into accounts.sessions (merchant_id, consumer_id, refresh_token_hash, created_at, expires_at)
            values (@merchantId, @consumerId, @hash, @now, @expiresAt)
            returning id
            """,
            new { merchantId, consumerId, hash = SHA256.HashData(secret), now, expiresAt = now + RefreshTokenLifetime },
            transaction);
        var (access, expires) = AccessToken(sessionId, merchantId, merchantUuid, consumerId, now);
        return (access, RefreshToken(sessionId, secret), expires);
    }

    public (string Token, long Expires) AccessToken(long sessionId, long merchantId, Guid merchantUuid, long? consumerId, DateTimeOffset now)
    {
        var expires = now + AccessTokenLifetime;
        var claims = new List<Claim>
        {
            new(Auth.SubjectClaim, (consumerId ?? merchantId).ToString()),
            new(Auth.MerchantIdClaim, merchantId.ToString()),
            new(Auth.MerchantUuidClaim, merchantUuid.ToString()),
            new(Auth.RoleClaim, consumerId is null ? Auth.Merchant : Auth.Consumer),
            new(Auth.SessionIdClaim, sessionId.ToString()),
            new(JwtRegisteredClaimNames.Jti, Convert.ToHexString(RandomNumberGenerator.GetBytes(8))),
        };
        var token = new JwtSecurityToken(Issuer, Issuer, claims, now.UtcDateTime, expires.UtcDateTime,
            new SigningCredentials(SigningKey, SecurityAlgorithms.HmacSha256));
        return (new JwtSecurityTokenHandler().WriteToken(token), expires.ToUnixTimeSeconds());
    }

    public static string RefreshToken(long sessionId, byte[] secret) => $"{sessionId}.{Base64UrlEncoder.Encode(secret)}";

    public static bool TryParseRefreshToken(string? token, out long sessionId, out byte[] secret)
    {
        sessionId = 0;
        secret = [];
        var dot = token?.IndexOf('.') ?? -1;
        if (dot <= 0 || !long.TryParse(token![..dot], out sessionId)) return false;
        try
        {
            secret = Base64UrlEncoder.DecodeBytes(token[(dot + 1)..]);
        }
        catch (FormatException)
        {
            return false;
        }
        return secret.Length == 32;
    }
}
