using Gatehouse.Access.Pages.Admin;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Npgsql;

namespace Gatehouse.Payments.Pages.Admin.Transactions;

/// <summary>
/// Transactions › Subscriptions: the merchant's subscriptions, newest first, searched by viewer email or voucher code and
/// filtered by status and creation day with <see cref="ListSubscriptions.Run"/> (as GET /v2/subscriptions lists them).
/// Each row opens the subscription's page.
/// </summary>
public sealed class SubscriptionsModel(NpgsqlDataSource db) : PageModel
{
    public const int PageSize = 25;

    [BindProperty(SupportsGet = true)] public string? Q { get; set; }
    [BindProperty(SupportsGet = true)] public string? Status { get; set; }
    [FromQuery(Name = "start_date")] public DateOnly? StartDate { get; set; }
    [FromQuery(Name = "end_date")] public DateOnly? EndDate { get; set; }
    [FromQuery(Name = "page")] public int? PageNumber { get; set; }

    public FormErrors? Errors { get; private set; }
    public OffsetPage<SubscriptionView> Subscriptions { get; private set; } = OffsetPage<SubscriptionView>.Of([], 0, new PageRequest(1, PageSize));

    public bool Filtered => !string.IsNullOrWhiteSpace(Q) || !string.IsNullOrWhiteSpace(Status) || StartDate is not null || EndDate is not null;

    public async Task OnGet()
    {
        if (FormErrors.From(ModelState) is { } invalid)
        {
            Errors = invalid;
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }
        try
        {
            await using var connection = await db.OpenConnectionAsync();
            Subscriptions = await ListSubscriptions.Run(connection, User.MerchantId(), null, new ListSubscriptions.Query(Q, Status,
                TransactionsText.StartOfDay(StartDate), TransactionsText.StartOfDay(EndDate), PageNumber, PageSize), ListSubscriptions.BaseUrl(HttpContext));
        }
        catch (ApiException e)
        {
            Errors = FormErrors.From(e);
            Response.StatusCode = e.Status;
        }
    }
}
