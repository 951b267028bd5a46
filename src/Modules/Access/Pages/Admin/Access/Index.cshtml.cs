using System.Globalization;
using System.Security.Claims;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Npgsql;

namespace Gatehouse.Access.Pages.Admin.Access;

/// <summary>
/// The Access tab: every pass of the merchant, searched with <see cref="SearchAccess.Run"/>, revoked and extended with
/// the same use cases as the API. The search lives in the query string, so a search is a shareable URL and every
/// revoke or extend comes back to it.
/// </summary>
public sealed class IndexModel(NpgsqlDataSource db, TimeProvider clock) : PageModel
{
    private const int PageSize = 25;

    /// <summary>The search filters in the order the chooser shows them; the keys are <see cref="SearchAccess.Filters"/>.</summary>
    public static readonly IReadOnlyList<(string Key, string Label)> Filters =
        [("email", "Email"), ("viewer_id", "Viewer ID"), ("asset_id", "Asset ID"), ("package_id", "Package ID"), ("asset_title", "Asset title")];

    public static readonly IReadOnlyList<(string Key, string Label)> Statuses = [("active", "Active"), ("inactive", "Inactive"), ("all", "All")];

    [BindProperty(SupportsGet = true)] public string Status { get; set; } = "active";
    [BindProperty(SupportsGet = true)] public string Filter { get; set; } = "email";
    [BindProperty(SupportsGet = true)] public string? Q { get; set; }
    // From the query string only: Razor Pages' own "page" route value (the page's name) would win otherwise.
    [FromQuery(Name = "page")] public int? PageNumber { get; set; }

    /// <summary>The outcome of the last revoke or extend, shown once after the redirect back to the search.</summary>
    [TempData] public string? Success { get; set; }
    [TempData] public string? Failure { get; set; }

    /// <summary>Why the search itself could not run (a viewer id that is not a number, say).</summary>
    public string? SearchError { get; private set; }
    public OffsetPage<PassView> Passes { get; private set; } = OffsetPage<PassView>.Of([], 0, new PageRequest(1, PageSize));

    public async Task OnGet()
    {
        try
        {
            await using var connection = await db.OpenConnectionAsync();
            Passes = await SearchAccess.Run(connection, User.MerchantId(), new SearchAccess.Query(Status, Filter, Q, PageNumber, PageSize),
                clock.GetUtcNow());
        }
        catch (ApiException e)
        {
            SearchError = Explain(e);
        }
    }

    public async Task<IActionResult> OnPostRevoke(long passId)
    {
        try
        {
            await using var connection = await db.OpenConnectionAsync();
            await using var transaction = await connection.BeginTransactionAsync();
            var pass = await RevokeAccess.Revoke(connection, transaction, User.MerchantId(), passId, Actor, clock.GetUtcNow());
            await transaction.CommitAsync();
            Success = $"Access to {pass.ItemTitle} for {pass.ConsumerEmail} was revoked.";
        }
        catch (ApiException e)
        {
            Failure = "Could not revoke access: " + Explain(e);
        }
        return BackToSearch();
    }

    public async Task<IActionResult> OnPostExtend(long passId, string? expiresAt)
    {
        // The date-time input has no zone: its value is UTC, as the form says.
        if (!DateTimeOffset.TryParse(expiresAt, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var newExpiry))
        {
            Failure = "Could not extend access: enter the new expiry date and time (UTC).";
            return BackToSearch();
        }
        try
        {
            await using var connection = await db.OpenConnectionAsync();
            await using var transaction = await connection.BeginTransactionAsync();
            var pass = await ExtendAccess.Extend(connection, transaction, User.MerchantId(), passId, newExpiry, Actor, clock.GetUtcNow());
            await transaction.CommitAsync();
            Success = $"Access to {pass.ItemTitle} for {pass.ConsumerEmail} now expires {Utc(pass.ExpiresAt)} UTC.";
        }
        catch (ApiException e)
        {
            Failure = "Could not extend access: " + Explain(e);
        }
        return BackToSearch();
    }

    /// <summary>Who the audit trail says made the change.</summary>
    private string Actor => $"admin:{User.AdminUserId()}:{User.FindFirstValue(ClaimTypes.Email)}";

    private LocalRedirectResult BackToSearch() => LocalRedirect(Link());

    /// <summary>
    /// This page with the current search (status, filter, text, page), or with another status (from the first page), or
    /// posting to a handler. Built by hand: Razor Pages' URL generation treats "page" as the page's name.
    /// </summary>
    public string Link(string? status = null, string? handler = null)
    {
        var query = new List<KeyValuePair<string, string?>> { new("status", status ?? Status) };
        if (!string.IsNullOrWhiteSpace(Q))
        {
            query.Add(new("filter", Filter));
            query.Add(new("q", Q));
        }
        if (status is null && PageNumber > 1) query.Add(new("page", PageNumber.Value.ToString(CultureInfo.InvariantCulture)));
        if (handler is not null) query.Add(new("handler", handler));
        return "/admin/access" + QueryString.Create(query).ToUriComponent();
    }

    public static string Utc(long unixSeconds) =>
        DateTimeOffset.FromUnixTimeSeconds(unixSeconds).ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);

    /// <summary>The value of a datetime-local input (minutes, no zone).</summary>
    public static string DateTimeInput(long unixSeconds) =>
        DateTimeOffset.FromUnixTimeSeconds(unixSeconds).ToString("yyyy-MM-dd'T'HH:mm", CultureInfo.InvariantCulture);

    private static readonly Dictionary<string, string> FieldNames = new()
    {
        ["expires_at"] = "the new expiry", ["q"] = "the search", ["filter"] = "the filter", ["status"] = "the status", ["page"] = "the page",
    };

    /// <summary>An ApiException in words: its field errors when it has them ("the new expiry must be in the future").</summary>
    private static string Explain(ApiException e) =>
        e.Errors is { Count: > 0 } errors
            ? string.Join("; ", errors.Select(error => $"{FieldNames.GetValueOrDefault(error.Key, error.Key)} {error.Value}")) + "."
            : e.Message + ".";
}
