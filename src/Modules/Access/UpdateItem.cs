using System.Security.Claims;
using Dapper;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Http;
using Npgsql;

namespace Gatehouse.Access;

/// <summary>
/// PATCH /v2/items/{id} (merchant): change what is sent; <c>is_active=false</c> deactivates the asset
/// (it stays for existing passes and reports, but is no longer sold). Metadata merges; a blank value removes a key.
/// </summary>
internal static class UpdateItem
{
    internal sealed record Request(string? Title, string? ItemType, string? Content, Dictionary<string, string?>? Metadata, bool? IsActive);

    public static async Task<IResult> Handle(long id, RequestBody body, ClaimsPrincipal user, NpgsqlDataSource db, TimeProvider clock) =>
        Results.Ok(await Run(db, user.MerchantId(), id, body.As<Request>(), body.Has, clock));

    /// <summary>
    /// The use case, shared by the API and the admin's asset page. <paramref name="isSent"/> says which fields the caller
    /// sent (snake_case names): a blank content that was sent clears it, one that was not keeps it.
    /// </summary>
    public static async Task<ItemView> Run(NpgsqlDataSource db, long merchantId, long id, Request request, Func<string, bool> isSent,
        TimeProvider clock)
    {
        var errors = new FieldErrors();
        var title = CatalogInput.Title(errors, request.Title, required: false);
        if (request.ItemType is not null && !ItemTypeView.Names.Contains(request.ItemType))
            errors.Add("item_type", "must be one of html, video, file, rss");
        CatalogInput.Content(errors, request.Content);
        CatalogInput.Metadata(errors, request.Metadata);
        errors.ThrowIfAny();

        var (set, removed) = MetadataChange.Of(request.Metadata);
        await using var connection = await db.OpenConnectionAsync();
        var updated = await connection.ExecuteAsync(
            """
            update access.items
            set title = coalesce(@title, title), item_type = coalesce(@itemType, item_type),
                content = case when @hasContent then coalesce(@content, '') else content end,
                metadata = (metadata - @removed::text[]) || @set::jsonb,
                is_active = coalesce(@isActive, is_active), updated_at = @now
            where id = @id and merchant_id = @merchantId
            """,
            new { title, itemType = request.ItemType, hasContent = isSent("content"), content = request.Content,
                  removed, set, isActive = request.IsActive,
                  now = clock.GetUtcNow(), id, merchantId });
        if (updated == 0) throw ApiException.NotFound("Item not found");
        return (await Catalog.Items(connection, merchantId, [id], withContent: true, activeFeesOnly: false))[0];
    }
}
