using Gatehouse.Access.Pages.Admin;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Npgsql;

namespace Gatehouse.Vouchers.Pages.Admin.Promotions;

/// <summary>Promotions › Gift vouchers: those viewers bought for someone else, newest first (<see cref="GiftVouchers.List"/>,
/// as GET /vouchers/gifts lists them).</summary>
public sealed class GiftsModel(NpgsqlDataSource db) : PageModel
{
    public const int PageSize = 20;

    [FromQuery(Name = "page")] public int? PageNumber { get; set; }
    public FormErrors? Errors { get; private set; }
    public SizedPage<GiftVouchers.GiftView> Gifts { get; private set; } = SizedPage<GiftVouchers.GiftView>.Of([], 0, new PageRequest(1, PageSize));

    public async Task OnGet()
    {
        try
        {
            Gifts = await GiftVouchers.List(db, User.MerchantId(), PageNumber, PageSize);
        }
        catch (ApiException e)
        {
            Errors = FormErrors.From(e);
            Response.StatusCode = e.Status;
        }
    }
}
