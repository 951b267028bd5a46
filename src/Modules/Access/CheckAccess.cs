using System.Security.Claims;
using Dapper;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Http;
using Npgsql;

namespace Gatehouse.Access;

/// <summary>
/// GET /items/{id}/access (viewer token): the hot path of every play. 200 with the item-access object, content
/// included, when the viewer holds a live pass for the item or for a package containing it; 402 otherwise.
/// One indexed query answers both the pass and the item.
/// </summary>
internal static class CheckAccess
{
    /// <summary>InPlayer's item-access object (times in Unix seconds).</summary>
    internal sealed record ItemAccessView(long Id, long AccountId, long CustomerId, Guid CustomerUuid, string? IpAddress,
        string? CountryCode, long CreatedAt, long StartsAt, long ExpiresAt, string Type, long? PackageId, ItemView Item);

    private sealed record Row(long Id, long? PackageId, string Type, DateTimeOffset CreatedAt, DateTimeOffset StartsAt,
        DateTimeOffset ExpiresAt, Guid CustomerUuid, long MerchantId, Guid MerchantUuid, string Title, string ItemType,
        string Metadata, string Content, DateTimeOffset ItemCreatedAt, DateTimeOffset ItemUpdatedAt);

    /// <summary>The one query of the access check; bench/ runs this same text through pgbench as the reference.</summary>
    internal const string Query = """
            with live as (
                select p.id, p.package_id, p.type, p.created_at, p.starts_at, p.expires_at
                from access.passes p
                where p.consumer_id = @consumerId and p.item_id = @id
                  and p.revoked_at is null and p.starts_at <= @now and p.expires_at > @now
                union all
                select p.id, p.package_id, p.type, p.created_at, p.starts_at, p.expires_at
                from access.package_items pi
                join access.passes p on p.consumer_id = @consumerId and p.package_id = pi.package_id
                where pi.item_id = @id
                  and p.revoked_at is null and p.starts_at <= @now and p.expires_at > @now
            )
            select l.id, l.package_id, l.type, l.created_at, l.starts_at, l.expires_at, c.uuid as customer_uuid,
                   i.merchant_id, m.uuid as merchant_uuid, i.title, i.item_type, i.metadata::text as metadata, i.content,
                   i.created_at as item_created_at, i.updated_at as item_updated_at
            from live l
            join access.items i on i.id = @id and i.merchant_id = @merchantId
            join accounts.merchants m on m.id = i.merchant_id
            join accounts.consumers c on c.id = @consumerId
            order by l.expires_at desc
            limit 1
            """;

    public static async Task<IResult> Handle(long id, ClaimsPrincipal user, NpgsqlDataSource db, TimeProvider clock, HttpContext http)
    {
        var consumerId = user.ConsumerId();
        var merchantId = user.MerchantId();
        await using var connection = await db.OpenConnectionAsync();
        var row = await connection.QuerySingleOrDefaultAsync<Row>(Query, new { consumerId, id, merchantId, now = clock.GetUtcNow() });
        if (row is null) throw ApiException.RequestFailed("You do not have access to this item");

        var item = new ItemView(id, row.MerchantId, row.MerchantUuid, true, row.Title, ItemTypeView.For(row.ItemType),
            Catalog.Metadata(row.Metadata), row.Content, [], row.ItemCreatedAt.ToUnixTimeSeconds(), row.ItemUpdatedAt.ToUnixTimeSeconds());
        return Results.Ok(new ItemAccessView(row.Id, consumerId, consumerId, row.CustomerUuid,
            http.Connection.RemoteIpAddress?.ToString(), null, row.CreatedAt.ToUnixTimeSeconds(),
            row.StartsAt.ToUnixTimeSeconds(), row.ExpiresAt.ToUnixTimeSeconds(), row.Type, row.PackageId, item));
    }
}
