using Gatehouse.Kernel;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Npgsql;

namespace Gatehouse.Reports.Pages.Admin.Reports;

/// <summary>
/// Access › Access reports: the merchant's access reports, newest first (<see cref="ReportView.List"/>, as
/// GET /v2/reports?type=access lists them), with their progress while they are generated and their file once ready.
/// </summary>
public sealed class AccessReportsModel(NpgsqlDataSource db) : PageModel
{
    private const int PageSize = 20;

    // "page" is also Razor Pages' own route value, so it is read from the query string explicitly.
    [FromQuery(Name = "page")] public int? PageNumber { get; set; }
    [TempData] public string? Notice { get; set; }
    [TempData] public string? Failure { get; set; }

    public OffsetPage<ReportView> Reports { get; private set; } = OffsetPage<ReportView>.Of([], 0, new PageRequest(1, PageSize));

    public ReportList List => new("Access reports", Reports.Collection,
        "No access reports yet. Click “Generate report” to make one.", Request.Path + Request.QueryString);

    public async Task OnGet()
    {
        await using var connection = await db.OpenConnectionAsync();
        Reports = await ReportView.List(connection, User.MerchantId(), ["access"], null, null, PageRequest.From(PageNumber is > 0 ? PageNumber : 1, PageSize));
    }
}
