using System.Security.Claims;
using Microsoft.Extensions.DependencyInjection;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Npgsql;

namespace Gatehouse.Access.Pages.Admin.Access;

/// <summary>The Bulk actions tab: templates, upload, and the jobs with their progress and per-row results.</summary>
public sealed class BulkModel(NpgsqlDataSource db, TimeProvider clock, IServiceScopeFactory scopes) : PageModel
{
    public OffsetPage<BulkJobView> Jobs { get; private set; } = null!;
    public string? Error { get; private set; }
    [TempData] public string? Flash { get; set; }
    // "page" is also Razor Pages' own route value, so it is read from the query string explicitly.
    [FromQuery(Name = "page")] public int? PageNumber { get; set; }
    public bool AnyRunning => Jobs.Collection.Any(j => !BulkJobView.Finished.Contains(j.Status));

    public async Task OnGet()
    {
        await using var connection = await db.OpenConnectionAsync();
        Jobs = await BulkJobView.List(connection, User.MerchantId(), PageRequest.From(PageNumber is > 0 ? PageNumber : 1, 20));
    }

    public IActionResult OnGetTemplate(string action)
    {
        try
        {
            return File(System.Text.Encoding.UTF8.GetBytes(UploadBulkFile.Template(action)), "text/csv", $"gatehouse-bulk-{action}-template.csv");
        }
        catch (ApiException)
        {
            return NotFound();
        }
    }

    public async Task<IActionResult> OnPostUpload(IFormFile? file, string? action, bool dryRun, bool applyValidRows)
    {
        try
        {
            if (file is null || file.Length == 0) throw ApiException.BadRequest("Choose the CSV file to upload");
            if (file.Length > UploadBulkFile.MaxBytes) throw new ApiException(413, "The file is larger than 20 MB; split it into smaller files");
            using var buffer = new MemoryStream();
            await file.CopyToAsync(buffer);
            var actor = $"admin:{User.AdminUserId()}:{User.FindFirstValue(ClaimTypes.Email)}";
            var job = await UploadBulkFile.Submit(db, clock, scopes, User.MerchantId(), actor,
                new UploadBulkFile.Upload(action, file.FileName, buffer.ToArray(), dryRun, applyValidRows));
            Flash = $"Uploaded {job.FileName} as bulk job {job.Id}{(dryRun ? " (dry run)" : "")}.";
            return RedirectToPage();
        }
        catch (ApiException e)
        {
            Error = e.Errors is { Count: > 0 } errors ? string.Join(" ", errors.Select(p => $"{p.Key} {p.Value}.")) : e.Message;
            Response.StatusCode = e.Status;
            await OnGet();
            return Page();
        }
    }

    public async Task<IActionResult> OnGetResults(long id)
    {
        await using var connection = await db.OpenConnectionAsync();
        var job = await BulkJobView.One(connection, User.MerchantId(), id);
        if (job is null) return NotFound();
        Response.ContentType = "text/csv; charset=utf-8";
        Response.Headers.ContentDisposition = $"attachment; filename=\"bulk-{job.Id}-{job.Action}-results.csv\"";
        await BulkJobView.WriteResults(connection, job.Id, Response.Body, HttpContext.RequestAborted);
        return new EmptyResult();
    }
}
