using System.Security.Claims;
using Gatehouse.Accounts;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Npgsql;

namespace Gatehouse.Access.Pages.Admin.Audience;

/// <summary>
/// One viewer of the merchant: their account and their own passes (<see cref="SearchAccess.Run"/> filtered by viewer id),
/// with grant, revoke and extend through the API's use cases (<see cref="GrantAccess.Run"/>, <see cref="RevokeAccess.Revoke"/>,
/// <see cref="ExtendAccess.Extend"/>), each in its own transaction and recorded as done by the signed-in admin.
/// Another merchant's viewer, or a pass that is not this viewer's, is a 404.
/// </summary>
public sealed class ViewerModel(NpgsqlDataSource db, TimeProvider clock) : PageModel
{
    public const int PageSize = 25;

    public static readonly IReadOnlyList<(string Key, string Label)> Statuses = [("all", "All"), ("active", "Active"), ("inactive", "Inactive")];

    [BindProperty(SupportsGet = true)] public string Status { get; set; } = "all";
    // Not "Page" (PageModel's Page() result), and from the query only: the route's own "page" value is the page's path.
    [FromQuery(Name = "page")] public int? PageNumber { get; set; }

    /// <summary>The grant form: "item:{id}" or "package:{id}", and the day the access ends (at 00:00 UTC).</summary>
    [BindProperty] public string? Resource { get; set; }
    [BindProperty] public DateOnly? ExpiresOn { get; set; }
    /// <summary>The extend form's new end date (at 00:00 UTC).</summary>
    [BindProperty] public DateOnly? ExtendTo { get; set; }

    [TempData] public string? Notice { get; set; }
    public AccountView Viewer { get; private set; } = null!;
    public OffsetPage<PassView> Passes { get; private set; } = OffsetPage<PassView>.Of([], 0, new PageRequest(1, PageSize));
    public IReadOnlyList<CatalogChoice> Assets { get; private set; } = [];
    public IReadOnlyList<CatalogChoice> Packages { get; private set; } = [];
    /// <summary>Why the last form was refused; <see cref="Failed"/> says which ("grant", "revoke" or "extend", with <see cref="FailedPassId"/>).</summary>
    public FormErrors? Errors { get; private set; }
    public string? Failed { get; private set; }
    public long? FailedPassId { get; private set; }

    public async Task<IActionResult> OnGet(long id) => await Load(id) ? Page() : NotFound();

    public Task<IActionResult> OnPostGrant(long id) => Change(id, "grant", null, async (connection, transaction, actor, now) =>
    {
        var (itemId, packageId) = ChosenResource();
        if (ExpiresOn is null) throw ApiException.Invalid("expires_at", "is required");
        var pass = await GrantAccess.Run(connection, transaction, User.MerchantId(),
            new GrantAccess.Request(itemId, packageId, id, StartsAt: null, AdminText.StartOfDay(ExpiresOn.Value), AccessFeeId: null),
            "admin", actor, now);
        return $"Access to {pass.ItemTitle} granted until {AdminText.Utc(pass.ExpiresAt)}.";
    });

    public Task<IActionResult> OnPostRevoke(long id, long passId) => Change(id, "revoke", passId, async (connection, transaction, actor, now) =>
    {
        await OwnPass(connection, transaction, id, passId, now);
        var pass = await RevokeAccess.Revoke(connection, transaction, User.MerchantId(), passId, actor, now);
        return $"Access to {pass.ItemTitle} revoked.";
    });

    public Task<IActionResult> OnPostExtend(long id, long passId) => Change(id, "extend", passId, async (connection, transaction, actor, now) =>
    {
        await OwnPass(connection, transaction, id, passId, now);
        if (ExtendTo is null) throw ApiException.Invalid("expires_at", "is required");
        var pass = await ExtendAccess.Extend(connection, transaction, User.MerchantId(), passId, AdminText.StartOfDay(ExtendTo.Value), actor, now);
        return $"Access to {pass.ItemTitle} extended until {AdminText.Utc(pass.ExpiresAt)}.";
    });

    /// <summary>The grant form's choice as item_id or package_id.</summary>
    private (long? ItemId, long? PackageId) ChosenResource()
    {
        var parts = Resource?.Split(':');
        return parts is [var kind, var number] && long.TryParse(number, out var resourceId)
            ? kind switch { "item" => (resourceId, null), "package" => (null, resourceId), _ => Unchosen() }
            : Unchosen();

        static (long?, long?) Unchosen() => throw ApiException.Invalid("item_id", "choose an asset or a package");
    }

    /// <summary>Only this viewer's own passes are changed from their page.</summary>
    private async Task OwnPass(NpgsqlConnection connection, NpgsqlTransaction transaction, long viewerId, long passId, DateTimeOffset now)
    {
        var pass = await Gatehouse.Access.Passes.One(connection, User.MerchantId(), passId, now, transaction);
        if (pass?.CustomerId != viewerId) throw ApiException.NotFound("Access pass not found");
    }

    /// <summary>
    /// Runs one change in a transaction with the admin as actor ("admin:{id}:{email}"): a notice and a redirect when it
    /// commits, the page with the reason when the use case refuses, a 404 when the viewer or pass is not the merchant's.
    /// </summary>
    private async Task<IActionResult> Change(long id, string form, long? passId,
        Func<NpgsqlConnection, NpgsqlTransaction, string, DateTimeOffset, Task<string>> change)
    {
        if (!await Load(id)) return NotFound();
        try
        {
            if (FormErrors.From(ModelState) is { } invalid) throw ApiException.Invalid(invalid.Fields);
            await using (var connection = await db.OpenConnectionAsync())
            {
                await using var transaction = await connection.BeginTransactionAsync();
                var actor = $"admin:{User.AdminUserId()}:{User.FindFirstValue(ClaimTypes.Email)}";
                Notice = await change(connection, transaction, actor, clock.GetUtcNow());
                await transaction.CommitAsync();
            }
            return Redirect($"/admin/audience/{id}?status={Uri.EscapeDataString(Status)}");
        }
        catch (ApiException e) when (e.Status == StatusCodes.Status404NotFound)
        {
            return NotFound();
        }
        catch (ApiException e)
        {
            // Nothing was written: the page as loaded, with the reason next to the refused form.
            Notice = null;
            (Failed, FailedPassId, Errors) = (form, passId, FormErrors.From(e));
            Response.StatusCode = e.Status;
            return Page();
        }
    }

    private async Task<bool> Load(long id)
    {
        var merchantId = User.MerchantId();
        await using var connection = await db.OpenConnectionAsync();
        if (await AccountView.Consumer(connection, merchantId, id) is not { } viewer) return false;
        Viewer = viewer;
        try
        {
            Passes = await SearchAccess.Run(connection, merchantId,
                new SearchAccess.Query(Status, "viewer_id", id.ToString(System.Globalization.CultureInfo.InvariantCulture), PageNumber, PageSize),
                clock.GetUtcNow());
        }
        catch (ApiException e)
        {
            // A bad status or page in the URL: say so, and still show the viewer.
            Errors ??= FormErrors.From(e);
        }
        Assets = await ListItems.Choices(connection, merchantId);
        Packages = await Gatehouse.Access.Packages.Choices(connection, merchantId);
        return true;
    }
}
