using System.Text.RegularExpressions;
using Dapper;
using Gatehouse.Reports;
using Gatehouse.Tests.Infrastructure;
using Npgsql;

namespace Gatehouse.Tests.Reports;

/// <summary>
/// A merchant's catalogue written straight to the database, and passes, voucher redemptions and payments created at
/// chosen times: the dashboard counts rows by their creation time, whichever use case made them.
/// </summary>
internal sealed class DashboardShop(NpgsqlDataSource db, long merchantId, long consumerId, long itemId, long feeId, long voucherId)
{
    public long MerchantId => merchantId;

    public static async Task<DashboardShop> Open(NpgsqlDataSource db, TestMerchant merchant)
    {
        await using var connection = await db.OpenConnectionAsync();
        var ids = await connection.QuerySingleAsync<(long Consumer, long Item, long Fee, long Voucher)>(
            """
            with consumer as (insert into accounts.consumers (merchant_id, uuid, email, full_name, created_at, updated_at)
                              values (@merchantId, gen_random_uuid(), 'viewer@mail.test', 'Test Viewer', now(), now()) returning id),
                 item as (insert into access.items (merchant_id, title, item_type, created_at, updated_at)
                          values (@merchantId, 'Cup Final', 'video', now(), now()) returning id),
                 fee as (insert into access.access_fees (merchant_id, item_id, access_type, amount, currency, period_quantity, period, created_at, updated_at)
                         select @merchantId, item.id, 'ppv', 4.99, 'EUR', 2, 'day', now(), now() from item returning id),
                 voucher as (insert into vouchers.vouchers (merchant_id, name, kind, code, discount, rebill_discount, start_date, created_at, updated_at)
                             values (@merchantId, 'Spring', 'discount', 'SPRING25', 25, 0, now(), now(), now()) returning id)
            select consumer.id, item.id, fee.id, voucher.id from consumer, item, fee, voucher
            """, new { merchantId = merchant.Id });
        return new DashboardShop(db, merchant.Id, ids.Consumer, ids.Item, ids.Fee, ids.Voucher);
    }

    public async Task Pass(DateTime at)
    {
        await using var connection = await db.OpenConnectionAsync();
        await connection.ExecuteAsync(
            """
            insert into access.passes (merchant_id, consumer_id, item_id, access_fee_id, type, source, starts_at, expires_at, created_at, updated_at)
            values (@merchantId, @consumerId, @itemId, @feeId, 'purchased', 'payment', @at, @at + interval '2 days', @at, @at)
            """, new { merchantId, consumerId, itemId, feeId, at });
    }

    public async Task Redemption(DateTime at)
    {
        await using var connection = await db.OpenConnectionAsync();
        await connection.ExecuteAsync(
            """
            insert into vouchers.redemptions (merchant_id, voucher_id, code_id, code, consumer_id, item_id, access_fee_id, discount, created_at)
            values (@merchantId, @voucherId, 0, 'SPRING25', @consumerId, @itemId, @feeId, 25, @at)
            """, new { merchantId, voucherId, consumerId, itemId, feeId, at });
    }

    public async Task Payment(DateTime at, decimal charged, string currency, string status = "succeeded")
    {
        await using var connection = await db.OpenConnectionAsync();
        await connection.ExecuteAsync(
            """
            insert into payments.payments (merchant_id, consumer_id, access_fee_id, item_id, action_type, status, reference, amount, charged_amount,
                                           currency, gateway, payment_method, created_at)
            values (@merchantId, @consumerId, @feeId, @itemId, 'purchase', @status, gen_random_uuid(), @charged, @charged, @currency, 'test', 'card', @at)
            """, new { merchantId, consumerId, feeId, itemId, status, charged, currency, at });
    }
}

