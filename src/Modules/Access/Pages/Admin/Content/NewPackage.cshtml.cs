using Gatehouse.Kernel;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Npgsql;

namespace Gatehouse.Access.Pages.Admin.Content;

/// <summary>A new package, made by <see cref="Packages.Create"/> as POST /v2/items/packages makes it; assets and prices come next.</summary>
public sealed class NewPackageModel(NpgsqlDataSource db, TimeProvider clock) : PageModel
{
    [BindProperty] public CatalogForm Form { get; set; } = new();
    [TempData] public string? Notice { get; set; }
    public FormErrors? Errors { get; private set; }

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPost()
    {
        try
        {
            if (FormErrors.From(ModelState) is { } invalid) return Refused(invalid, 400);
            var package = await Packages.Create(db, User.MerchantId(),
                new Packages.Request(Form.Title, Form.Content, Form.MetadataMap(), IsActive: null), clock);
            Notice = $"Package “{package.Title}” created. Add its assets and a price option.";
            return Redirect($"/admin/content/packages/{package.Id}");
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
