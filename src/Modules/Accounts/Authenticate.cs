using System.Security.Cryptography;
using Dapper;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Http;
using Npgsql;

namespace Gatehouse.Accounts;

/// <summary>
/// POST /accounts/authenticate (and /v2/accounts/authenticate, password grant only):
/// password for viewers, client_credentials for the merchant's back end, refresh_token for both.
/// Bad credentials are a 400 (the SDKs read 401 as "your token is bad"); a bad refresh token is a 401.
/// </summary>
internal static class Authenticate
{
    internal sealed record Request(
        string? GrantType, string? ClientId, string? Username, string? Email, string? Password,
        string? ClientSecret, string? RefreshToken, string? Referrer);

    public static Task<IResult> Handle(RequestBody body, NpgsqlDataSource db, Tokens tokens, TimeProvider clock, ActiveSessions sessions,
        SignInFailures failures, HttpContext http) =>
        Run(body.As<Request>(), db, tokens, clock, sessions, failures, RateLimits.ClientAddress(http), passwordOnly: false);

    public static Task<IResult> HandleV2(RequestBody body, NpgsqlDataSource db, Tokens tokens, TimeProvider clock, ActiveSessions sessions,
        SignInFailures failures, HttpContext http) =>
        Run(body.As<Request>(), db, tokens, clock, sessions, failures, RateLimits.ClientAddress(http), passwordOnly: true);

    private static async Task<IResult> Run(Request request, NpgsqlDataSource db, Tokens tokens, TimeProvider clock, ActiveSessions sessions,
        SignInFailures failures, string address, bool passwordOnly)
    {
        var grant = request.GrantType?.Trim() ?? (passwordOnly ? "password" : null);
        var response = grant switch
        {
            "password" => await Password(request, db, tokens, clock, failures, address),
            "client_credentials" when !passwordOnly => await ClientCredentials(request, db, tokens),
            "refresh_token" when !passwordOnly => await Refresh(request, db, tokens, clock, sessions),
            null => throw ApiException.Invalid("grant_type", "is required"),
            _ => throw ApiException.Invalid("grant_type", passwordOnly
                ? "must be password"
                : "must be one of password, client_credentials, refresh_token"),
        };
        return Results.Ok(response);
    }

    private static async Task<TokenResponse> Password(Request request, NpgsqlDataSource db, Tokens tokens, TimeProvider clock,
        SignInFailures failures, string address)
    {
        var errors = new FieldErrors();
        var clientId = AccountInput.ClientId(errors, request.ClientId);
        var email = (request.Username ?? request.Email)?.Trim();
        if (string.IsNullOrEmpty(email)) errors.Add("username", "is required");
        if (string.IsNullOrEmpty(request.Password)) errors.Add("password", "is required");
        errors.ThrowIfAny();
        if (email!.Length > 254 || request.Password!.Length > Passwords.MaxLength)
            throw ApiException.BadRequest("Invalid username or password");

        await using var connection = await db.OpenConnectionAsync();
        var merchant = await Merchant(connection, clientId!.Value);
        var now = clock.GetUtcNow();

        var attempt = await failures.Attempt(connection, merchant.Id, email, address, now);
        if (attempt.Refused is { } refused) throw ApiException.TooManyRequests(refused);

        var consumer = await connection.QuerySingleOrDefaultAsync<(long Id, string? PasswordHash)>(
            "select id, password_hash from accounts.consumers where merchant_id = @merchantId and lower(email) = lower(@email)",
            new { merchantId = merchant.Id, email });
        if (!await Passwords.Verify(consumer.PasswordHash, request.Password)) throw ApiException.BadRequest("Invalid username or password");
        await SignInFailures.Succeeded(connection, attempt.Id);

        await using var transaction = await connection.BeginTransactionAsync();
        var (access, refresh, expires) = await tokens.StartSession(connection, transaction, merchant.Id, merchant.Uuid, consumer.Id);
        var account = (await AccountView.Consumer(connection, merchant.Id, consumer.Id, transaction))!;
        await transaction.CommitAsync();
        return new TokenResponse(access, refresh, expires, account);
    }

