using System.Text.Json;
using Gatehouse.Access.Pages.Admin;

namespace Gatehouse.Webhooks.Pages.Admin.Webhooks;

/// <summary>The endpoint fields as the Add and Edit forms post them: the event types are the ticked boxes (none: all).</summary>
public sealed class EndpointForm
{
    public string? Url { get; set; }
    public string? Description { get; set; }
    public string Format { get; set; } = "standard";
    public List<string> EventTypes { get; set; } = [];

    /// <summary>The API's request: event_types always sent, so that unticking every box means all events.</summary>
    public WebhookEndpoints.Request ToRequest() =>
        new(Url ?? "", JsonSerializer.SerializeToElement(EventTypes), Format, Description ?? "", Enabled: null);

    public static EndpointForm From(EndpointView endpoint) => new()
    {
        Url = endpoint.Url, Description = endpoint.Description, Format = endpoint.Format, EventTypes = endpoint.EventTypes.ToList(),
    };
}

/// <summary>The fields partial's model: the form as typed and why it was refused.</summary>
public sealed record EndpointFieldsView(EndpointForm Form, FormErrors? Errors);
