using Gatehouse.Kernel;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Npgsql;

namespace Gatehouse.Access.Pages.Admin.Content;

/// <summary>The Content section's asset list: <see cref="ListItems.Run"/>, searched by title, type and status, a page at a time.</summary>
public sealed class IndexModel(NpgsqlDataSource db) : PageModel
{
    public const int PageSize = 20;

    [BindProperty(SupportsGet = true)] public string? Search { get; set; }
    [BindProperty(SupportsGet = true)] public string? Type { get; set; }
    [BindProperty(SupportsGet = true)] public string Status { get; set; } = "all";
    // Not "Page" (PageModel's Page() result), and from the query only: the route's own "page" value is the page's path.
    [FromQuery(Name = "page")] public int? PageNumber { get; set; }

    [TempData] public string? Notice { get; set; }
    public FormErrors? Errors { get; private set; }
    public OffsetPage<ItemView> Assets { get; private set; } = OffsetPage<ItemView>.Of([], 0, new PageRequest(1, PageSize));

    public async Task OnGet()
    {
        try
        {
            bool? isActive = Status switch
            {
                "active" => true,
                "inactive" => false,
                "all" => null,
                _ => throw ApiException.Invalid("status", "must be all, active or inactive"),
            };
            Assets = await ListItems.Run(db, User.MerchantId(),
                new ListItems.Query(Search, string.IsNullOrEmpty(Type) ? null : Type, isActive, PageNumber, PageSize));
        }
        catch (ApiException e)
        {
            Errors = FormErrors.From(e);
            Response.StatusCode = e.Status;
        }
    }
}
