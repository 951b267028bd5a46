using System.Text.RegularExpressions;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Tests.Vouchers;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Gatehouse.Tests.Reports;

/// <summary>
/// The admin's home in a real browser: totals and a chart per series for the last 30 days, the quick ranges and a
/// range of one's own, the hover titles and the data tables holding the seeded numbers, a range that cannot be shown,
/// and another merchant's sales never counted.
/// </summary>
public sealed class DashboardBrowserTests(BrowserFixture fixture) : IClassFixture<BrowserFixture>
{
    private DateOnly Today => DateOnly.FromDateTime(fixture.Clock.GetUtcNow().UtcDateTime);

    /// <summary>A time on the day <paramref name="daysAgo"/> days before today (UTC).</summary>
    private DateTime DaysAgo(int daysAgo, int hour = 10) => Today.AddDays(-daysAgo).ToDateTime(new TimeOnly(hour, 0), DateTimeKind.Utc);

    private string Day(int daysAgo) => Today.AddDays(-daysAgo).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

    private static ILocator Chart(IPage page, string name) => page.GetByRole(AriaRole.Region, new() { Name = name, Exact = true });

    /// <summary>The hover titles of a chart's days, in order.</summary>
    private static Task<IReadOnlyList<string>> Titles(IPage page, string name) =>
        Chart(page, name).GetByRole(AriaRole.Img).Locator("title").AllTextContentsAsync();

    /// <summary>A chart's data table, opened, as day → value.</summary>
    private static async Task<Dictionary<string, string>> Table(IPage page, string name)
    {
        var chart = Chart(page, name);
        await chart.GetByText("Table of the numbers").ClickAsync();
        var table = chart.GetByRole(AriaRole.Table, new() { Name = $"{name} per day" });
        await Expect(table).ToBeVisibleAsync();
        var rows = table.Locator("tbody tr");
        var days = await rows.Locator("td:nth-child(1)").AllInnerTextsAsync();
        var values = await rows.Locator("td:nth-child(2)").AllInnerTextsAsync();
        return days.Zip(values).ToDictionary(p => p.First, p => p.Second);
    }

    private static async Task<IReadOnlyList<string>> Revenue(IPage page) => await page.GetByTestId("total-revenue").AllInnerTextsAsync();

