using System.Text.Json;
using Dapper;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Http;
using Npgsql;

namespace Gatehouse.Accounts;

/// <summary>POST /accounts: a viewer registers under a merchant's client_id and is signed in at once.</summary>
internal static class Register
{
    internal sealed record Request(
        string? FullName, string? Username, string? Email, string? Password, string? PasswordConfirmation,
        string? ClientId, string? Type, string? Referrer, Dictionary<string, string?>? Metadata);

    public static async Task<IResult> Handle(RequestBody body, NpgsqlDataSource db, Tokens tokens, TimeProvider clock)
    {
        var request = body.As<Request>();
        var errors = new FieldErrors();
        var clientId = AccountInput.ClientId(errors, request.ClientId);
        var email = AccountInput.Email(errors, "username", request.Username ?? request.Email);
        var fullName = AccountInput.FullName(errors, request.FullName, required: true);
        AccountInput.Password(errors, request.Password, request.PasswordConfirmation, confirmationRequired: true);
        AccountInput.Metadata(errors, request.Metadata);
        if (request.Type is not null and not Auth.Consumer) errors.Add("type", "only consumer accounts can register");
        if (request.Referrer?.Length > 2000) errors.Add("referrer", "must be at most 2000 characters");
        errors.ThrowIfAny();

        await using var connection = await db.OpenConnectionAsync();
        var merchant = await connection.QuerySingleOrDefaultAsync<(long Id, Guid Uuid)>(
            "select id, uuid from accounts.merchants where uuid = @clientId", new { clientId });
        if (merchant.Id == 0) throw ApiException.Invalid("client_id", "is not a known merchant");

        var now = clock.GetUtcNow();
        var passwordHash = await Passwords.Hash(request.Password!);
        var metadata = MetadataChange.Of(request.Metadata).Set;

        await using var transaction = await connection.BeginTransactionAsync();
        var consumerId = await connection.ExecuteScalarAsync<long?>(
            """
            insert into accounts.consumers (merchant_id, uuid, email, full_name, password_hash, referrer, metadata, completed, created_at, updated_at)
            values (@merchantId, @uuid, @email, @fullName, @passwordHash, @referrer, @metadata::jsonb, true, @now, @now)
            on conflict (merchant_id, lower(email)) do nothing
            returning id
            """,
            new { merchantId = merchant.Id, uuid = Guid.NewGuid(), email, fullName, passwordHash, referrer = request.Referrer, metadata, now },
            transaction);
        if (consumerId is null) throw ApiException.Conflict("An account with this email already exists");

        var account = (await AccountView.Consumer(connection, merchant.Id, consumerId.Value, transaction))!;
        await Outbox.Enqueue(connection, transaction, merchant.Id, "customer.registered", account, now);
        var (access, refresh, expires) = await tokens.StartSession(connection, transaction, merchant.Id, merchant.Uuid, consumerId);
        await transaction.CommitAsync();

        return Results.Json(new TokenResponse(access, refresh, expires, account), statusCode: StatusCodes.Status201Created);
    }
}
