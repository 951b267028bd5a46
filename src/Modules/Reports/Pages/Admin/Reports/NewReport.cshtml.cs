using System.Security.Claims;
using Gatehouse.Access.Pages.Admin;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Gatehouse.Reports.Pages.Admin.Reports;

/// <summary>
/// "Generate report" for the three types (?type=access|payments|subscriptions): <see cref="RequestReport.Check"/> and
/// <see cref="RequestReport.Queue"/>, as POST /v2/reports does, then the report worker starts at once and the admin goes to
/// the list the report appears in (Access reports, or Transactions › Reports) to watch it and download it.
/// </summary>
public sealed class NewReportModel(NpgsqlDataSource db, TimeProvider clock, IServiceScopeFactory scopes) : PageModel
{
    [BindProperty] public ReportForm Form { get; set; } = new();
    public FormErrors? Errors { get; private set; }
    [TempData] public string? Notice { get; set; }

    /// <summary>The type asked for; none (an unknown one): the page asks which.</summary>
    public ReportType? KnownType => ReportType.Find(Form.Type);

    public void OnGet(string? type) => Form = ReportForm.New(type ?? "", clock.GetUtcNow());

    public async Task<IActionResult> OnPost()
    {
        if (FormErrors.From(ModelState) is { } invalid)
        {
            Errors = invalid;
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }
        try
        {
            var report = RequestReport.Check(Form.ToRequest());
            await using (var connection = await db.OpenConnectionAsync())
                await RequestReport.Queue(connection, null, User.MerchantId(), report,
                    $"admin:{User.AdminUserId()}:{User.FindFirstValue(ClaimTypes.Email)}", clock.GetUtcNow());
            RunReports.StartNow(scopes);
            Notice = $"Generating “{report.Name}”: download it here once it is ready. Reports are kept for 10 days.";
            return Redirect(ReportModel.ListOf(report.Options.Type.Key));
        }
        catch (ApiException e)
        {
            Errors = FormErrors.From(e);
            Response.StatusCode = e.Status;
            return Page();
        }
    }

    /// <summary>Where the report was asked from: the Access tab, or the Transactions tab of its type.</summary>
    public static string BackTo(string? type) => type switch
    {
        "payments" => "/admin/transactions",
        "subscriptions" => "/admin/transactions/subscriptions",
        _ => "/admin/access",
    };

    public static string BackLabel(string? type) => type switch
    {
        "payments" => "Payments",
        "subscriptions" => "Subscriptions",
        _ => "Access",
    };
}
