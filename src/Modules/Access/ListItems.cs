using System.Security.Claims;
using Dapper;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Http;
using Npgsql;

namespace Gatehouse.Access;

/// <summary>GET /v2/items?search=&amp;item_type=&amp;is_active=&amp;page=&amp;limit= (merchant): its assets, newest first.</summary>
internal static class ListItems
{
    public sealed record Query(string? Search, string? ItemType, bool? IsActive, int? Page, int? Limit);

    public static async Task<IResult> Handle(ClaimsPrincipal user, NpgsqlDataSource db, string? search,
        [Microsoft.AspNetCore.Mvc.FromQuery(Name = "item_type")] string? itemType,
        [Microsoft.AspNetCore.Mvc.FromQuery(Name = "is_active")] bool? isActive, int? page, int? limit) =>
        Results.Ok(await Run(db, user.MerchantId(), new Query(search, itemType, isActive, page, limit)));

    /// <summary>The use case, shared by the API and the admin's asset list.</summary>
    public static async Task<OffsetPage<ItemView>> Run(NpgsqlDataSource db, long merchantId, Query query)
    {
        var paging = PageRequest.From(query.Page, query.Limit);
        if (query.ItemType is not null && !ItemTypeView.Names.Contains(query.ItemType))
            throw ApiException.Invalid("item_type", "must be one of html, video, file, rss");
        if (query.Search?.Length > 250) throw ApiException.Invalid("search", "must be at most 250 characters");
        var filter = new { merchantId, search = LikePattern.Containing(query.Search), itemType = query.ItemType, isActive = query.IsActive,
                           limit = paging.Size, offset = paging.Offset };
        const string where = """
            where merchant_id = @merchantId and (@search::text is null or lower(title) like @search)
              and (@itemType::text is null or item_type = @itemType) and (@isActive::boolean is null or is_active = @isActive)
            """;
        await using var connection = await db.OpenConnectionAsync();
        var total = await connection.ExecuteScalarAsync<long>($"select count(*) from access.items {where}", filter);
        var ids = (await connection.QueryAsync<long>($"select id from access.items {where} order by id desc limit @limit offset @offset", filter)).ToArray();
        var items = await Catalog.Items(connection, merchantId, ids, withContent: false, activeFeesOnly: false);
        return OffsetPage<ItemView>.Of(items, total, paging);
    }

    /// <summary>
    /// Every asset of the merchant as (id, title, active), by title: what the admin's asset pickers offer
    /// (a package's "add an asset", a viewer's "grant access").
    /// </summary>
    public static async Task<IReadOnlyList<CatalogChoice>> Choices(NpgsqlConnection connection, long merchantId) =>
        (await connection.QueryAsync<CatalogChoice>(
            "select id, title, is_active from access.items where merchant_id = @merchantId order by lower(title), id",
            new { merchantId })).ToList();
}