    [Fact]
    public async Task The_dashboard_charts_the_last_30_days_and_other_ranges()
    {
        var merchant = await Given.Merchant(fixture.Db, "Dashboard Media");
        var shop = await DashboardShop.Open(fixture.Db, merchant);
        await shop.Pass(DaysAgo(0, hour: 0));
        await shop.Pass(DaysAgo(0, hour: 0));
        await shop.Pass(DaysAgo(3));
        for (var i = 0; i < 4; i++) await shop.Pass(DaysAgo(10));
        for (var i = 0; i < 5; i++) await shop.Pass(DaysAgo(40));
        await shop.Redemption(DaysAgo(1));
        await shop.Redemption(DaysAgo(1));
        await shop.Redemption(DaysAgo(20));
        await shop.Payment(DaysAgo(2), 4.99m, "EUR");
        await shop.Payment(DaysAgo(2), 4.99m, "EUR");
        await shop.Payment(DaysAgo(2), 100m, "EUR", "failed");
        await shop.Payment(DaysAgo(12), 10.00m, "EUR");
        await shop.Payment(DaysAgo(45), 3.50m, "USD");
        // Another merchant's busy week: none of it shows.
        var other = await DashboardShop.Open(fixture.Db, await Given.Merchant(fixture.Db, "Other Media"));
        for (var i = 0; i < 7; i++)
        {
            await other.Pass(DaysAgo(i));
            await other.Redemption(DaysAgo(i));
            await other.Payment(DaysAgo(i), 50m, "EUR");
            await other.Payment(DaysAgo(i), 50m, "GBP");
        }

        var page = await VouchersBrowserTests.SignedIn(fixture, merchant);

        // The last 30 days, by default.
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Welcome, Test Admin" })).ToBeVisibleAsync();
        await Expect(page.GetByTestId("range")).ToHaveTextAsync($"{Day(29)} to {Day(0)} (UTC), 30 days");
        var quick = page.GetByRole(AriaRole.Group, new() { Name = "Quick ranges" });
        await Expect(quick.Locator("[aria-current=true]")).ToHaveTextAsync("Last 30 days");
        await Expect(page.GetByLabel("From (UTC)")).ToHaveValueAsync(Day(29));
        await Expect(page.GetByLabel("To (UTC)")).ToHaveValueAsync(Day(0));
        await Expect(page.GetByTestId("total-passes")).ToHaveTextAsync("7 passes");
        await Expect(page.GetByTestId("total-redemptions")).ToHaveTextAsync("3 redemptions");
        Assert.Equal(["19.98 EUR"], await Revenue(page));
        await Expect(page.GetByRole(AriaRole.Img)).ToHaveCountAsync(3);
        await Expect(page.GetByRole(AriaRole.Img, new() { Name = $"Passes granted, {Day(29)} to {Day(0)}: 7 passes", Exact = true })).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Img, new() { Name = $"Vouchers redeemed, {Day(29)} to {Day(0)}: 3 redemptions", Exact = true })).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Img, new() { Name = $"Revenue (EUR), {Day(29)} to {Day(0)}: 19.98 EUR", Exact = true })).ToBeVisibleAsync();
        await VouchersBrowserTests.Shot(page, "dashboard-30-days");

        var passes = await Titles(page, "Passes granted");
        Assert.Equal(30, passes.Count);
        Assert.Equal($"{Day(29)}: 0 passes", passes[0]);
        Assert.Equal($"{Day(10)}: 4 passes", passes[19]);
        Assert.Equal($"{Day(3)}: 1 pass", passes[26]);
        Assert.Equal($"{Day(0)}: 2 passes", passes[29]);
        Assert.Equal(3, passes.Count(t => !t.EndsWith(": 0 passes", StringComparison.Ordinal)));
        var revenue = await Titles(page, "Revenue (EUR)");
        Assert.Equal($"{Day(12)}: 10.00 EUR", revenue[17]);
        Assert.Equal($"{Day(2)}: 9.98 EUR", revenue[27]);
        var redemptions = await Table(page, "Vouchers redeemed");
        Assert.Equal(30, redemptions.Count);
        Assert.Equal("2", redemptions[Day(1)]);
        Assert.Equal("1", redemptions[Day(20)]);
        Assert.Equal("0", redemptions[Day(0)]);
        await VouchersBrowserTests.Shot(page, "dashboard-table");

        // The last 7 days.
        await quick.GetByRole(AriaRole.Link, new() { Name = "Last 7 days" }).ClickAsync();
        await Expect(page).ToHaveURLAsync($"{fixture.BaseUrl}/admin?from={Day(6)}&to={Day(0)}");
        await Expect(quick.Locator("[aria-current=true]")).ToHaveTextAsync("Last 7 days");
        await Expect(page.GetByTestId("total-passes")).ToHaveTextAsync("3 passes");
        await Expect(page.GetByTestId("total-redemptions")).ToHaveTextAsync("2 redemptions");
        Assert.Equal(["9.98 EUR"], await Revenue(page));
        Assert.Equal(
            [$"{Day(6)}: 0 passes", $"{Day(5)}: 0 passes", $"{Day(4)}: 0 passes", $"{Day(3)}: 1 pass", $"{Day(2)}: 0 passes", $"{Day(1)}: 0 passes", $"{Day(0)}: 2 passes"],
            await Titles(page, "Passes granted"));
        var week = await Table(page, "Revenue (EUR)");
        Assert.Equal([Day(6), Day(5), Day(4), Day(3), Day(2), Day(1), Day(0)], week.Keys);
        Assert.Equal(["0.00", "0.00", "0.00", "0.00", "9.98", "0.00", "0.00"], week.Values);

        // A range of one's own, back to a sale in dollars: a revenue chart per currency.
        await page.GetByLabel("From (UTC)").FillAsync(Day(50));
        await page.GetByLabel("To (UTC)").FillAsync(Day(10));
        await page.GetByRole(AriaRole.Button, new() { Name = "Show" }).ClickAsync();
        await Expect(page).ToHaveURLAsync($"{fixture.BaseUrl}/admin?from={Day(50)}&to={Day(10)}");
        await Expect(page.GetByTestId("range")).ToHaveTextAsync($"{Day(50)} to {Day(10)} (UTC), 41 days");
        await Expect(quick.Locator("[aria-current=true]")).ToHaveCountAsync(0);
        await Expect(page.GetByTestId("total-passes")).ToHaveTextAsync("9 passes");
        await Expect(page.GetByTestId("total-redemptions")).ToHaveTextAsync("1 redemption");
        Assert.Equal(["10.00 EUR", "3.50 USD"], await Revenue(page));
        await Expect(page.GetByRole(AriaRole.Img)).ToHaveCountAsync(4);
        await Expect(page.GetByRole(AriaRole.Img, new() { Name = $"Revenue (USD), {Day(50)} to {Day(10)}: 3.50 USD", Exact = true })).ToBeVisibleAsync();
        Assert.Equal($"{Day(45)}: 3.50 USD", (await Titles(page, "Revenue (USD)"))[5]);
        var custom = await Table(page, "Passes granted");
        Assert.Equal(41, custom.Count);
        Assert.Equal("5", custom[Day(40)]);
        Assert.Equal("4", custom[Day(10)]);
        Assert.Equal(["4", "5"], custom.Values.Where(v => v != "0").Order());
        await VouchersBrowserTests.Shot(page, "dashboard-custom");

        // The merchant's connection details are still on the home page.
        await Expect(page.GetByRole(AriaRole.Main)).ToContainTextAsync(merchant.Uuid.ToString());
        await Expect(page.GetByRole(AriaRole.Main)).ToContainTextAsync($"InPlayer.setConfig('production', {{ baseURL: '{fixture.BaseUrl}' }});");
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "/scalar" })).ToBeVisibleAsync();
    }

    [Theory]
    [InlineData("?from=2026-13-45&to=2026-01-01", "From must be a date (yyyy-MM-dd).")]
    [InlineData("?from=2026-03-10&to=2026-03-01", "From must be on or before To.")]
    [InlineData("?from=2020-01-01&to=2026-01-01", "A range is at most 366 days.")]
    [InlineData("?to=9999-12-31", "To must be between 2000-01-01 and 2099-12-31.")]
    // (A NUL, to=%00, never reaches the page: the Kernel refuses any query string carrying one with a 400.)
    [InlineData("?from[]=x&to=not-a-date", "To must be a date (yyyy-MM-dd).")]
    public async Task A_range_that_cannot_be_shown_says_why_and_shows_the_last_30_days(string query, string problem)
    {
        var merchant = await Given.Merchant(fixture.Db);
        var shop = await DashboardShop.Open(fixture.Db, merchant);
        await shop.Pass(DaysAgo(5));
        var page = await fixture.SignedIn(merchant);

        var response = await page.GotoAsync("/admin" + query);

        Assert.Equal(200, response!.Status);
        await Expect(page.GetByRole(AriaRole.Alert)).ToHaveTextAsync($"{problem} Showing the last 30 days instead.");
        await Expect(page.GetByTestId("range")).ToHaveTextAsync($"{Day(29)} to {Day(0)} (UTC), 30 days");
        await Expect(page.GetByTestId("total-passes")).ToHaveTextAsync("1 pass");
        await Expect(page.GetByRole(AriaRole.Img)).ToHaveCountAsync(3);
        await Expect(page.GetByRole(AriaRole.Img, new() { Name = $"Revenue, {Day(29)} to {Day(0)}: 0.00", Exact = true })).ToBeVisibleAsync();
        Assert.Equal(["0.00"], await Revenue(page));
    }
}
