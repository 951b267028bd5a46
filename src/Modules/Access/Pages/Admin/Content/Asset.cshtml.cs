using Gatehouse.Kernel;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Npgsql;

namespace Gatehouse.Access.Pages.Admin.Content;

/// <summary>
/// One asset: its details (<see cref="UpdateItem.Run"/>), deactivating and reactivating it, and its price options
/// (<see cref="SaveAccessFee.Create"/>, <see cref="SaveAccessFee.Update"/>): the API's use cases, for the signed-in merchant's
/// own assets only (anything else is a 404). A refused form comes back as typed with the reasons; a saved one redirects here.
/// </summary>
public sealed class AssetModel(NpgsqlDataSource db, TimeProvider clock) : PricedPageModel(db, clock)
{
    public ItemView Asset { get; private set; } = null!;
    public CatalogFieldsView DetailsFields => new(Form, IsAsset: true, Failed == "details" ? Errors : null);

    public Task<IActionResult> OnPostSave(long id) => Submit(id, "details", async merchantId =>
    {
        // The API keeps the title when none is sent; on this form a blank title is a mistake.
        if (string.IsNullOrWhiteSpace(Form.Title)) throw ApiException.Invalid("title", "is required");
        var request = new UpdateItem.Request(Form.Title, Form.ItemType, Form.Content, Form.MetadataMap(Asset.Metadata.Keys), IsActive: null);
        // The form sends every field, so a blank content clears it.
        await UpdateItem.Run(Db, merchantId, id, request, isSent: _ => true, Clock);
        return "Asset saved.";
    });

    public Task<IActionResult> OnPostSetActive(long id, bool active) => Submit(id, "status", async merchantId =>
    {
        await UpdateItem.Run(Db, merchantId, id, new UpdateItem.Request(null, null, null, null, IsActive: active), isSent: _ => false, Clock);
        return active ? "Asset reactivated: it is on sale again." : "Asset deactivated: it is no longer sold; existing passes keep working.";
    });

    protected override Resource Owner(long id) => Resource.Item(id);
    protected override IReadOnlyList<AccessFeeView> Fees => Asset.AccessFees;
    protected override CatalogForm SavedForm() => CatalogForm.From(Asset);
    protected override string PathOf(long id) => $"/admin/content/assets/{id}";

    protected override async Task<bool> Load(long id)
    {
        await using var connection = await Db.OpenConnectionAsync();
        if (await GetItem.ForMerchant(connection, User.MerchantId(), id) is not { } asset) return false;
        Asset = asset;
        return true;
    }
}
