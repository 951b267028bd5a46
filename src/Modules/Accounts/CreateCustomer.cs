using System.Security.Claims;
using System.Text.Json;
using Dapper;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Http;
using Npgsql;

namespace Gatehouse.Accounts;

/// <summary>
/// POST /v2/accounts/customers (merchant token): create a viewer for the merchant, for example before
/// granting access. Without a password the account is not completed and cannot sign in with one.
/// </summary>
internal static class CreateCustomer
{
    internal sealed record Request(string? Email, string? FullName, string? Password, Dictionary<string, string?>? Metadata);

    public static async Task<IResult> Handle(RequestBody body, ClaimsPrincipal user, NpgsqlDataSource db, TimeProvider clock)
    {
        var request = body.As<Request>();
        var errors = new FieldErrors();
        var email = AccountInput.Email(errors, "email", request.Email);
        var fullName = AccountInput.FullName(errors, request.FullName, required: false);
        if (request.Password is not null) AccountInput.Password(errors, request.Password, null, confirmationRequired: false);
        AccountInput.Metadata(errors, request.Metadata);
        errors.ThrowIfAny();

        var merchantId = user.MerchantId();
        var now = clock.GetUtcNow();
        var metadata = MetadataChange.Of(request.Metadata).Set;
        // Hashed before the transaction opens, so no row lock waits on it.
        var passwordHash = request.Password is null ? null : await Passwords.Hash(request.Password);

        await using var connection = await db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var consumerId = await connection.ExecuteScalarAsync<long?>(
            """
            insert into accounts.consumers (merchant_id, uuid, email, full_name, password_hash, metadata, completed, created_at, updated_at)
            values (@merchantId, @uuid, @email, @fullName, @passwordHash, @metadata::jsonb, @completed, @now, @now)
            on conflict (merchant_id, lower(email)) do nothing
            returning id
            """,
            new
            {
                merchantId, uuid = Guid.NewGuid(), email, fullName = fullName ?? email!.Split('@')[0],
                passwordHash,
                metadata, completed = request.Password is not null, now,
            }, transaction);
        if (consumerId is null) throw ApiException.Conflict("An account with this email already exists");

        var account = (await AccountView.Consumer(connection, merchantId, consumerId.Value, transaction))!;
        await Outbox.Enqueue(connection, transaction, merchantId, "customer.registered", account, now);
        await transaction.CommitAsync();
        return Results.Json(account, statusCode: StatusCodes.Status201Created);
    }
}
