using System.Security.Claims;
using Dapper;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Http;
using Npgsql;

namespace Gatehouse.Access;

/// <summary>POST /v2/items (merchant): a new asset.</summary>
internal static class CreateItem
{
    internal sealed record Request(string? Title, string? ItemType, string? Content, Dictionary<string, string?>? Metadata, bool? IsActive);

    public static async Task<IResult> Handle(RequestBody body, ClaimsPrincipal user, NpgsqlDataSource db, TimeProvider clock) =>
        Results.Json(await Run(db, user.MerchantId(), body.As<Request>(), clock), statusCode: StatusCodes.Status201Created);

    /// <summary>The use case itself, shared by the API and the admin's "New asset" page.</summary>
    public static async Task<ItemView> Run(NpgsqlDataSource db, long merchantId, Request request, TimeProvider clock)
    {
        var errors = new FieldErrors();
        var title = CatalogInput.Title(errors, request.Title, required: true);
        if (request.ItemType is null) errors.Add("item_type", "is required");
        else if (!ItemTypeView.Names.Contains(request.ItemType)) errors.Add("item_type", "must be one of html, video, file, rss");
        CatalogInput.Content(errors, request.Content);
        CatalogInput.Metadata(errors, request.Metadata);
        errors.ThrowIfAny();

        var now = clock.GetUtcNow();
        await using var connection = await db.OpenConnectionAsync();
        var id = await connection.ExecuteScalarAsync<long>(
            """
            insert into access.items (merchant_id, title, item_type, content, metadata, is_active, created_at, updated_at)
            values (@merchantId, @title, @itemType, @content, @metadata::jsonb, @isActive, @now, @now)
            returning id
            """,
            new { merchantId, title, itemType = request.ItemType, content = request.Content ?? "",
                  metadata = MetadataChange.Of(request.Metadata).Set, isActive = request.IsActive ?? true, now });
        return (await Catalog.Items(connection, merchantId, [id], withContent: true, activeFeesOnly: false))[0];
    }
}
