using Gatehouse.Kernel;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Npgsql;

namespace Gatehouse.Access.Pages.Admin.Audience;

/// <summary>The Audience section: the merchant's viewers (<see cref="SearchViewers.Run"/>), searched by email or viewer id.</summary>
public sealed class IndexModel(NpgsqlDataSource db) : PageModel
{
    public const int PageSize = 25;

    public static readonly IReadOnlyList<(string Key, string Label)> Filters = [("email", "Email"), ("viewer_id", "Viewer ID")];

    [BindProperty(SupportsGet = true)] public string Filter { get; set; } = "email";
    [BindProperty(SupportsGet = true)] public string? Q { get; set; }
    // Not "Page" (PageModel's Page() result), and from the query only: the route's own "page" value is the page's path.
    [FromQuery(Name = "page")] public int? PageNumber { get; set; }

    public FormErrors? Errors { get; private set; }
    public OffsetPage<SearchViewers.Viewer> Viewers { get; private set; } =
        OffsetPage<SearchViewers.Viewer>.Of([], 0, new PageRequest(1, PageSize));

    public async Task OnGet()
    {
        try
        {
            await using var connection = await db.OpenConnectionAsync();
            Viewers = await SearchViewers.Run(connection, User.MerchantId(), new SearchViewers.Query(Filter, Q, PageNumber, PageSize));
        }
        catch (ApiException e)
        {
            Errors = FormErrors.From(e);
            Response.StatusCode = e.Status;
        }
    }
}
