using Gatehouse.Access.Pages.Admin;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Npgsql;

namespace Gatehouse.Payments.Pages.Admin.Transactions;

/// <summary>
/// Transactions › Payments: every payment of the merchant, newest first, with the voucher each one used, searched and
/// filtered with <see cref="ListPayments.Run"/> (as GET /payments/transactions lists them). The search lives in the query
/// string, so a search is a shareable URL.
/// </summary>
public sealed class IndexModel(NpgsqlDataSource db) : PageModel
{
    public const int PageSize = 25;

    [BindProperty(SupportsGet = true)] public string? Q { get; set; }
    [FromQuery(Name = "start_date")] public DateOnly? StartDate { get; set; }
    [FromQuery(Name = "end_date")] public DateOnly? EndDate { get; set; }
    [BindProperty(SupportsGet = true)] public string? Type { get; set; }
    [BindProperty(SupportsGet = true)] public string? Status { get; set; }
    // Not "Page" (PageModel's Page() result), and from the query only: the route's own "page" value is the page's path.
    [FromQuery(Name = "page")] public int? PageNumber { get; set; }

    public FormErrors? Errors { get; private set; }
    public ListPayments.TransactionPage Payments { get; private set; } = new([], 0, 0, 1, PageSize);

    public bool Filtered => !string.IsNullOrWhiteSpace(Q) || StartDate is not null || EndDate is not null ||
                            !string.IsNullOrWhiteSpace(Type) || !string.IsNullOrWhiteSpace(Status);

    public async Task OnGet()
    {
        // A date the browser could not send as a date ("2026-13-45" typed into a plain field) is refused, not ignored.
        if (FormErrors.From(ModelState) is { } invalid)
        {
            Errors = invalid;
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }
        try
        {
            await using var connection = await db.OpenConnectionAsync();
            Payments = await ListPayments.Run(connection, User.MerchantId(), null, new ListPayments.Query(Q, TransactionsText.StartOfDay(StartDate),
                TransactionsText.StartOfDay(EndDate), Type, Status, PageNumber, PageSize));
        }
        catch (ApiException e)
        {
            Errors = FormErrors.From(e);
            Response.StatusCode = e.Status;
        }
    }
}
