using System.Globalization;
using Gatehouse.Access.Pages.Admin;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Npgsql;

namespace Gatehouse.Webhooks.Pages.Admin.Webhooks;

/// <summary>
/// One endpoint of the merchant: Edit (<see cref="WebhookEndpoints.Update"/>, as PATCH /v2/webhooks/{id}), Enable and
/// Disable (the same, with enabled), Rotate secret (<see cref="WebhookEndpoints.RotateSecret"/>; the new secret is shown
/// in the answer to the POST, once), Delete (<see cref="WebhookEndpoints.Delete"/>) and Replay failed since
/// (<see cref="WebhookMessages.ReplayFailed"/>). Another merchant's endpoint is a 404. A change redirects back with a
/// notice in its section; a refused one shows the page with the reasons there.
/// </summary>
public sealed class EndpointModel(NpgsqlDataSource db, WebhookTargets targets, TimeProvider clock, WebhookDispatcher dispatcher) : PageModel
{
    /// <summary>The overlap choices of a rotation: how long the old secret keeps signing beside the new one.</summary>
    public static readonly IReadOnlyList<(int Hours, string Label)> Overlaps =
        [(24, "24 hours"), (1, "1 hour"), (72, "3 days"), (168, "7 days"), (0, "None: the old secret stops at once")];

    [BindProperty] public EndpointForm Form { get; set; } = new();

    [TempData] public string? Notice { get; set; }
    /// <summary>The section the notice is about.</summary>
    [TempData] public string? NoticeFor { get; set; }
    public FormErrors? Errors { get; private set; }
    /// <summary>The section whose form was refused: edit, status, rotate, replay or delete.</summary>
    public string? Failed { get; private set; }

    public EndpointView Endpoint { get; private set; } = null!;
    /// <summary>The secret a rotation just made, shown in its answer only, and what the rotation did.</summary>
    public string? NewSecret { get; private set; }
    public string? Rotated { get; private set; }
    /// <summary>The replay form's time, as typed or a day ago.</summary>
    public string Since { get; private set; } = "";
    public DateTimeOffset Now => clock.GetUtcNow();

    public string? NoticeIn(string section) => NoticeFor == section ? Notice : null;
    public FormErrors? ErrorsIn(string section) => Failed == section ? Errors : null;

    public async Task<IActionResult> OnGet(long id)
    {
        if (!await Load(id)) return NotFound();
        Form = EndpointForm.From(Endpoint);
        return Page();
    }

    public Task<IActionResult> OnPostSave(long id) => Submit(id, "edit", async (connection, merchantId) =>
    {
        await WebhookEndpoints.Update(connection, targets, merchantId, id, Form.ToRequest(), Now);
        return "Endpoint saved.";
    });

    public Task<IActionResult> OnPostEnable(long id) => Submit(id, "status", async (connection, merchantId) =>
    {
        await WebhookEndpoints.Update(connection, targets, merchantId, id, new WebhookEndpoints.Request(null, null, null, null, true), Now);
        dispatcher.Wake();
        return "Endpoint enabled: events held while it was disabled are being sent.";
    });

    public Task<IActionResult> OnPostDisable(long id) => Submit(id, "status", async (connection, merchantId) =>
    {
        await WebhookEndpoints.Update(connection, targets, merchantId, id, new WebhookEndpoints.Request(null, null, null, null, false), Now);
        return "Endpoint disabled: its events are held until you enable it again.";
    });

    public Task<IActionResult> OnPostReplay(long id, string? since) => Submit(id, "replay", async (connection, merchantId) =>
    {
        Since = since?.Trim() ?? "";
        if (!DateTimeOffset.TryParse(Since, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var from))
            throw ApiException.Invalid("since", "is required: the date and time (UTC) from which failed messages are sent again");
        var count = await WebhookMessages.ReplayFailed(connection, merchantId, id, from, Now);
        dispatcher.Wake();
        return count == 0
            ? $"No failed messages since {WebhooksText.Utc(from)}: nothing to send again."
            : $"{WebhooksText.Plural(count, "failed message")} since {WebhooksText.Utc(from)} sent again.";
    });

    /// <summary>A new secret, shown in this answer only (no redirect: it is never kept to be shown again).</summary>
    public async Task<IActionResult> OnPostRotate(long id, double? overlapHours)
    {
        if (!await Load(id)) return NotFound();
        Form = EndpointForm.From(Endpoint);
        try
        {
            await using (var connection = await db.OpenConnectionAsync())
                NewSecret = (await WebhookEndpoints.RotateSecret(connection, User.MerchantId(), id, overlapHours, Now)).Secret;
            await Load(id);
            Form = EndpointForm.From(Endpoint);
            Rotated = Endpoint.PreviousSecretExpiresAt is { } until && until > Now
                ? $"Secret rotated. Until {WebhooksText.Utc(until)} every delivery is signed with both the new and the old secret."
                : "Secret rotated. The old secret no longer signs deliveries.";
            Response.Headers.CacheControl = "no-store";
        }
        catch (ApiException e) when (e.Status == StatusCodes.Status404NotFound)
        {
            return NotFound();
        }
        catch (ApiException e)
        {
            (Failed, Errors) = ("rotate", FormErrors.From(e));
            Response.StatusCode = e.Status;
        }
        return Page();
    }

    public async Task<IActionResult> OnPostDelete(long id)
    {
        if (!await Load(id)) return NotFound();
        try
        {
            await using var connection = await db.OpenConnectionAsync();
            await WebhookEndpoints.Delete(connection, User.MerchantId(), id);
        }
        catch (ApiException e) when (e.Status == StatusCodes.Status404NotFound)
        {
            return NotFound(); // deleted meanwhile, in another tab
        }
        Notice = $"Endpoint {Endpoint.Url} deleted, with its delivery log.";
        NoticeFor = null;
        return Redirect("/admin/webhooks");
    }

    /// <summary>
    /// Runs one section's change: a notice and a redirect back to the section when it succeeds; the page with the reasons
    /// in that section when refused; a 404 when the endpoint is not the merchant's.
    /// </summary>
    private async Task<IActionResult> Submit(long id, string section, Func<NpgsqlConnection, long, Task<string>> change)
    {
        if (!await Load(id)) return NotFound();
        try
        {
            await using (var connection = await db.OpenConnectionAsync())
                Notice = await change(connection, User.MerchantId());
            NoticeFor = section;
            return Redirect($"/admin/webhooks/{id}#{section}");
        }
        catch (ApiException e) when (e.Status == StatusCodes.Status404NotFound)
        {
            return NotFound();
        }
        catch (ApiException e)
        {
            Notice = null;
            (Failed, Errors) = (section, FormErrors.From(e));
            if (section != "edit") Form = EndpointForm.From(Endpoint);
            Response.StatusCode = e.Status;
            return Page();
        }
    }

    /// <summary>Loads the endpoint, if it is the signed-in merchant's.</summary>
    private async Task<bool> Load(long id)
    {
        await using var connection = await db.OpenConnectionAsync();
        if (await WebhookEndpoints.One(connection, User.MerchantId(), id) is not { } endpoint) return false;
        Endpoint = endpoint;
        if (Since.Length == 0) Since = WebhooksText.DateTimeInput(Now.AddDays(-1));
        return true;
    }
}
