using System.Globalization;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Npgsql;

namespace Gatehouse.Reports.Pages.Admin;

/// <summary>
/// The admin's home: the merchant's passes granted, vouchers redeemed and revenue per UTC day over a chosen range
/// (<see cref="DashboardSeries"/>), as totals and charts, and below them what an app needs to talk to this Gatehouse.
/// The range lives in the query string (from, to), so a range is a shareable URL; one that cannot be shown falls back to
/// the last 30 days and says why.
/// </summary>
public sealed class IndexModel(NpgsqlDataSource db, TimeProvider clock) : PageModel
{
    public static readonly int[] QuickRanges = [7, 30, 90];

    [FromQuery(Name = "from")] public string? From { get; set; }
    [FromQuery(Name = "to")] public string? To { get; set; }

    public DateOnly Today { get; private set; }
    public string? RangeProblem { get; private set; }
    public DashboardSeries.Result Series { get; private set; } = null!;

    public DashboardSeries.Range Range => Series.Range;

    public async Task OnGet()
    {
        Today = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        (var range, RangeProblem) = DashboardSeries.Read(From, To, Today);
        await using var connection = await db.OpenConnectionAsync();
        Series = await DashboardSeries.Run(connection, User.MerchantId(), range);
    }

    /// <summary>The charts, one per series; revenue one per currency charged in the range (none charged: one of zeros).</summary>
    public IEnumerable<DashboardChart> Charts()
    {
        yield return new DashboardChart("Passes granted", Series.Passes, v => Count(v, "pass", "passes"), WholeNumbers: true);
        yield return new DashboardChart("Vouchers redeemed", Series.Redemptions, v => Count(v, "redemption", "redemptions"), WholeNumbers: true);
        if (Series.Revenue.Count == 0)
            yield return new DashboardChart("Revenue", Series.Passes.Select(p => p with { Value = 0 }).ToList(), v => Money(v, null),
                WholeNumbers: false);
        foreach (var revenue in Series.Revenue)
            yield return new DashboardChart($"Revenue ({revenue.Currency})", revenue.Points, v => Money(v, revenue.Currency), WholeNumbers: false);
    }

    public static string Count(decimal value, string one, string many) =>
        value.ToString("#,0", CultureInfo.InvariantCulture) + " " + (value == 1 ? one : many);

    public static string Money(decimal value, string? currency) =>
        value.ToString("#,0.00", CultureInfo.InvariantCulture) + (currency is null ? "" : " " + currency);

    /// <summary>The link of a quick range: the <paramref name="days"/> days ending today.</summary>
    public string QuickLink(int days) => Link(DashboardSeries.Range.Last(days, Today));

    public bool IsQuick(int days) => Range == DashboardSeries.Range.Last(days, Today);

    private static string Link(DashboardSeries.Range range) =>
        $"/admin?from={DashboardChart.Day(range.From)}&to={DashboardChart.Day(range.To)}";
}
