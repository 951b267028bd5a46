using Gatehouse.Access.Pages.Admin;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Npgsql;

namespace Gatehouse.Reports.Pages.Admin.Reports;

/// <summary>
/// A schedule's Edit (<see cref="SaveSchedule.Update"/> with the fields the form changed, as PATCH /v2/reports/schedules/{id}
/// does; the next run follows the new timing) and Delete (<see cref="ScheduleView.Delete"/>; its reports stay until their
/// deletion dates). Another merchant's schedule is a 404.
/// </summary>
public sealed class EditScheduleModel(NpgsqlDataSource db, TimeProvider clock) : PageModel
{
    [BindProperty] public ScheduleForm Form { get; set; } = new();
    public FormErrors? Errors { get; private set; }
    [TempData] public string? Notice { get; set; }
    public ScheduleView Schedule { get; private set; } = null!;

    public async Task<IActionResult> OnGet(long id)
    {
        if (!await Load(id)) return NotFound();
        Form = ScheduleForm.From(Schedule);
        return Page();
    }

    public async Task<IActionResult> OnPost(long id)
    {
        if (!await Load(id)) return NotFound();
        if (FormErrors.From(ModelState) is { } invalid)
        {
            Errors = invalid;
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }
        try
        {
            await using var connection = await db.OpenConnectionAsync();
            var view = await SaveSchedule.Update(connection, User.MerchantId(), id, Form.ToRequest(), Form.ChangedFrom(ScheduleForm.From(Schedule)),
                clock.GetUtcNow());
            Notice = $"Schedule “{view.Name}” saved. {view.Description}.";
            return Redirect("/admin/transactions/reports");
        }
        catch (ApiException e) when (e.Status == StatusCodes.Status404NotFound)
        {
            return NotFound(); // deleted meanwhile, in another tab
        }
        catch (ApiException e)
        {
            Errors = FormErrors.From(e);
            Response.StatusCode = e.Status;
            return Page();
        }
    }

    public async Task<IActionResult> OnPostDelete(long id)
    {
        if (!await Load(id)) return NotFound();
        await using var connection = await db.OpenConnectionAsync();
        if (!await ScheduleView.Delete(connection, User.MerchantId(), id)) return NotFound();
        Notice = $"Schedule “{Schedule.Name}” deleted. The reports it generated stay until their deletion dates.";
        return Redirect("/admin/transactions/reports");
    }

    /// <summary>Loads the schedule, if it is the signed-in merchant's.</summary>
    private async Task<bool> Load(long id)
    {
        await using var connection = await db.OpenConnectionAsync();
        if (await ScheduleView.One(connection, User.MerchantId(), id) is not { } schedule) return false;
        Schedule = schedule;
        return true;
    }
}
