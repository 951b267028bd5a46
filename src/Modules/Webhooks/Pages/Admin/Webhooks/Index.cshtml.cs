using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Npgsql;
using Gatehouse.Kernel;

namespace Gatehouse.Webhooks.Pages.Admin.Webhooks;

/// <summary>Webhooks › Endpoints: the merchant's endpoints (<see cref="WebhookEndpoints.List"/>, as GET /v2/webhooks lists them).</summary>
public sealed class IndexModel(NpgsqlDataSource db) : PageModel
{
    [TempData] public string? Notice { get; set; }
    public IReadOnlyList<EndpointView> Endpoints { get; private set; } = [];

    public async Task OnGet()
    {
        await using var connection = await db.OpenConnectionAsync();
        Endpoints = await WebhookEndpoints.List(connection, User.MerchantId());
    }
}
