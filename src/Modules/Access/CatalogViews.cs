using System.Text.Json;
using System.Text.Json.Serialization;
using Dapper;
using Npgsql;

namespace Gatehouse.Access;

/// <summary>InPlayer's item_type object.</summary>
public sealed record ItemTypeView(int Id, string Name, string ContentType, string Host, string Description)
{
    public static readonly string[] Names = ["html", "video", "file", "rss"];

    public static ItemTypeView For(string type) => type switch
    {
        "html" => new(1, "html_asset", "html", "inplayer", "HTML/Text asset"),
        "video" => new(2, "video_asset", "video", "inplayer", "Video asset"),
        "file" => new(3, "file_asset", "file", "inplayer", "Downloadable file"),
        "rss" => new(4, "rss_asset", "rss", "inplayer", "RSS feed"),
        "package" => new(5, "package", "package", "inplayer", "Package of assets"),
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };
}

public sealed record AccessTypeView(int Id, string Name, int Quantity, string Period);

public sealed record TrialPeriodView(int Quantity, string Period, string? Description);

/// <summary>What an access fee says about what it sells: the item, or the package as a "package" item.</summary>
public sealed record FeeItemView(long Id, long MerchantId, string Title, bool IsActive, ItemTypeView ItemType);

/// <summary>InPlayer's AccessFee (times in Unix seconds).</summary>
public sealed record AccessFeeView(
    long Id, long MerchantId, long? ItemId, long? PackageId, decimal Amount, string Currency, string Description,
    AccessTypeView AccessType, FeeItemView Item, TrialPeriodView? TrialPeriod, long? StartsAt, long? ExpiresAt,
    bool IsActive, long CreatedAt, long UpdatedAt);

/// <summary>
/// InPlayer's Item. <c>content</c> is the protected part: only the merchant and the access check see it,
/// so it is left out of public reads.
/// </summary>
public sealed record ItemView(
    long Id, long MerchantId, Guid MerchantUuid, bool IsActive, string Title, ItemTypeView ItemType,
    IReadOnlyDictionary<string, string> Metadata,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Content,
    IReadOnlyList<AccessFeeView> AccessFees, long CreatedAt, long UpdatedAt)
{
    /// <summary>InPlayer's SDK types also read the metadata as <c>metahash</c>.</summary>
    public IReadOnlyDictionary<string, string> Metahash => Metadata;
}

public sealed record PackageView(
    long Id, long MerchantId, Guid MerchantUuid, bool IsActive, string Title, string Content, ItemTypeView ItemType,
    IReadOnlyDictionary<string, string> Metadata, int Items, IReadOnlyList<AccessFeeView> AccessFees,
    long CreatedAt, long UpdatedAt);

/// <summary>An asset or package as a pick list offers it.</summary>
public sealed record CatalogChoice(long Id, string Title, bool IsActive);

