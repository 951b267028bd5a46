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
public sealed class PackageModel(NpgsqlDataSource db, TimeProvider clock) : PageModel
{
    [BindProperty] public CatalogForm Form { get; set; } = new();
    [BindProperty] public PriceOptionForm NewFee { get; set; } = new();
    [BindProperty] public PriceOptionForm EditedFee { get; set; } = new();
    [BindProperty] public long? AssetId { get; set; }

    [TempData] public string? Notice { get; set; }
    public PackageView Package { get; private set; } = null!;
    public IReadOnlyList<ItemView> Assets { get; private set; } = [];
    /// <summary>The merchant's assets that are not in the package yet.</summary>
    public IReadOnlyList<CatalogChoice> AssetChoices { get; private set; } = [];
    /// <summary>Why the last form was refused; <see cref="Failed"/> says which form it was.</summary>
    public FormErrors? Errors { get; private set; }
    public string? Failed { get; private set; }
    public long? EditedFeeId { get; private set; }

    public CatalogFieldsView DetailsFields => new(Form, IsAsset: false, Failed == "details" ? Errors : null);

    public PriceOptionsView PriceOptions => new(Package.AccessFees,
        Failed == "add-fee" ? NewFee : new PriceOptionForm(), Failed == "add-fee" ? Errors : null,
        EditedFeeId, Failed == "edit-fee" ? EditedFee : null, Failed == "edit-fee" ? Errors : null);

    public async Task<IActionResult> OnGet(long id)
    {
        if (!await Load(id)) return NotFound();
        Form = CatalogForm.From(Package);
        return Page();
    }

    public Task<IActionResult> OnPostSave(long id) => Submit(id, "details", async merchantId =>
    {
        // The API keeps the title when none is sent; on this form a blank title is a mistake.
        if (string.IsNullOrWhiteSpace(Form.Title)) throw ApiException.Invalid("title", "is required");
        var request = new Packages.Request(Form.Title, Form.Content, Form.MetadataMap(Package.Metadata.Keys), IsActive: null);
        // The form sends every field, so a blank description clears it.
        await Packages.Update(db, merchantId, id, request, isSent: _ => true, clock);
        return "Package saved.";
    });

    public Task<IActionResult> OnPostSetActive(long id, bool active) => Submit(id, "status", async merchantId =>
    {
        await Packages.Update(db, merchantId, id, new Packages.Request(null, null, null, IsActive: active), isSent: _ => false, clock);
        return active ? "Package reactivated: it is on sale again." : "Package deactivated: it is no longer sold; existing passes keep working.";
    });

    public Task<IActionResult> OnPostAddAsset(long id) => Submit(id, "add-asset", async merchantId =>
    {
        var package = await Packages.AddItem(db, merchantId, id, new Packages.AddItemRequest(AssetId), clock);
        return $"Asset added: the package holds {package.Items} {(package.Items == 1 ? "asset" : "assets")}.";
    });

    public Task<IActionResult> OnPostRemoveAsset(long id, long assetId) => Submit(id, "remove-asset", async merchantId =>
    {
        var package = await Packages.RemoveItem(db, merchantId, id, assetId);
        return $"Asset removed: the package holds {package.Items} {(package.Items == 1 ? "asset" : "assets")}.";
    });

    public Task<IActionResult> OnPostAddFee(long id) => Submit(id, "add-fee", async merchantId =>
    {
        await SaveAccessFee.Create(db, merchantId, Resource.Package(id), NewFee.ToRequest(), clock);
        return "Price option added.";
    });

    public Task<IActionResult> OnPostEditFee(long id, long feeId) => Submit(id, "edit-fee", async merchantId =>
    {
        EditedFeeId = feeId;
        await SaveAccessFee.Update(db, merchantId, OwnFee(feeId), EditedFee.ToRequest(), PriceOptionForm.Sends, clock);
        return "Price option saved.";
    });

    public Task<IActionResult> OnPostSetFeeActive(long id, long feeId, bool active) => Submit(id, "fee-status", async merchantId =>
    {
        await SaveAccessFee.Update(db, merchantId, OwnFee(feeId), PriceOptionForm.Activation(active), isSent: _ => false, clock);
        return active ? "Price option reactivated." : "Price option deactivated.";
    });

    /// <summary>Only this package's own fees are edited here.</summary>
    private long OwnFee(long feeId) => Package.AccessFees.Any(f => f.Id == feeId) ? feeId : throw ApiException.NotFound("Access fee not found");

    /// <summary>
    /// Runs one form's use case: a notice and a redirect when it succeeds, the page with the form as typed and its
    /// reasons when refused, a 404 when the package (or fee) is not the merchant's.
    /// </summary>
    private async Task<IActionResult> Submit(long id, string form, Func<long, Task<string>> change)
    {
        if (!await Load(id)) return NotFound();
        try
        {
            if (FormErrors.From(ModelState) is { } invalid) return Refused(form, invalid);
            Notice = await change(User.MerchantId());
            return Redirect($"/admin/content/packages/{id}");
        }
        catch (ApiException e) when (e.Status == StatusCodes.Status404NotFound)
        {
            return NotFound();
        }
        catch (ApiException e)
        {
            return Refused(form, FormErrors.From(e), e.Status);
        }
    }

    private PageResult Refused(string form, FormErrors errors, int status = StatusCodes.Status400BadRequest)
    {
        Failed = form;
        Errors = errors;
        if (form != "details") Form = CatalogForm.From(Package);
        Response.StatusCode = status;
        return Page();
    }

    private async Task<bool> Load(long id)
    {
        var merchantId = User.MerchantId();
        await using var connection = await db.OpenConnectionAsync();
        if (await Packages.ForMerchant(connection, merchantId, id) is not { } package) return false;
        Package = package;
        Assets = await Packages.ItemsForMerchant(connection, merchantId, id);
        var inPackage = Assets.Select(a => a.Id).ToHashSet();
        AssetChoices = (await ListItems.Choices(connection, merchantId)).Where(c => !inPackage.Contains(c.Id)).ToList();
        return true;
    }
}
