using Carter;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Webhooks;

public static class WebhooksModule
{
    /// <summary>The admin section this module owns (Webhooks), the dispatcher every instance runs, and its pump.</summary>
    public static WebApplicationBuilder AddWebhooks(this WebApplicationBuilder builder)
    {
        builder.Services.AddAdminLink("Webhooks", "/admin/webhooks", order: 700);
        builder.Services.AddSingleton<WebhookTargets>();
        builder.Services.AddSingleton<WebhookDispatcher>();
        builder.Services.AddHostedService(services => services.GetRequiredService<WebhookDispatcher>());
        builder.Services.AddTransient<PumpWebhooks>();
        return builder;
    }
}

/// <summary>Webhook endpoints, the delivery log and replays (merchant).</summary>
public sealed class WebhooksRoutes : ICarterModule
{
    public void AddRoutes(IEndpointRouteBuilder app)
    {
        var webhooks = app.MapGroup("/v2/webhooks").WithTags("Webhooks").RequireAuthorization(Auth.Merchant);
        webhooks.MapGet("/event-types", () => WebhookEndpoints.EventTypes).WithSummary("The event types an endpoint can ask for").Produces<string[]>();
        webhooks.MapPost("", WebhookEndpoints.HandleCreate)
            .WithSummary("Add an endpoint: url, event_types (none: all), format standard (Standard Webhooks) or inplayer; the answer carries the secret, shown once")
            .AcceptsBody<WebhookEndpoints.Request>().Produces<EndpointView>(StatusCodes.Status201Created).Produces<ApiError>(400);
        webhooks.MapGet("", WebhookEndpoints.HandleList).WithSummary("The merchant's endpoints").Produces<IReadOnlyList<EndpointView>>();
        webhooks.MapGet("/{id:long}", WebhookEndpoints.HandleOne).WithSummary("An endpoint").Produces<EndpointView>().Produces<ApiError>(404);
        webhooks.MapPatch("/{id:long}", WebhookEndpoints.HandleUpdate)
            .WithSummary("Change an endpoint; enabled=true sends what was held while it was disabled")
            .AcceptsBody<WebhookEndpoints.Request>().Produces<EndpointView>().Produces<ApiError>(400).Produces<ApiError>(404);
        webhooks.MapDelete("/{id:long}", WebhookEndpoints.HandleDelete).WithSummary("Remove an endpoint and its log").Produces(204).Produces<ApiError>(404);
        webhooks.MapPost("/{id:long}/rotate-secret", WebhookEndpoints.HandleRotate)
            .WithSummary("A new secret (shown once); the old one also signs for overlap_hours (default 24)")
            .AcceptsBody<WebhookEndpoints.RotateRequest>().Produces<EndpointView>().Produces<ApiError>(400).Produces<ApiError>(404);
        webhooks.MapPost("/{id:long}/replay", WebhookMessages.HandleReplayFailed)
            .WithSummary("Send again every failed message of the endpoint created since the given time (?since=ISO 8601)")
            .Produces<WebhookMessages.ReplayCount>(StatusCodes.Status202Accepted).Produces<ApiError>(400).Produces<ApiError>(404).Produces<ApiError>(409);
        webhooks.MapGet("/messages", WebhookMessages.HandleList)
            .WithSummary("The delivery log, newest first: endpoint_id, status (pending, delivering, held, delivered, failed), event_type")
            .Produces<OffsetPage<MessageView>>().Produces<ApiError>(400);
        webhooks.MapGet("/messages/{id:long}", WebhookMessages.HandleOne).WithSummary("A message with its payload and every attempt")
            .Produces<WebhookMessages.Detail>().Produces<ApiError>(404);
        webhooks.MapPost("/messages/{id:long}/replay", WebhookMessages.HandleReplay).WithSummary("Send a message again (the same webhook-id)")
            .Produces<WebhookMessages.ReplayCount>(StatusCodes.Status202Accepted).Produces<ApiError>(404).Produces<ApiError>(409);
    }
}
