using System.Security.Claims;
using Dapper;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Http;
using Npgsql;

namespace Gatehouse.Access;

/// <summary>
/// Packages: groups of assets sold together. Merchant: POST /v2/items/packages, PATCH /v2/items/packages/{id},
/// GET /v2/items/packages, POST /v2/items/packages/{id}/items (item_id), DELETE /v2/items/packages/{id}/items/{item_id}.
/// Public: GET /items/packages/{id}, GET /items/packages/{id}/items.
/// </summary>
internal static class Packages
{
    internal sealed record Request(string? Title, string? Content, Dictionary<string, string?>? Metadata, bool? IsActive);
    internal sealed record AddItemRequest(long? ItemId);

    public static async Task<IResult> HandleCreate(RequestBody body, ClaimsPrincipal user, NpgsqlDataSource db, TimeProvider clock) =>
        Results.Json(await Create(db, user.MerchantId(), body.As<Request>(), clock), statusCode: StatusCodes.Status201Created);

    public static async Task<PackageView> Create(NpgsqlDataSource db, long merchantId, Request request, TimeProvider clock)
    {
        var errors = new FieldErrors();
        var title = CatalogInput.Title(errors, request.Title, required: true);
        CatalogInput.Content(errors, request.Content);
        CatalogInput.Metadata(errors, request.Metadata);
        errors.ThrowIfAny();
        var now = clock.GetUtcNow();
        await using var connection = await db.OpenConnectionAsync();
        var id = await connection.ExecuteScalarAsync<long>(
            """
            insert into access.packages (merchant_id, title, content, metadata, is_active, created_at, updated_at)
            values (@merchantId, @title, @content, @metadata::jsonb, @isActive, @now, @now) returning id
            """,
            new { merchantId, title, content = request.Content ?? "", metadata = MetadataChange.Of(request.Metadata).Set,
                  isActive = request.IsActive ?? true, now });
        return (await Catalog.Packages(connection, merchantId, [id], activeFeesOnly: false))[0];
    }

    public static async Task<IResult> HandleUpdate(long id, RequestBody body, ClaimsPrincipal user, NpgsqlDataSource db, TimeProvider clock) =>
        Results.Ok(await Update(db, user.MerchantId(), id, body.As<Request>(), body.Has, clock));

    /// <summary>Changes what is sent; <paramref name="isSent"/> tells a blank content that clears from one not sent.</summary>
    public static async Task<PackageView> Update(NpgsqlDataSource db, long merchantId, long id, Request request,
        Func<string, bool> isSent, TimeProvider clock)
    {
        var errors = new FieldErrors();
        var title = CatalogInput.Title(errors, request.Title, required: false);
        CatalogInput.Content(errors, request.Content);
        CatalogInput.Metadata(errors, request.Metadata);
        errors.ThrowIfAny();
        var (set, removed) = MetadataChange.Of(request.Metadata);
        await using var connection = await db.OpenConnectionAsync();
        var updated = await connection.ExecuteAsync(
            """
            update access.packages
            set title = coalesce(@title, title), content = case when @hasContent then coalesce(@content, '') else content end,
                metadata = (metadata - @removed::text[]) || @set::jsonb, is_active = coalesce(@isActive, is_active), updated_at = @now
            where id = @id and merchant_id = @merchantId
            """,
            new { title, hasContent = isSent("content"), content = request.Content, removed,
                  set, isActive = request.IsActive, now = clock.GetUtcNow(), id, merchantId });
        if (updated == 0) throw ApiException.NotFound("Package not found");
        return (await Catalog.Packages(connection, merchantId, [id], activeFeesOnly: false))[0];
    }

    public static async Task<IResult> HandleList(ClaimsPrincipal user, NpgsqlDataSource db, string? search, int? page, int? limit) =>
        Results.Ok(await List(db, user.MerchantId(), search, page, limit));

    public static async Task<OffsetPage<PackageView>> List(NpgsqlDataSource db, long merchantId, string? search, int? page, int? limit)
    {
        var paging = PageRequest.From(page, limit);
        var filter = new { merchantId, search = LikePattern.Containing(search), limit = paging.Size, offset = paging.Offset };
        const string where = "where merchant_id = @merchantId and (@search::text is null or lower(title) like @search)";
        await using var connection = await db.OpenConnectionAsync();
        var total = await connection.ExecuteScalarAsync<long>($"select count(*) from access.packages {where}", filter);
        var ids = (await connection.QueryAsync<long>($"select id from access.packages {where} order by id desc limit @limit offset @offset", filter)).ToArray();
        return OffsetPage<PackageView>.Of(await Catalog.Packages(connection, merchantId, ids, activeFeesOnly: false), total, paging);
    }