/// <summary>
/// The dashboard's series (<see cref="DashboardSeries"/>) against the database: counts per UTC day with every day of the
/// range present, revenue split by currency, nothing of another merchant; the range a request asks for; and the chart
/// drawn from a series (<see cref="DashboardChart"/>).
/// </summary>
public sealed class DashboardTests(AppFixture fixture) : IClassFixture<AppFixture>
{
    // Fixed days: the series count by creation time, whatever the clock says.
    private static readonly DashboardSeries.Range FirstWeekOfMarch = new(new DateOnly(2026, 3, 1), new DateOnly(2026, 3, 7));

    private static DateTime At(string utc) => DateTime.SpecifyKind(DateTime.Parse(utc, System.Globalization.CultureInfo.InvariantCulture), DateTimeKind.Utc);

    private async Task<(DashboardShop Shop, DashboardShop Other)> TwoShops()
    {
        var shop = await DashboardShop.Open(fixture.Db, await Given.Merchant(fixture.Db, "Dashboard Media"));
        var other = await DashboardShop.Open(fixture.Db, await Given.Merchant(fixture.Db, "Other Media"));
        return (shop, other);
    }

    private async Task<DashboardSeries.Result> Series(DashboardShop shop, DashboardSeries.Range range, string? sessionTimeZone = null)
    {
        await using var connection = await fixture.Db.OpenConnectionAsync();
        if (sessionTimeZone is not null) await connection.ExecuteAsync($"set time zone '{sessionTimeZone}'");
        return await DashboardSeries.Run(connection, shop.MerchantId, range);
    }

    private static string[] Days(IEnumerable<DashboardSeries.Point> points) => points.Select(p => DashboardChart.Day(p.Day)).ToArray();

    private static decimal[] Values(IEnumerable<DashboardSeries.Point> points) => points.Select(p => p.Value).ToArray();

    private static readonly string[] MarchDays = ["2026-03-01", "2026-03-02", "2026-03-03", "2026-03-04", "2026-03-05", "2026-03-06", "2026-03-07"];

    [Fact]
    public async Task Passes_and_redemptions_are_counted_per_UTC_day_with_every_day_of_the_range()
    {
        var (shop, other) = await TwoShops();
        foreach (var record in new Func<DateTime, Task>[] { shop.Pass, shop.Redemption })
        {
            await record(At("2026-02-28T23:59:59")); // the day before the range
            await record(At("2026-03-01T00:00:00")); // the range's first instant
            await record(At("2026-03-01T23:59:59"));
            await record(At("2026-03-03T12:00:00"));
            await record(At("2026-03-07T23:59:59")); // the range's last second
            await record(At("2026-03-08T00:00:00")); // the day after
        }
        await shop.Pass(At("2026-03-03T08:30:00"));
        await shop.Pass(At("2026-03-03T18:00:00"));
        // Another merchant's, on the same days: never counted.
        foreach (var day in new[] { "2026-03-01", "2026-03-02", "2026-03-03", "2026-03-07" })
        {
            await other.Pass(At(day + "T10:00:00"));
            await other.Redemption(At(day + "T10:00:00"));
        }

        var series = await Series(shop, FirstWeekOfMarch);

        Assert.Equal(FirstWeekOfMarch, series.Range);
        Assert.Equal(MarchDays, Days(series.Passes));
        Assert.Equal([2m, 0, 3, 0, 0, 0, 1], Values(series.Passes));
        Assert.Equal(MarchDays, Days(series.Redemptions));
        Assert.Equal([2m, 0, 1, 0, 0, 0, 1], Values(series.Redemptions));
        Assert.Empty(series.Revenue);

        // The other merchant's own dashboard counts only its own.
        var theirs = await Series(other, FirstWeekOfMarch);
        Assert.Equal([1m, 1, 1, 0, 0, 0, 1], Values(theirs.Passes));
        Assert.Equal([1m, 1, 1, 0, 0, 0, 1], Values(theirs.Redemptions));
    }

