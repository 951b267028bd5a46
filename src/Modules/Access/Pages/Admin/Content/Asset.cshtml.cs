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
public sealed class AssetModel(NpgsqlDataSource db, TimeProvider clock) : PageModel
{
    [BindProperty] public CatalogForm Form { get; set; } = new();
    [BindProperty] public PriceOptionForm NewFee { get; set; } = new();
    [BindProperty] public PriceOptionForm EditedFee { get; set; } = new();

    [TempData] public string? Notice { get; set; }
    public ItemView Asset { get; private set; } = null!;
    /// <summary>Why the last form was refused; <see cref="Failed"/> says which form it was.</summary>
    public FormErrors? Errors { get; private set; }
    public string? Failed { get; private set; }
    public long? EditedFeeId { get; private set; }

    public CatalogFieldsView DetailsFields => new(Form, IsAsset: true, Failed == "details" ? Errors : null);

    public PriceOptionsView PriceOptions => new(Asset.AccessFees,
        Failed == "add-fee" ? NewFee : new PriceOptionForm(), Failed == "add-fee" ? Errors : null,
        EditedFeeId, Failed == "edit-fee" ? EditedFee : null, Failed == "edit-fee" ? Errors : null);

    public async Task<IActionResult> OnGet(long id)
    {
        if (!await Load(id)) return NotFound();
        Form = CatalogForm.From(Asset);
        return Page();
    }

    public Task<IActionResult> OnPostSave(long id) => Submit(id, "details", async merchantId =>
    {
        // The API keeps the title when none is sent; on this form a blank title is a mistake.
        if (string.IsNullOrWhiteSpace(Form.Title)) throw ApiException.Invalid("title", "is required");
        var request = new UpdateItem.Request(Form.Title, Form.ItemType, Form.Content, Form.MetadataMap(Asset.Metadata.Keys), IsActive: null);
        // The form sends every field, so a blank content clears it.
        await UpdateItem.Run(db, merchantId, id, request, isSent: _ => true, clock);
        return "Asset saved.";
    });

    public Task<IActionResult> OnPostSetActive(long id, bool active) => Submit(id, "status", async merchantId =>
    {
        await UpdateItem.Run(db, merchantId, id, new UpdateItem.Request(null, null, null, null, IsActive: active), isSent: _ => false, clock);
        return active ? "Asset reactivated: it is on sale again." : "Asset deactivated: it is no longer sold; existing passes keep working.";
    });

    public Task<IActionResult> OnPostAddFee(long id) => Submit(id, "add-fee", async merchantId =>
    {
        await SaveAccessFee.Create(db, merchantId, Resource.Item(id), NewFee.ToRequest(), clock);
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

    /// <summary>Only this asset's own fees are edited here.</summary>
    private long OwnFee(long feeId) => Asset.AccessFees.Any(f => f.Id == feeId) ? feeId : throw ApiException.NotFound("Access fee not found");

    /// <summary>
    /// Runs one form's use case: a notice and a redirect when it succeeds, the page with the form as typed and its
    /// reasons when refused, a 404 when the asset (or fee) is not the merchant's.
    /// </summary>
    private async Task<IActionResult> Submit(long id, string form, Func<long, Task<string>> change)
    {
        if (!await Load(id)) return NotFound();
        try
        {
            if (FormErrors.From(ModelState) is { } invalid) return Refused(form, invalid);
            Notice = await change(User.MerchantId());
            return Redirect($"/admin/content/assets/{id}");
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
        if (form != "details") Form = CatalogForm.From(Asset);
        Response.StatusCode = status;
        return Page();
    }

    private async Task<bool> Load(long id)
    {
        await using var connection = await db.OpenConnectionAsync();
        if (await GetItem.ForMerchant(connection, User.MerchantId(), id) is not { } asset) return false;
        Asset = asset;
        return true;
    }
}
