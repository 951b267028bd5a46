using System.Globalization;
using Gatehouse.Kernel;

namespace Gatehouse.Access.Pages.Admin.Content;

public sealed class MetadataRow
{
    public string? Key { get; set; }
    public string? Value { get; set; }
}

/// <summary>The details form of an asset or a package: what the API takes as title, item_type, content and metadata[k].</summary>
public sealed class CatalogForm
{
    public string? Title { get; set; }
    public string? ItemType { get; set; }
    public string? Content { get; set; }
    public List<MetadataRow> Metadata { get; set; } = [];

    public static CatalogForm From(ItemView item) =>
        new() { Title = item.Title, ItemType = item.ItemType.ContentType, Content = item.Content, Metadata = Rows(item.Metadata) };

    public static CatalogForm From(PackageView package) =>
        new() { Title = package.Title, Content = package.Content, Metadata = Rows(package.Metadata) };

    private static List<MetadataRow> Rows(IReadOnlyDictionary<string, string> metadata) =>
        metadata.Select(p => new MetadataRow { Key = p.Key, Value = p.Value }).ToList();

    /// <summary>
    /// The rows as the API's metadata: blank rows dropped, a blank value sent as null. <paramref name="current"/> are the keys
    /// stored now: a key whose row was blanked or removed is sent as null too, which removes it (the API's patch rule).
    /// </summary>
    public Dictionary<string, string?> MetadataMap(IEnumerable<string>? current = null)
    {
        var map = new Dictionary<string, string?>();
        foreach (var key in current ?? []) map[key] = null;
        foreach (var row in Metadata.Where(r => !string.IsNullOrWhiteSpace(r.Key) || !string.IsNullOrWhiteSpace(r.Value)))
            map[row.Key?.Trim() ?? ""] = string.IsNullOrEmpty(row.Value) ? null : row.Value;
        return map;
    }

    /// <summary>The rows to show: those given plus a few blank ones for new keys.</summary>
    public IReadOnlyList<MetadataRow> RowsToShow =>
        [.. Metadata.Where(r => !string.IsNullOrEmpty(r.Key) || !string.IsNullOrEmpty(r.Value)), new(), new(), new()];
}

/// <summary>A price option's form: access type, amount, currency, quantity × period, description and a subscription's trial.</summary>
public sealed class PriceOptionForm
{
    public string? AccessType { get; set; } = "ppv";
    // Text, read the way the API reads it (a dot for decimals whatever the server's culture).
    public string? Amount { get; set; }
    public string? Currency { get; set; } = "EUR";
    public int? Quantity { get; set; } = 1;
    public string? Period { get; set; } = "day";
    public string? Description { get; set; }
    public int? TrialQuantity { get; set; }
    public string? TrialPeriod { get; set; }
    public string? TrialDescription { get; set; }

    public static PriceOptionForm From(AccessFeeView fee) => new()
    {
        AccessType = fee.AccessType.Name, Amount = fee.Amount.ToString("0.00", CultureInfo.InvariantCulture), Currency = fee.Currency,
        Quantity = fee.AccessType.Quantity, Period = fee.AccessType.Period, Description = fee.Description,
        TrialQuantity = fee.TrialPeriod?.Quantity, TrialPeriod = fee.TrialPeriod?.Period, TrialDescription = fee.TrialPeriod?.Description,
    };

    internal SaveAccessFee.Request ToRequest()
    {
        decimal? amount = null;
        if (!string.IsNullOrWhiteSpace(Amount))
            amount = decimal.TryParse(Amount.Trim(), NumberStyles.Number, CultureInfo.InvariantCulture, out var parsed)
                ? parsed : throw ApiException.Invalid("amount", "must be a number");
        return new(AccessType, amount, Currency, Quantity, Period, Description, TrialQuantity,
            string.IsNullOrEmpty(TrialPeriod) ? null : TrialPeriod, TrialDescription, StartsAt: null, ExpiresAt: null, IsActive: null);
    }

    /// <summary>A patch that only deactivates or reactivates a price option.</summary>
    internal static SaveAccessFee.Request Activation(bool active) =>
        new(null, null, null, null, null, null, null, null, null, null, null, IsActive: active);

    /// <summary>What an edit sends: every field of the form, but not the fee's start and end dates, which the form does not show.</summary>
    internal static bool Sends(string field) => field is not ("starts_at" or "expires_at");
}

/// <summary>What _CatalogFields shows: the details form's fields, named Form.*, and their errors.</summary>
public sealed record CatalogFieldsView(CatalogForm Form, bool IsAsset, FormErrors? Errors);

/// <summary>
/// What _PriceOptions shows: an asset's or package's price options, each with its edit form and (de)activate button, and the
/// add form. After a refused add or edit, that form shows what was typed and why it was refused.
/// </summary>
public sealed record PriceOptionsView(
    IReadOnlyList<AccessFeeView> Fees, PriceOptionForm NewFee, FormErrors? NewFeeErrors,
    long? EditedFeeId, PriceOptionForm? EditedFee, FormErrors? EditedFeeErrors);
