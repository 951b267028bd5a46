using Gatehouse.Access.Pages.Admin;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Npgsql;

namespace Gatehouse.Webhooks.Pages.Admin.Webhooks;

/// <summary>
/// "Add endpoint": <see cref="WebhookEndpoints.Create"/>, as POST /v2/webhooks does. The answer to the POST is the page
/// showing the new endpoint's secret, once: it is not kept anywhere it could be shown from again (no redirect through
/// TempData), and the endpoint's own page never shows it.
/// </summary>
public sealed class NewEndpointModel(NpgsqlDataSource db, WebhookTargets targets, TimeProvider clock) : PageModel
{
    [BindProperty] public EndpointForm Form { get; set; } = new();
    public FormErrors? Errors { get; private set; }
    /// <summary>The endpoint just added, with its secret.</summary>
    public EndpointView? Created { get; private set; }

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPost()
    {
        try
        {
            await using var connection = await db.OpenConnectionAsync();
            Created = await WebhookEndpoints.Create(connection, targets, User.MerchantId(), Form.ToRequest(), clock.GetUtcNow());
            // The secret is in this answer only: no browser or proxy cache may keep it.
            Response.Headers.CacheControl = "no-store";
        }
        catch (ApiException e)
        {
            Errors = FormErrors.From(e);
            Response.StatusCode = e.Status;
        }
        return Page();
    }
}
