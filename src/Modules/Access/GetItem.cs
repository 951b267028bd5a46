using System.Security.Claims;
using Dapper;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Http;
using Npgsql;

namespace Gatehouse.Access;

/// <summary>
/// Item reads. Public (as InPlayer's): GET /items/{id} and GET /items/{merchant_uuid}/{id} answer an active item
/// without its content and with its active fees. Merchant: GET /v2/items/{id} answers any of its own items in full.
/// </summary>
internal static class GetItem
{
    public static async Task<IResult> Public(long id, NpgsqlDataSource db)
    {
        await using var connection = await db.OpenConnectionAsync();
        var item = (await Catalog.Items(connection, null, [id], withContent: false, activeFeesOnly: true)).SingleOrDefault();
        return item is { IsActive: true } ? Results.Ok(item) : throw ApiException.NotFound("Item not found");
    }

    public static async Task<IResult> PublicOfMerchant(Guid merchantUuid, long id, NpgsqlDataSource db)
    {
        await using var connection = await db.OpenConnectionAsync();
        var item = (await Catalog.Items(connection, null, [id], withContent: false, activeFeesOnly: true)).SingleOrDefault();
        return item is { IsActive: true } && item.MerchantUuid == merchantUuid ? Results.Ok(item) : throw ApiException.NotFound("Item not found");
    }

    public static async Task<IResult> OfMerchant(long id, ClaimsPrincipal user, NpgsqlDataSource db)
    {
        await using var connection = await db.OpenConnectionAsync();
        var item = await ForMerchant(connection, user.MerchantId(), id);
        return item is null ? throw ApiException.NotFound("Item not found") : Results.Ok(item);
    }

    /// <summary>One of the merchant's own items in full (content, every fee), or null: the API read and the admin's asset page.</summary>
    public static async Task<ItemView?> ForMerchant(NpgsqlConnection connection, long merchantId, long id) =>
        (await Catalog.Items(connection, merchantId, [id], withContent: true, activeFeesOnly: false)).SingleOrDefault();

    /// <summary>GET /v2/items/{id}/access-fees and /items/{id}/access-fees: an active item's active fees (public).</summary>
    public static async Task<IResult> AccessFees(long id, NpgsqlDataSource db)
    {
        await using var connection = await db.OpenConnectionAsync();
        var active = await connection.ExecuteScalarAsync<bool>("select exists (select 1 from access.items where id = @id and is_active)", new { id });
        if (!active) throw ApiException.NotFound("Item not found");
        return Results.Ok(await Catalog.Fees(connection, [id], [], activeOnly: true));
    }
}
