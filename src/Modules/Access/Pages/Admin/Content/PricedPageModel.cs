using Gatehouse.Kernel;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Npgsql;

namespace Gatehouse.Access.Pages.Admin.Content;

/// <summary>
/// What the asset and package pages share: the details form, the price options of what they show (added, edited,
/// deactivated through <see cref="SaveAccessFee"/>), and how each form is submitted: a notice and a redirect when
/// it succeeds, the page with the form as typed and its reasons when refused, a 404 when it is not the merchant's.
/// </summary>
public abstract class PricedPageModel(NpgsqlDataSource db, TimeProvider clock) : PageModel
{
    protected NpgsqlDataSource Db { get; } = db;
    protected TimeProvider Clock { get; } = clock;

    [BindProperty] public CatalogForm Form { get; set; } = new();
    [BindProperty] public PriceOptionForm NewFee { get; set; } = new();
    [BindProperty] public PriceOptionForm EditedFee { get; set; } = new();

    [TempData] public string? Notice { get; set; }
    /// <summary>Why the last form was refused; <see cref="Failed"/> says which form it was.</summary>
    public FormErrors? Errors { get; private set; }
    public string? Failed { get; private set; }
    public long? EditedFeeId { get; private set; }

    /// <summary>Loads what the page shows, if it is the signed-in merchant's.</summary>
    protected abstract Task<bool> Load(long id);
    protected abstract Resource Owner(long id);
    protected abstract IReadOnlyList<AccessFeeView> Fees { get; }
    protected abstract CatalogForm SavedForm();
    protected abstract string PathOf(long id);

    public PriceOptionsView PriceOptions => new(Fees,
        Failed == "add-fee" ? NewFee : new PriceOptionForm(), Failed == "add-fee" ? Errors : null,
        EditedFeeId, Failed == "edit-fee" ? EditedFee : null, Failed == "edit-fee" ? Errors : null);

    public async Task<IActionResult> OnGet(long id)
    {
        if (!await Load(id)) return NotFound();
        Form = SavedForm();
        return Page();
    }

    public Task<IActionResult> OnPostAddFee(long id) => Submit(id, "add-fee", async merchantId =>
    {
        await SaveAccessFee.Create(Db, merchantId, Owner(id), NewFee.ToRequest(), Clock);
        return "Price option added.";
    });

    public Task<IActionResult> OnPostEditFee(long id, long feeId) => Submit(id, "edit-fee", async merchantId =>
    {
        EditedFeeId = feeId;
        await SaveAccessFee.Update(Db, merchantId, OwnFee(feeId), EditedFee.ToRequest(), PriceOptionForm.Sends, Clock);
        return "Price option saved.";
    });

    public Task<IActionResult> OnPostSetFeeActive(long id, long feeId, bool active) => Submit(id, "fee-status", async merchantId =>
    {
        await SaveAccessFee.Update(Db, merchantId, OwnFee(feeId), PriceOptionForm.Activation(active), isSent: _ => false, Clock);
        return active ? "Price option reactivated." : "Price option deactivated.";
    });

    /// <summary>Only the fees of what this page shows are edited here.</summary>
    private long OwnFee(long feeId) => Fees.Any(f => f.Id == feeId) ? feeId : throw ApiException.NotFound("Access fee not found");

    protected async Task<IActionResult> Submit(long id, string form, Func<long, Task<string>> change)
    {
        if (!await Load(id)) return NotFound();
        try
        {
            if (FormErrors.From(ModelState) is { } invalid) return Refused(form, invalid);
            Notice = await change(User.MerchantId());
            return Redirect(PathOf(id));
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
        if (form != "details") Form = SavedForm();
        Response.StatusCode = status;
        return Page();
    }
}
