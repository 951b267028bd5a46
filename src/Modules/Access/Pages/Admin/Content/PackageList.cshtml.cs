using Gatehouse.Kernel;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Npgsql;

namespace Gatehouse.Access.Pages.Admin.Content;

/// <summary>The Content section's package list: <see cref="Packages.List"/>, searched by title, a page at a time.</summary>
public sealed class PackageListModel(NpgsqlDataSource db) : PageModel
{
    public const int PageSize = 20;

    [BindProperty(SupportsGet = true)] public string? Search { get; set; }
    // Not "Page" (PageModel's Page() result), and from the query only: the route's own "page" value is the page's path.
    [FromQuery(Name = "page")] public int? PageNumber { get; set; }

    [TempData] public string? Notice { get; set; }
    public FormErrors? Errors { get; private set; }
    public OffsetPage<PackageView> Packages { get; private set; } = OffsetPage<PackageView>.Of([], 0, new PageRequest(1, PageSize));

    public async Task OnGet()
    {
        try
        {
            Packages = await Gatehouse.Access.Packages.List(db, User.MerchantId(), Search, PageNumber, PageSize);
        }
        catch (ApiException e)
        {
            Errors = FormErrors.From(e);
            Response.StatusCode = e.Status;
        }
    }
}
