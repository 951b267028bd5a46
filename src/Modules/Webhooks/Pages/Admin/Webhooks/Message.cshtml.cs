using Gatehouse.Access.Pages.Admin;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Npgsql;

namespace Gatehouse.Webhooks.Pages.Admin.Webhooks;

/// <summary>One message of the delivery log with its payload and every attempt (<see cref="WebhookMessages.One"/>, as
/// GET /v2/webhooks/messages/{id}), and Replay (<see cref="WebhookMessages.Replay"/>). Another merchant's message is a 404.</summary>
public sealed class MessageModel(NpgsqlDataSource db, TimeProvider clock, WebhookDispatcher dispatcher) : PageModel
{
    [TempData] public string? Notice { get; set; }
    public FormErrors? Errors { get; private set; }
    public WebhookMessages.Detail Detail { get; private set; } = null!;

    /// <summary>Whether Replay is offered: not while the message is queued or on its way.</summary>
    public bool CanReplay => Detail.Message.Status is not ("pending" or "delivering");

    public async Task<IActionResult> OnGet(long id) => await Load(id) ? Page() : NotFound();

    public async Task<IActionResult> OnPostReplay(long id)
    {
        if (!await Load(id)) return NotFound();
        try
        {
            await using (var connection = await db.OpenConnectionAsync())
                await WebhookMessages.Replay(connection, User.MerchantId(), id, clock.GetUtcNow());
            dispatcher.Wake();
            Notice = $"Message {Detail.Message.WebhookId} queued to be sent again, with the same webhook-id.";
            return Redirect($"/admin/webhooks/messages/{id}");
        }
        catch (ApiException e) when (e.Status == StatusCodes.Status404NotFound)
        {
            return NotFound();
        }
        catch (ApiException e)
        {
            Errors = FormErrors.From(e);
            Response.StatusCode = e.Status;
            return Page();
        }
    }

    private async Task<bool> Load(long id)
    {
        await using var connection = await db.OpenConnectionAsync();
        if (await WebhookMessages.One(connection, User.MerchantId(), id) is not { } detail) return false;
        Detail = detail;
        return true;
    }
}
