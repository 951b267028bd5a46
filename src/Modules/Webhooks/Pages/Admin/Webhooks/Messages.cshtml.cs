using Gatehouse.Access.Pages.Admin;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Npgsql;

namespace Gatehouse.Webhooks.Pages.Admin.Webhooks;

/// <summary>Webhooks › Delivery log: the merchant's messages, newest first, filtered by event type, status and endpoint, a
/// page at a time (<see cref="WebhookMessages.List"/>, as GET /v2/webhooks/messages lists them).</summary>
public sealed class MessagesModel(NpgsqlDataSource db) : PageModel
{
    public const int PageSize = 25;

    [FromQuery(Name = "event_type")] public string? EventType { get; set; }
    [FromQuery(Name = "status")] public string? Status { get; set; }
    [FromQuery(Name = "endpoint_id")] public long? EndpointId { get; set; }
    // Not "Page" (PageModel's Page() result), and from the query only: the route's own "page" value is the page's path.
    [FromQuery(Name = "page")] public int? PageNumber { get; set; }

    public FormErrors? Errors { get; private set; }
    public IReadOnlyList<EndpointView> Endpoints { get; private set; } = [];
    public OffsetPage<MessageView> Messages { get; private set; } = OffsetPage<MessageView>.Of([], 0, new PageRequest(1, PageSize));

    public bool Filtered => !string.IsNullOrEmpty(EventType) || !string.IsNullOrEmpty(Status) || EndpointId is not null;

    public async Task OnGet()
    {
        var merchantId = User.MerchantId();
        await using var connection = await db.OpenConnectionAsync();
        Endpoints = await WebhookEndpoints.List(connection, merchantId);
        try
        {
            if (FormErrors.From(ModelState) is { } invalid) throw ApiException.Invalid(invalid.Fields);
            Messages = await WebhookMessages.List(connection, merchantId,
                new WebhookMessages.Query(EndpointId, NullIfEmpty(Status), NullIfEmpty(EventType), PageNumber, PageSize));
        }
        catch (ApiException e)
        {
            Errors = FormErrors.From(e);
            Response.StatusCode = e.Status;
        }
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