    private static async Task<TokenResponse> ClientCredentials(Request request, NpgsqlDataSource db, Tokens tokens)
    {
        var errors = new FieldErrors();
        var clientId = AccountInput.ClientId(errors, request.ClientId);
        if (string.IsNullOrEmpty(request.ClientSecret)) errors.Add("client_secret", "is required");
        errors.ThrowIfAny();

        await using var connection = await db.OpenConnectionAsync();
        var merchant = await connection.QuerySingleOrDefaultAsync<(long Id, Guid Uuid, string ApiSecret)>(
            "select id, uuid, api_secret from accounts.merchants where uuid = @clientId", new { clientId });
        if (merchant.Id == 0 || !CryptographicOperations.FixedTimeEquals(
                System.Text.Encoding.UTF8.GetBytes(merchant.ApiSecret), System.Text.Encoding.UTF8.GetBytes(request.ClientSecret!)))
            throw ApiException.BadRequest("Invalid client credentials");

        await using var transaction = await connection.BeginTransactionAsync();
        var (access, refresh, expires) = await tokens.StartSession(connection, transaction, merchant.Id, merchant.Uuid, null);
        var account = (await AccountView.Merchant(connection, merchant.Id, transaction))!;
        await transaction.CommitAsync();
        return new TokenResponse(access, refresh, expires, account);
    }

    private static async Task<TokenResponse> Refresh(Request request, NpgsqlDataSource db, Tokens tokens, TimeProvider clock, ActiveSessions sessions)
    {
        if (string.IsNullOrEmpty(request.RefreshToken)) throw ApiException.Invalid("refresh_token", "is required");
        if (!Tokens.TryParseRefreshToken(request.RefreshToken, out var sessionId, out var secret))
            throw ApiException.Unauthorized("Invalid refresh token");

        await using var connection = await db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var session = await connection.QuerySingleOrDefaultAsync<Session>(
            """
            select s.id, s.merchant_id, m.uuid as merchant_uuid, s.consumer_id, s.refresh_token_hash, s.expires_at, s.revoked_at
            from accounts.sessions s join accounts.merchants m on m.id = s.merchant_id
            where s.id = @sessionId
            for update of s
            """, new { sessionId }, transaction);
        var now = clock.GetUtcNow();
        if (session is null || session.RevokedAt is not null || session.ExpiresAt <= now)
            throw ApiException.Unauthorized("Invalid refresh token");
        if (request.ClientId is { Length: > 0 } given && (!Guid.TryParse(given, out var uuid) || uuid != session.MerchantUuid))
            throw ApiException.Unauthorized("Invalid refresh token");
        if (!CryptographicOperations.FixedTimeEquals(SHA256.HashData(secret), session.RefreshTokenHash))
        {
            // A refresh token that was already used: someone holds a copy. End the session for both holders.
            await connection.ExecuteAsync("update accounts.sessions set revoked_at = @now where id = @sessionId",
                new { now, sessionId }, transaction);
            await ActiveSessions.Announce(connection, transaction, sessionId.ToString());
            await transaction.CommitAsync();
            sessions.Forget(sessionId.ToString());
            throw ApiException.Unauthorized("Invalid refresh token");
        }

        var next = RandomNumberGenerator.GetBytes(32);
        await connection.ExecuteAsync(
            """
            update accounts.sessions set refresh_token_hash = @hash, refreshed_at = @now, expires_at = @expiresAt
            where id = @sessionId
            """, new { hash = SHA256.HashData(next), now, expiresAt = now + Tokens.RefreshTokenLifetime, sessionId }, transaction);
        var account = session.ConsumerId is { } consumerId
            ? await AccountView.Consumer(connection, session.MerchantId, consumerId, transaction)
            : await AccountView.Merchant(connection, session.MerchantId, transaction);
        await transaction.CommitAsync();

        var (access, expires) = tokens.AccessToken(sessionId, session.MerchantId, session.MerchantUuid, session.ConsumerId, now);
        return new TokenResponse(access, Tokens.RefreshToken(sessionId, next), expires, account!);
    }

    private sealed record Session(long Id, long MerchantId, Guid MerchantUuid, long? ConsumerId, byte[] RefreshTokenHash,
        DateTimeOffset ExpiresAt, DateTimeOffset? RevokedAt);

    private static async Task<(long Id, Guid Uuid)> Merchant(NpgsqlConnection connection, Guid clientId)
    {
        var merchant = await connection.QuerySingleOrDefaultAsync<(long Id, Guid Uuid)>(
            "select id, uuid from accounts.merchants where uuid = @clientId", new { clientId });
        return merchant.Id == 0 ? throw ApiException.Invalid("client_id", "is not a known merchant") : merchant;
    }
}
