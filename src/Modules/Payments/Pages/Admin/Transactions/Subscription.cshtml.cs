using System.Security.Claims;
using Gatehouse.Access.Pages.Admin;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Npgsql;

namespace Gatehouse.Payments.Pages.Admin.Transactions;

/// <summary>
/// One subscription (<see cref="ListSubscriptions.One"/>, as GET /v2/subscriptions/{id} reads it): its terms, its voucher's
/// discounts, the next charge, every charge and rebill made on it, and Cancel (<see cref="CancelSubscription.Cancel"/>,
/// the API's use case) behind a confirmation. Another merchant's subscription is a 404.
/// </summary>
public sealed class SubscriptionModel(NpgsqlDataSource db, TimeProvider clock) : PageModel
{
    [TempData] public string? Notice { get; set; }
    public FormErrors? Errors { get; private set; }

    public SubscriptionView Subscription { get; private set; } = null!;
    public IReadOnlyList<TransactionView> Payments { get; private set; } = [];

    public async Task<IActionResult> OnGet(long id) => await Load(id) ? Page() : NotFound();

    public async Task<IActionResult> OnPostCancel(long id)
    {
        if (!await Load(id)) return NotFound();
        try
        {
            var cancelled = await CancelSubscription.Cancel(db, User.MerchantId(), id, Actor, clock.GetUtcNow());
            Notice = $"Subscription cancelled: {cancelled.ConsumerEmail} is not charged again; access to {cancelled.ItemTitle} runs to the end of the paid period.";
            return Redirect($"/admin/transactions/subscriptions/{id}");
        }
        catch (ApiException e) when (e.Status == StatusCodes.Status404NotFound)
        {
            return NotFound();
        }
        catch (ApiException e)
        {
            // Cancelled or expired meanwhile (in another tab, by the viewer or by the API): the page shows it as it is now.
            Errors = FormErrors.From(e);
            await Load(id);
            Response.StatusCode = e.Status;
            return Page();
        }
    }

    /// <summary>Who the subscription says cancelled it.</summary>
    private string Actor => $"admin:{User.AdminUserId()}:{User.FindFirstValue(ClaimTypes.Email)}";

    private async Task<bool> Load(long id)
    {
        await using var connection = await db.OpenConnectionAsync();
        if (await ListSubscriptions.One(connection, User.MerchantId(), id, ListSubscriptions.BaseUrl(HttpContext)) is not { } detail) return false;
        (Subscription, Payments) = (detail.Subscription, detail.Payments);
        return true;
    }
}
