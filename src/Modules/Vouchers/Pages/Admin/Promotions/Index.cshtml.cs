using Gatehouse.Access.Pages.Admin;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Npgsql;

namespace Gatehouse.Vouchers.Pages.Admin.Promotions;

/// <summary>Promotions › Vouchers: the merchant's vouchers, newest first, searched by name, code or id, a page at a time
/// (<see cref="ListVouchers.Run"/>, as GET /vouchers lists them).</summary>
public sealed class IndexModel(NpgsqlDataSource db) : PageModel
{
    public const int PageSize = 20;
    public static readonly string[] Filters = ["name", "code", "id"];

    [BindProperty(SupportsGet = true)] public string Filter { get; set; } = "name";
    [BindProperty(SupportsGet = true)] public string? Q { get; set; }
    // Not "Page" (PageModel's Page() result), and from the query only: the route's own "page" value is the page's path.
    [FromQuery(Name = "page")] public int? PageNumber { get; set; }

    [TempData] public string? Notice { get; set; }
    public FormErrors? Errors { get; private set; }
    public OffsetPage<VoucherView> Vouchers { get; private set; } = OffsetPage<VoucherView>.Of([], 0, new PageRequest(1, PageSize));

    public async Task OnGet()
    {
        if (!Filters.Contains(Filter)) Filter = "name";
        // The API's own search terms: name: matches part of a name, code: a whole code, id: one voucher.
        string[] search = string.IsNullOrWhiteSpace(Q) ? [] : [$"{Filter}:{Q.Trim()}"];
        try
        {
            Vouchers = await ListVouchers.Run(db, User.MerchantId(), search, PageNumber, PageSize);
        }
        catch (ApiException e)
        {
            Errors = FormErrors.From(e);
            Response.StatusCode = e.Status;
        }
    }
}
