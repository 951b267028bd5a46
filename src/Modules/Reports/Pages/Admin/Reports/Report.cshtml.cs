using Gatehouse.Kernel;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Npgsql;

namespace Gatehouse.Reports.Pages.Admin.Reports;

/// <summary>
/// A report's Download (<see cref="DownloadReport.Write"/>, as GET /v2/reports/{id}/download streams it) and Delete
/// (<see cref="ReportView.Delete"/>) for the signed-in admin's merchant; another merchant's report is a 404.
/// </summary>
public sealed class ReportModel(NpgsqlDataSource db) : PageModel
{
    [TempData] public string? Notice { get; set; }
    [TempData] public string? Failure { get; set; }

    /// <summary>The report's own address has nothing to show: back to the list it is in.</summary>
    public async Task<IActionResult> OnGet(long id)
    {
        await using var connection = await db.OpenConnectionAsync();
        var report = await ReportView.One(connection, User.MerchantId(), id);
        return report is null ? NotFound() : Redirect(ListOf(report.Type));
    }

    public async Task<IActionResult> OnGetDownload(long id)
    {
        await using var connection = await db.OpenConnectionAsync();
        try
        {
            await DownloadReport.Write(connection, User.MerchantId(), id, Response, HttpContext.RequestAborted);
            return new EmptyResult();
        }
        catch (ApiException e) when (e.Status == StatusCodes.Status404NotFound)
        {
            return NotFound();
        }
        catch (ApiException e)
        {
            // Not ready (or failed): nothing was written yet, so back to the list with the reason.
            Failure = e.Message + ".";
            var report = await ReportView.One(connection, User.MerchantId(), id);
            return Redirect(ListOf(report?.Type ?? "access"));
        }
    }

    public async Task<IActionResult> OnPostDelete(long id, string? returnUrl)
    {
        await using var connection = await db.OpenConnectionAsync();
        var report = await ReportView.One(connection, User.MerchantId(), id);
        if (report is null || !await ReportView.Delete(connection, User.MerchantId(), id)) return NotFound();
        Notice = $"Report “{report.Name}” deleted.";
        return Redirect(returnUrl is not null && Url.IsLocalUrl(returnUrl) ? returnUrl : ListOf(report.Type));
    }

    public static string ListOf(string type) => type == "access" ? "/admin/access/reports" : "/admin/transactions/reports";
}