    /// <summary>One of the merchant's own packages (any state, every fee), or null.</summary>
    public static async Task<PackageView?> ForMerchant(NpgsqlConnection connection, long merchantId, long id) =>
        (await Catalog.Packages(connection, merchantId, [id], activeFeesOnly: false)).SingleOrDefault();

    /// <summary>The assets in one of the merchant's packages, active or not, in the order they were added.</summary>
    public static async Task<IReadOnlyList<ItemView>> ItemsForMerchant(NpgsqlConnection connection, long merchantId, long id)
    {
        var ids = (await connection.QueryAsync<long>(
            """
            select item_id from access.package_items where package_id = @id and merchant_id = @merchantId
            order by added_at, item_id
            """, new { id, merchantId })).ToArray();
        return await Catalog.Items(connection, merchantId, ids, withContent: false, activeFeesOnly: false);
    }

    /// <summary>Every package of the merchant as (id, title, active), by title, for the admin's pickers.</summary>
    public static async Task<IReadOnlyList<CatalogChoice>> Choices(NpgsqlConnection connection, long merchantId) =>
        (await connection.QueryAsync<CatalogChoice>(
            "select id, title, is_active from access.packages where merchant_id = @merchantId order by lower(title), id",
            new { merchantId })).ToList();

    public static async Task<IResult> HandleAddItem(long id, RequestBody body, ClaimsPrincipal user, NpgsqlDataSource db, TimeProvider clock) =>
        Results.Ok(await AddItem(db, user.MerchantId(), id, body.As<AddItemRequest>(), clock));

    public static async Task<PackageView> AddItem(NpgsqlDataSource db, long merchantId, long id, AddItemRequest request, TimeProvider clock)
    {
        if (request.ItemId is null or < 1) throw ApiException.Invalid("item_id", "is required");
        await using var connection = await db.OpenConnectionAsync();
        var found = await connection.QuerySingleAsync<(bool Package, bool Item)>(
            """
            select exists (select 1 from access.packages where id = @id and merchant_id = @merchantId),
                   exists (select 1 from access.items where id = @itemId and merchant_id = @merchantId)
            """, new { id, itemId = request.ItemId, merchantId });
        if (!found.Package) throw ApiException.NotFound("Package not found");
        if (!found.Item) throw ApiException.Invalid("item_id", "is not one of your items");
        await connection.ExecuteAsync(
            """
            insert into access.package_items (merchant_id, package_id, item_id, added_at) values (@merchantId, @id, @itemId, @now)
            on conflict do nothing
            """, new { merchantId, id, itemId = request.ItemId, now = clock.GetUtcNow() });
        return (await Catalog.Packages(connection, merchantId, [id], activeFeesOnly: false))[0];
    }

    public static async Task<IResult> HandleRemoveItem(long id, long itemId, ClaimsPrincipal user, NpgsqlDataSource db) =>
        Results.Ok(await RemoveItem(db, user.MerchantId(), id, itemId));

    public static async Task<PackageView> RemoveItem(NpgsqlDataSource db, long merchantId, long id, long itemId)
    {
        await using var connection = await db.OpenConnectionAsync();
        var removed = await connection.ExecuteAsync(
            "delete from access.package_items where package_id = @id and item_id = @itemId and merchant_id = @merchantId",
            new { id, itemId, merchantId });
        if (removed == 0) throw ApiException.NotFound("The item is not in this package");
        return (await Catalog.Packages(connection, merchantId, [id], activeFeesOnly: false))[0];
    }

    public static async Task<IResult> Public(long id, NpgsqlDataSource db)
    {
        await using var connection = await db.OpenConnectionAsync();
        var package = (await Catalog.Packages(connection, null, [id], activeFeesOnly: true)).SingleOrDefault();
        return package is { IsActive: true } ? Results.Ok(package) : throw ApiException.NotFound("Package not found");
    }

    public static async Task<IResult> PublicItems(long id, NpgsqlDataSource db, int? page, int? limit)
    {
        var paging = PageRequest.From(page, limit);
        await using var connection = await db.OpenConnectionAsync();
        var active = await connection.ExecuteScalarAsync<bool>("select exists (select 1 from access.packages where id = @id and is_active)", new { id });
        if (!active) throw ApiException.NotFound("Package not found");
        var total = await connection.ExecuteScalarAsync<long>(
            "select count(*) from access.package_items pi join access.items i on i.id = pi.item_id where pi.package_id = @id and i.is_active", new { id });
        var ids = (await connection.QueryAsync<long>(
            """
            select pi.item_id from access.package_items pi join access.items i on i.id = pi.item_id
            where pi.package_id = @id and i.is_active order by pi.added_at, pi.item_id limit @limit offset @offset
            """, new { id, limit = paging.Size, offset = paging.Offset })).ToArray();
        return Results.Ok(OffsetPage<ItemView>.Of(await Catalog.Items(connection, null, ids, withContent: false, activeFeesOnly: true), total, paging));
    }
}