    [Fact]
    public async Task Days_are_UTC_days_whatever_the_session_time_zone()
    {
        var (shop, _) = await TwoShops();
        await shop.Pass(At("2026-03-01T23:30:00"));
        await shop.Redemption(At("2026-03-02T00:30:00"));
        await shop.Payment(At("2026-03-01T23:30:00"), 4.99m, "EUR");

        // 14 hours ahead of UTC (and a day ahead at 23:30): grouping in the session's zone would move every row a day.
        var series = await Series(shop, FirstWeekOfMarch, "Pacific/Kiritimati");

        Assert.Equal(MarchDays, Days(series.Passes));
        Assert.Equal([1m, 0, 0, 0, 0, 0, 0], Values(series.Passes));
        Assert.Equal([0m, 1, 0, 0, 0, 0, 0], Values(series.Redemptions));
        Assert.Equal(MarchDays, Days(Assert.Single(series.Revenue).Points));
        Assert.Equal([4.99m, 0, 0, 0, 0, 0, 0], Values(series.Revenue[0].Points));
    }

    [Fact]
    public async Task Revenue_sums_the_succeeded_charges_per_currency_and_day()
    {
        var (shop, other) = await TwoShops();
        await shop.Payment(At("2026-03-02T09:00:00"), 4.99m, "EUR");
        await shop.Payment(At("2026-03-02T21:00:00"), 4.99m, "EUR");
        await shop.Payment(At("2026-03-05T10:00:00"), 10.00m, "EUR");
        await shop.Payment(At("2026-03-02T10:00:00"), 3.50m, "USD");
        await shop.Payment(At("2026-03-07T23:59:59"), 1.25m, "USD");
        // Not revenue: a declined card, a charge still at the gateway, outside the range.
        await shop.Payment(At("2026-03-02T11:00:00"), 100m, "EUR", "failed");
        await shop.Payment(At("2026-03-03T11:00:00"), 100m, "EUR", "pending");
        await shop.Payment(At("2026-02-28T23:59:59"), 100m, "USD");
        await shop.Payment(At("2026-03-08T00:00:00"), 100m, "EUR");
        // A 100 % voucher's checkout succeeds with nothing charged: no GBP chart of zeros.
        await shop.Payment(At("2026-03-04T11:00:00"), 0m, "GBP");
        // Another merchant's sale, and a currency only it sells in.
        await other.Payment(At("2026-03-02T09:00:00"), 1000m, "EUR");
        await other.Payment(At("2026-03-02T09:00:00"), 7m, "CHF");

        var series = await Series(shop, FirstWeekOfMarch);

        Assert.Equal(["EUR", "USD"], series.Revenue.Select(r => r.Currency));
        var (eur, usd) = (series.Revenue[0], series.Revenue[1]);
        Assert.Equal(MarchDays, Days(eur.Points));
        Assert.Equal([0m, 9.98m, 0, 0, 10.00m, 0, 0], Values(eur.Points));
        Assert.Equal(19.98m, eur.Total);
        Assert.Equal(MarchDays, Days(usd.Points));
        Assert.Equal([0m, 3.50m, 0, 0, 0, 0, 1.25m], Values(usd.Points));
        Assert.Equal(4.75m, usd.Total);
        Assert.Equal([0m, 0, 0, 0, 0, 0, 0], Values(series.Passes));

        var theirs = await Series(other, FirstWeekOfMarch);
        Assert.Equal(["CHF", "EUR"], theirs.Revenue.Select(r => r.Currency));
        Assert.Equal([1000m], theirs.Revenue[1].Points.Where(p => p.Value > 0).Select(p => p.Value));
    }

