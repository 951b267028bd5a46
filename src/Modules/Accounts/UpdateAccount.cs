using System.Security.Claims;
using System.Text.Json;
using Dapper;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Http;
using Npgsql;

namespace Gatehouse.Accounts;

/// <summary>
/// PUT /accounts: change the full name and metadata. Metadata keys merge into what is stored;
/// a key sent blank is removed.
/// </summary>
internal static class UpdateAccount
{
    internal sealed record Request(string? FullName, Dictionary<string, string?>? Metadata);

    public static async Task<IResult> Handle(RequestBody body, ClaimsPrincipal user, NpgsqlDataSource db, TimeProvider clock)
    {
        var request = body.As<Request>();
        var errors = new FieldErrors();
        var fullName = AccountInput.FullName(errors, request.FullName, required: false);
        AccountInput.Metadata(errors, request.Metadata);
        if (fullName is null && request.Metadata is null) errors.Add("full_name", "send full_name or metadata to change");
        errors.ThrowIfAny();

        var merchantId = user.MerchantId();
        var now = clock.GetUtcNow();
        await using var connection = await db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        AccountView? account;
        if (user.IsConsumer())
        {
            var (set, removed) = MetadataChange.Of(request.Metadata);
            var updated = await connection.ExecuteAsync(
                """
                update accounts.consumers
                set full_name = coalesce(@fullName, full_name),
                    metadata = (metadata - @removed::text[]) || @set::jsonb,
                    updated_at = @now
                where merchant_id = @merchantId and id = @consumerId
                  and (select count(*) from jsonb_object_keys((metadata - @removed::text[]) || @set::jsonb)) <= @max
                """,
                new { fullName, removed, set, now, merchantId, consumerId = user.ConsumerId(),
                      max = AccountInput.MaxMetadataKeys }, transaction);
            if (updated == 0) throw ApiException.Invalid("metadata", $"can hold at most {AccountInput.MaxMetadataKeys} keys");
            account = await AccountView.Consumer(connection, merchantId, user.ConsumerId(), transaction);
        }
        else
        {
            if (request.Metadata is { Count: > 0 }) throw ApiException.Invalid("metadata", "merchant accounts keep no metadata");
            await connection.ExecuteAsync(
                "update accounts.merchants set name = coalesce(@fullName, name), updated_at = @now where id = @merchantId",
                new { fullName, now, merchantId }, transaction);
            account = await AccountView.Merchant(connection, merchantId, transaction);
        }
        await transaction.CommitAsync();
        return Results.Ok(account);
    }
}