/// <summary>Loads the catalog's views: set-based, one query per kind of row whatever the number of ids.</summary>
public static class Catalog
{
    private sealed record ItemRow(long Id, long MerchantId, Guid MerchantUuid, bool IsActive, string Title, string ItemType,
        string Metadata, string Content, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

    private sealed record PackageRow(long Id, long MerchantId, Guid MerchantUuid, bool IsActive, string Title, string Content,
        string Metadata, int Items, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

    private sealed record FeeRow(long Id, long MerchantId, long? ItemId, long? PackageId, decimal Amount, string Currency,
        string Description, string AccessType, int PeriodQuantity, string Period, int? TrialQuantity, string? TrialPeriod,
        string? TrialDescription, DateTimeOffset? StartsAt, DateTimeOffset? ExpiresAt, bool IsActive,
        DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, string ForTitle, bool ForIsActive, string ForType);

    public static Dictionary<string, string> Metadata(string json) =>
        JsonSerializer.Deserialize<Dictionary<string, string>>(json) ?? [];

    /// <summary>Items by id, in the order given; <paramref name="merchantId"/> null means any merchant (public reads).</summary>
    public static async Task<IReadOnlyList<ItemView>> Items(NpgsqlConnection connection, long? merchantId, long[] ids,
        bool withContent, bool activeFeesOnly, NpgsqlTransaction? transaction = null)
    {
        var rows = (await connection.QueryAsync<ItemRow>(
            """
            select i.id, i.merchant_id, m.uuid as merchant_uuid, i.is_active, i.title, i.item_type, i.metadata::text as metadata,
                   i.content, i.created_at, i.updated_at
            from access.items i join accounts.merchants m on m.id = i.merchant_id
            where i.id = any(@ids) and (@merchantId::bigint is null or i.merchant_id = @merchantId)
            """, new { ids, merchantId }, transaction)).ToDictionary(r => r.Id);
        var fees = (await Fees(connection, rows.Keys.ToArray(), [], activeFeesOnly, transaction)).ToLookup(f => f.ItemId);
        return ids.Where(rows.ContainsKey).Select(id => rows[id]).Select(r => new ItemView(
            r.Id, r.MerchantId, r.MerchantUuid, r.IsActive, r.Title, ItemTypeView.For(r.ItemType), Metadata(r.Metadata),
            withContent ? r.Content : null, fees[r.Id].ToList(), r.CreatedAt.ToUnixTimeSeconds(), r.UpdatedAt.ToUnixTimeSeconds()))
            .ToList();
    }

    public static async Task<IReadOnlyList<PackageView>> Packages(NpgsqlConnection connection, long? merchantId, long[] ids,
        bool activeFeesOnly, NpgsqlTransaction? transaction = null)
    {
        var rows = (await connection.QueryAsync<PackageRow>(
            """
            select p.id, p.merchant_id, m.uuid as merchant_uuid, p.is_active, p.title, p.content, p.metadata::text as metadata,
                   (select count(*)::int from access.package_items pi where pi.package_id = p.id) as items,
                   p.created_at, p.updated_at
            from access.packages p join accounts.merchants m on m.id = p.merchant_id
            where p.id = any(@ids) and (@merchantId::bigint is null or p.merchant_id = @merchantId)
            """, new { ids, merchantId }, transaction)).ToDictionary(r => r.Id);
        var fees = (await Fees(connection, [], rows.Keys.ToArray(), activeFeesOnly, transaction)).ToLookup(f => f.PackageId);
        return ids.Where(rows.ContainsKey).Select(id => rows[id]).Select(r => new PackageView(
            r.Id, r.MerchantId, r.MerchantUuid, r.IsActive, r.Title, r.Content, ItemTypeView.For("package"), Metadata(r.Metadata),
            r.Items, fees[r.Id].ToList(), r.CreatedAt.ToUnixTimeSeconds(), r.UpdatedAt.ToUnixTimeSeconds()))
            .ToList();
    }

    public static async Task<IReadOnlyList<AccessFeeView>> Fees(NpgsqlConnection connection, long[] itemIds, long[] packageIds,
        bool activeOnly, NpgsqlTransaction? transaction = null, long[]? feeIds = null)
    {
        var rows = await connection.QueryAsync<FeeRow>(
            """
            select f.id, f.merchant_id, f.item_id, f.package_id, f.amount, f.currency, f.description, f.access_type,
                   f.period_quantity, f.period, f.trial_quantity, f.trial_period, f.trial_description, f.starts_at, f.expires_at,
                   f.is_active, f.created_at, f.updated_at,
                   coalesce(i.title, p.title) as for_title, coalesce(i.is_active, p.is_active) as for_is_active,
                   coalesce(i.item_type, 'package') as for_type
            from access.access_fees f
            left join access.items i on i.id = f.item_id
            left join access.packages p on p.id = f.package_id
            where (f.item_id = any(@itemIds) or f.package_id = any(@packageIds) or f.id = any(@feeIds))
              and (not @activeOnly or f.is_active)
            order by f.id
            """, new { itemIds, packageIds, feeIds = feeIds ?? [], activeOnly }, transaction);
        return rows.Select(f => new AccessFeeView(
            f.Id, f.MerchantId, f.ItemId, f.PackageId, f.Amount, f.Currency.Trim(), f.Description,
            new AccessTypeView(f.AccessType == "ppv" ? 1 : 2, f.AccessType, f.PeriodQuantity, f.Period),
            new FeeItemView(f.ItemId ?? f.PackageId!.Value, f.MerchantId, f.ForTitle, f.ForIsActive, ItemTypeView.For(f.ForType)),
            f.TrialQuantity is { } q ? new TrialPeriodView(q, f.TrialPeriod!, f.TrialDescription) : null,
            f.StartsAt?.ToUnixTimeSeconds(), f.ExpiresAt?.ToUnixTimeSeconds(), f.IsActive,
            f.CreatedAt.ToUnixTimeSeconds(), f.UpdatedAt.ToUnixTimeSeconds())).ToList();
    }
}