    [Fact]
    public async Task A_range_with_nothing_in_it_is_all_zero_days()
    {
        var (shop, _) = await TwoShops();
        await shop.Pass(At("2026-03-03T12:00:00"));

        var single = await Series(shop, new DashboardSeries.Range(new DateOnly(2026, 3, 4), new DateOnly(2026, 3, 4)));
        Assert.Equal(["2026-03-04"], Days(single.Passes));
        Assert.Equal([0m], Values(single.Passes));
        Assert.Equal([0m], Values(single.Redemptions));
        Assert.Empty(single.Revenue);

        // The longest range, across a leap day: one point per day.
        var year = new DashboardSeries.Range(new DateOnly(2027, 3, 4), new DateOnly(2028, 3, 3));
        var longest = await Series(shop, year);
        Assert.Equal(DashboardSeries.MaxDays, year.Days);
        Assert.Equal(DashboardSeries.MaxDays, longest.Passes.Count);
        Assert.Contains("2028-02-29", Days(longest.Passes));
        Assert.Equal("2028-03-03", DashboardChart.Day(longest.Redemptions[^1].Day));
        Assert.All(longest.Passes, p => Assert.Equal(0, p.Value));
    }

    // ---- The range a request asks for ----

    private static readonly DateOnly Today = new(2026, 11, 24);

    [Theory]
    [InlineData(null, null, "2026-10-26", "2026-11-24")] // the last 30 days ending today
    [InlineData("", " ", "2026-10-26", "2026-11-24")]
    [InlineData("2026-11-01", "2026-11-10", "2026-11-01", "2026-11-10")]
    [InlineData(" 2026-11-01 ", "2026-11-01", "2026-11-01", "2026-11-01")] // one day
    [InlineData("2026-11-20", null, "2026-11-20", "2026-11-24")] // from then to today
    [InlineData("2026-12-01", null, "2026-12-01", "2026-12-01")] // from a day after today: that day
    [InlineData(null, "2026-06-30", "2026-06-01", "2026-06-30")] // the 30 days ending then
    [InlineData("2025-11-24", "2026-11-24", "2025-11-24", "2026-11-24")] // 366 days, the most
    public void Reads_the_range_asked_for(string? from, string? to, string first, string last)
    {
        var (range, problem) = DashboardSeries.Read(from, to, Today);

        Assert.Null(problem);
        Assert.Equal((first, last), (DashboardChart.Day(range.From), DashboardChart.Day(range.To)));
    }

    [Theory]
    [InlineData("2026-13-45", "2026-11-24", "From must be a date (yyyy-MM-dd).")]
    [InlineData("2026-11-01", "yesterday", "To must be a date (yyyy-MM-dd).")]
    [InlineData("01/11/2026", null, "From must be a date (yyyy-MM-dd).")]
    [InlineData("2026-11-10", "2026-11-01", "From must be on or before To.")]
    [InlineData("2025-11-23", "2026-11-24", "A range is at most 366 days.")]
    [InlineData("2020-01-01", null, "A range is at most 366 days.")]
    [InlineData("1999-12-31", "2000-01-02", "From must be between 2000-01-01 and 2099-12-31.")]
    [InlineData(null, "9999-12-31", "To must be between 2000-01-01 and 2099-12-31.")]
    [InlineData("0001-01-01", null, "From must be between 2000-01-01 and 2099-12-31.")]
    public void A_range_that_cannot_be_shown_falls_back_to_the_last_30_days(string? from, string? to, string expected)
    {
        var (range, problem) = DashboardSeries.Read(from, to, Today);

        Assert.Equal(expected, problem);
        Assert.Equal(DashboardSeries.Range.Last(30, Today), range);
        Assert.Equal(new DateOnly(2026, 10, 26), range.From);
    }

    // ---- The chart ----

    [Theory]
    [InlineData(0, true, 1, 1)]
    [InlineData(1, true, 1, 1)]
    [InlineData(3, true, 1, 3)]
    [InlineData(7, true, 2, 8)]
    [InlineData(12, true, 5, 15)]
    [InlineData(40, true, 10, 40)]
    [InlineData(1234, true, 500, 1500)]
    [InlineData(4.99, false, 2, 6)]
    [InlineData(0.5, false, 0.2, 0.6)]
    [InlineData(0.01, false, 0.01, 0.01)]
    [InlineData(19.98, false, 5, 20)]
    public void The_y_axis_steps_by_round_numbers(double max, bool wholeNumbers, double step, double top)
    {
        Assert.Equal(((decimal)step, (decimal)top), DashboardChart.Scale((decimal)max, wholeNumbers));
    }

