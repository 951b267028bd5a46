using Gatehouse.Access.Pages.Admin;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Npgsql;

namespace Gatehouse.Reports.Pages.Admin.Reports;

/// <summary>
/// "Schedule report" (?type=payments|subscriptions|access presets the type): <see cref="SaveSchedule.Check"/> and
/// <see cref="SaveSchedule.Create"/>, as POST /v2/reports/schedules does; the schedule then shows under Scheduled reports.
/// </summary>
public sealed class NewScheduleModel(NpgsqlDataSource db, TimeProvider clock) : PageModel
{
    [BindProperty] public ScheduleForm Form { get; set; } = new();
    public FormErrors? Errors { get; private set; }
    [TempData] public string? Notice { get; set; }

    public void OnGet(string? type) => Form = ScheduleForm.New(type ?? "", clock.GetUtcNow());

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
            var now = clock.GetUtcNow();
            var schedule = SaveSchedule.Check(Form.ToRequest(), now);
            await using var connection = await db.OpenConnectionAsync();
            var view = await SaveSchedule.Create(connection, User.MerchantId(), schedule, now);
            Notice = $"Schedule “{view.Name}” saved. {view.Description}.";
            return Redirect("/admin/transactions/reports");
        }
        catch (ApiException e)
        {
            Errors = FormErrors.From(e);
            Response.StatusCode = e.Status;
            return Page();
        }
    }
}
