using Gatehouse.Kernel;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Npgsql;

namespace Gatehouse.Access.Pages.Admin.Content;

/// <summary>
/// One package: its details and status (<see cref="Packages.Update"/>), its assets (<see cref="Packages.AddItem"/>,
/// <see cref="Packages.RemoveItem"/>) and its price options (<see cref="SaveAccessFee"/>): the API's use cases, for the
/// signed-in merchant's own packages only (anything else is a 404). A refused form comes back as typed with the reasons.
/// </summary>
public sealed class PackageModel(NpgsqlDataSource db, TimeProvider clock) : PricedPageModel(db, clock)
{
    [BindProperty] public long? AssetId { get; set; }

    public PackageView Package { get; private set; } = null!;
    public IReadOnlyList<ItemView> Assets { get; private set; } = [];
    /// <summary>The merchant's assets that are not in the package yet.</summary>
    public IReadOnlyList<CatalogChoice> AssetChoices { get; private set; } = [];
    public CatalogFieldsView DetailsFields => new(Form, IsAsset: false, Failed == "details" ? Errors : null);

    public Task<IActionResult> OnPostSave(long id) => Submit(id, "details", async merchantId =>
    {
        // The API keeps the title when none is sent; on this form a blank title is a mistake.
        if (string.IsNullOrWhiteSpace(Form.Title)) throw ApiException.Invalid("title", "is required");
        var request = new Packages.Request(Form.Title, Form.Content, Form.MetadataMap(Package.Metadata.Keys), IsActive: null);
        // The form sends every field, so a blank description clears it.
        await Packages.Update(Db, merchantId, id, request, isSent: _ => true, Clock);
        return "Package saved.";
    });

    public Task<IActionResult> OnPostSetActive(long id, bool active) => Submit(id, "status", async merchantId =>
    {
        await Packages.Update(Db, merchantId, id, new Packages.Request(null, null, null, IsActive: active), isSent: _ => false, Clock);
        return active ? "Package reactivated: it is on sale again." : "Package deactivated: it is no longer sold; existing passes keep working.";
    });

    public Task<IActionResult> OnPostAddAsset(long id) => Submit(id, "add-asset", async merchantId =>
    {
        var package = await Packages.AddItem(Db, merchantId, id, new Packages.AddItemRequest(AssetId), Clock);
        return $"Asset added: the package holds {package.Items} {(package.Items == 1 ? "asset" : "assets")}.";
    });

    public Task<IActionResult> OnPostRemoveAsset(long id, long assetId) => Submit(id, "remove-asset", async merchantId =>
    {
        var package = await Packages.RemoveItem(Db, merchantId, id, assetId);
        return $"Asset removed: the package holds {package.Items} {(package.Items == 1 ? "asset" : "assets")}.";
    });

    protected override Resource Owner(long id) => Resource.Package(id);
    protected override IReadOnlyList<AccessFeeView> Fees => Package.AccessFees;
    protected override CatalogForm SavedForm() => CatalogForm.From(Package);
    protected override string PathOf(long id) => $"/admin/content/packages/{id}";

    protected override async Task<bool> Load(long id)
    {
        var merchantId = User.MerchantId();
        await using var connection = await Db.OpenConnectionAsync();
        if (await Packages.ForMerchant(connection, merchantId, id) is not { } package) return false;
        Package = package;
        Assets = await Packages.ItemsForMerchant(connection, merchantId, id);
        var inPackage = Assets.Select(a => a.Id).ToHashSet();
        AssetChoices = (await ListItems.Choices(connection, merchantId)).Where(c => !inPackage.Contains(c.Id)).ToList();
        return true;
    }
}