    private static DashboardChart Chart(DashboardSeries.Range range, Func<int, decimal> value) => new("Passes granted",
        Enumerable.Range(0, range.Days).Select(i => new DashboardSeries.Point(range.From.AddDays(i), value(i))).ToList(),
        v => $"{v:0} passes", WholeNumbers: true);

    [Fact]
    public void The_chart_is_an_image_named_by_its_series_with_a_title_per_day()
    {
        var chart = Chart(FirstWeekOfMarch, i => i == 2 ? 3 : i == 0 ? 2 : 0);

        var svg = chart.Svg(FirstWeekOfMarch).ToString()!;

        Assert.StartsWith("""<svg class="chart" viewBox="0 0 640 200" role="img" aria-label="Passes granted, 2026-03-01 to 2026-03-07: 5 passes">""", svg);
        Assert.Equal(
            ["2026-03-01: 2 passes", "2026-03-02: 0 passes", "2026-03-03: 3 passes", "2026-03-04: 0 passes", "2026-03-05: 0 passes",
             "2026-03-06: 0 passes", "2026-03-07: 0 passes"],
            Regex.Matches(svg, "<title>(.*?)</title>").Select(m => m.Groups[1].Value));
        // Only days with something have a bar; every day has a column that answers the hover.
        Assert.Equal(2, Regex.Matches(svg, "class=\"chart-bar\"").Count);
        Assert.Equal(7, Regex.Matches(svg, "class=\"chart-hit\"").Count);
        Assert.Equal(["0", "1", "2", "3"], Regex.Matches(svg, "<text class=\"chart-tick\"[^>]*>(.*?)</text>").Select(m => m.Groups[1].Value));
        Assert.Equal(["Mar 1", "Mar 2", "Mar 3", "Mar 4", "Mar 5", "Mar 6", "Mar 7"],
            Regex.Matches(svg, "<text class=\"chart-day-label\"[^>]*>(.*?)</text>").Select(m => m.Groups[1].Value));
        // The tallest bar reaches the top tick: 3 of 3.
        Assert.Contains("""<rect class="chart-bar" x="222.46" y="10" width="56.8" height="166"/>""", svg);
    }

    [Fact]
    public void Day_labels_are_thinned_to_fit_a_long_range()
    {
        var year = new DashboardSeries.Range(new DateOnly(2027, 3, 4), new DateOnly(2028, 3, 3));
        var svg = Chart(year, i => i % 10).Svg(year).ToString()!;

        var labels = Regex.Matches(svg, "<text class=\"chart-day-label\"[^>]*>(.*?)</text>").Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(8, labels.Count);
        Assert.Equal("Mar 4", labels[0]);
        Assert.Equal(366, Regex.Matches(svg, "<title>").Count);
        Assert.Equal(["0", "5", "10"], Regex.Matches(svg, "<text class=\"chart-tick\"[^>]*>(.*?)</text>").Select(m => m.Groups[1].Value));
    }

    [Fact]
    public void Text_in_the_chart_is_encoded()
    {
        var chart = new DashboardChart("Revenue <EUR> & co", [new DashboardSeries.Point(new DateOnly(2026, 3, 1), 1)], v => $"{v} <b>", false);

        var svg = chart.Svg(new DashboardSeries.Range(new DateOnly(2026, 3, 1), new DateOnly(2026, 3, 1))).ToString()!;

        Assert.DoesNotContain("<EUR>", svg);
        Assert.DoesNotContain("<b>", svg);
        Assert.Contains("aria-label=\"Revenue &lt;EUR&gt; &amp; co", svg);
    }
}
