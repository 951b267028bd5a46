using System.Text.Json;
using Dapper;
using Gatehouse.Kernel;
using Npgsql;

namespace Gatehouse.Accounts;

/// <summary>The account object of InPlayer's API (times in Unix seconds).</summary>
public sealed record AccountView(
    long Id,
    string Email,
    string FullName,
    string? Referrer,
    IReadOnlyDictionary<string, string> Metadata,
    IReadOnlyList<string> Roles,
    bool Completed,
    long MerchantId,
    Guid MerchantUuid,
    Guid Uuid,
    long CreatedAt,
    long UpdatedAt)
{
    private sealed record ConsumerRow(long Id, string Email, string FullName, string? Referrer, string Metadata,
        bool Completed, long MerchantId, Guid MerchantUuid, Guid Uuid, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

    private sealed record MerchantRow(long Id, string Email, string Name, Guid Uuid, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

    public static async Task<AccountView?> Consumer(NpgsqlConnection connection, long merchantId, long consumerId,
        NpgsqlTransaction? transaction = null)
    {
        var row = await connection.QuerySingleOrDefaultAsync<ConsumerRow>(
            """
            select c.id, c.email, c.full_name, c.referrer, c.metadata::text as metadata, c.completed,
                   c.merchant_id, m.uuid as merchant_uuid, c.uuid, c.created_at, c.updated_at
            from accounts.consumers c
            join accounts.merchants m on m.id = c.merchant_id
            where c.merchant_id = @merchantId and c.id = @consumerId
            """, new { merchantId, consumerId }, transaction);
        return row is null ? null : new AccountView(row.Id, row.Email, row.FullName, row.Referrer,
            JsonSerializer.Deserialize<Dictionary<string, string>>(row.Metadata) ?? [],
            [Auth.Consumer], row.Completed, row.MerchantId, row.MerchantUuid, row.Uuid,
            row.CreatedAt.ToUnixTimeSeconds(), row.UpdatedAt.ToUnixTimeSeconds());
    }

    public static async Task<AccountView?> Merchant(NpgsqlConnection connection, long merchantId,
        NpgsqlTransaction? transaction = null)
    {
        var row = await connection.QuerySingleOrDefaultAsync<MerchantRow>(
            "select id, email, name, uuid, created_at, updated_at from accounts.merchants where id = @merchantId",
            new { merchantId }, transaction);
        return row is null ? null : new AccountView(row.Id, row.Email, row.Name, null, new Dictionary<string, string>(),
            [Auth.Merchant], true, row.Id, row.Uuid, row.Uuid,
            row.CreatedAt.ToUnixTimeSeconds(), row.UpdatedAt.ToUnixTimeSeconds());
    }
}
