using Gatehouse.Kernel;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Npgsql;

namespace Gatehouse.Access.Pages.Admin.Content;

/// <summary>A new asset, made by <see cref="CreateItem.Run"/> as POST /v2/items makes it; its price options come next, on its page.</summary>
public sealed class NewAssetModel(NpgsqlDataSource db, TimeProvider clock) : PageModel
{
    [BindProperty] public CatalogForm Form { get; set; } = new() { ItemType = "video" };
    [TempData] public string? Notice { get; set; }
    public FormErrors? Errors { get; private set; }

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPost()
    {
        if (FormErrors.From(ModelState) is { } invalid) return Refused(invalid, 400);
        try
        {
            var asset = await CreateItem.Run(db, User.MerchantId(),
                new CreateItem.Request(Form.Title, Form.ItemType, Form.Content, Form.MetadataMap(), IsActive: null), clock);
            Notice = $"Asset “{asset.Title}” created. Add a price option to sell it.";
            return Redirect($"/admin/content/assets/{asset.Id}");
        }
        catch (ApiException e)
        {
            return Refused(FormErrors.From(e), e.Status);
        }
    }

    private PageResult Refused(FormErrors errors, int status)
    {
        Errors = errors;
        Response.StatusCode = status;
        return Page();
    }
}
