using Gatehouse.Kernel;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Npgsql;

namespace Gatehouse.Reports.Pages.Admin.Reports;

/// <summary>
/// Transactions › View reports: Generated reports (the payments and subscriptions reports made on demand, and those of
/// deleted schedules, newest first)
/// and Scheduled reports (every schedule, whatever its type, with its description, next run, Edit and Delete, and the
/// files its runs generated), as GET /v2/reports and GET /v2/reports/schedules list them.
/// </summary>
public sealed class TransactionReportsModel(NpgsqlDataSource db) : PageModel
{
    private const int PageSize = 20;
    // Retention keeps at most 10 days of a schedule's runs: with daily runs, 11 files.
    private const int FilesPerSchedule = 20;

    // "page" is also Razor Pages' own route value, so it is read from the query string explicitly.
    [FromQuery(Name = "page")] public int? PageNumber { get; set; }
    [TempData] public string? Notice { get; set; }
    [TempData] public string? Failure { get; set; }

    public OffsetPage<ReportView> Generated { get; private set; } = OffsetPage<ReportView>.Of([], 0, new PageRequest(1, PageSize));
    public OffsetPage<ScheduleView> Schedules { get; private set; } = OffsetPage<ScheduleView>.Of([], 0, new PageRequest(1, 100));
    private Dictionary<long, IReadOnlyList<ReportView>> _files = [];

    private string Here => Request.Path + Request.QueryString;

    public ReportList GeneratedList => new("Generated reports", Generated.Collection,
        "No reports generated yet. Click “Generate report” on the Payments or Subscriptions tab to make one.", Here);

    public ReportList FilesOf(ScheduleView schedule) => new($"Reports of {schedule.Name}", _files[schedule.Id],
        schedule.NextRunAt is { } next ? $"No reports yet: the next is generated on {ReportsText.Utc(next)}." : "No reports kept.", Here);

    public bool InProgress => GeneratedList.InProgress || _files.Values.Any(files => files.Any(ReportsText.InProgress));

    public async Task OnGet()
    {
        var merchantId = User.MerchantId();
        await using var connection = await db.OpenConnectionAsync();
        // A deleted schedule's reports stay until they expire: they are listed here, with those made on demand.
        Generated = await ReportView.List(connection, merchantId, ["payments", "subscriptions"], null, null,
            PageRequest.From(PageNumber is > 0 ? PageNumber : 1, PageSize), ofSchedule: false);
        Schedules = await ScheduleView.List(connection, merchantId, [], new PageRequest(1, 100));
        foreach (var schedule in Schedules.Collection)
            _files[schedule.Id] = (await ReportView.List(connection, merchantId, [], schedule.Id, null, new PageRequest(1, FilesPerSchedule))).Collection;
    }
}
