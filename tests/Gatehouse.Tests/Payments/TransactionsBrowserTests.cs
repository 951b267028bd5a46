using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Web;
using Dapper;
using Gatehouse.Payments;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Tests.Vouchers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Gatehouse.Tests.Payments;

/// <summary>
/// Transactions › Payments and Subscriptions in a real browser: the payments table with each outcome and the voucher of
/// each payment, the search (email, voucher code, token), the date, type and status filters, the subscriptions tab, a
/// subscription's page with its rebill history, Cancel behind its confirmation, and another merchant's admin seeing none
/// of it. Viewers pay through the API with the test gateway's cards, as a paywall would.
/// </summary>
public sealed class TransactionsBrowserTests(BrowserFixture fixture) : IClassFixture<BrowserFixture>, IDisposable
{
    private readonly Api _api = new(fixture.BaseUrl);

    public void Dispose() => _api.Dispose();

    private sealed record Shop(TestMerchant Merchant, string Token, long CupFinal, long Derby, long Fee, long DerbyFee, long MonthlyFee);

    private sealed record Viewer(long Id, string Email, string Token);

    private DateTimeOffset Now => fixture.Clock.GetUtcNow();

    private static string Day(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static string Utc(long unixSeconds) =>
        DateTimeOffset.FromUnixTimeSeconds(unixSeconds).ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);

    // ---- The merchant's back end and the viewers' paywall, through the API ----

    private async Task<Shop> OpenShop(string name = "Payments Media")
    {
        var merchant = await Given.Merchant(fixture.Db, name);
        var token = await _api.MerchantToken(merchant);
        async Task<long> Create(string path, Dictionary<string, string> form) =>
            (await _api.Send(HttpMethod.Post, path, token, form, HttpStatusCode.Created)).GetProperty("id").GetInt64();
        var cupFinal = await Create("/v2/items", new() { ["title"] = "Cup Final", ["item_type"] = "video", ["content"] = "stream-cup" });
        var derby = await Create("/v2/items", new() { ["title"] = "Derby", ["item_type"] = "video", ["content"] = "stream-derby" });
        Dictionary<string, string> Fee(string type, string amount, string quantity, string period, string description) => new()
        {
            ["access_type"] = type, ["amount"] = amount, ["currency"] = "EUR", ["quantity"] = quantity, ["period"] = period,
            ["description"] = description,
        };
        var fee = await Create($"/v2/items/{cupFinal}/access-fees", Fee("ppv", "4.99", "2", "day", "Two days"));
        var derbyFee = await Create($"/v2/items/{derby}/access-fees", Fee("ppv", "10.00", "2", "day", "Two days"));
        var monthly = await Create($"/v2/items/{cupFinal}/access-fees", Fee("subscription", "10.00", "1", "month", "Monthly"));
        return new Shop(merchant, token, cupFinal, derby, fee, derbyFee, monthly);
    }

    private async Task<Viewer> Register(Shop shop, string email)
    {
        var body = await _api.Send(HttpMethod.Post, "/accounts", null, new()
        {
            ["full_name"] = "Test Viewer", ["username"] = email, ["password"] = Given.Password, ["password_confirmation"] = Given.Password,
            ["client_id"] = shop.Merchant.Uuid.ToString(), ["type"] = "consumer",
        }, HttpStatusCode.Created);
        return new Viewer(body.GetProperty("account").GetProperty("id").GetInt64(), email, body.GetProperty("access_token").GetString()!);
    }

    private Task<JsonElement> CreateVoucher(Shop shop, string code, Dictionary<string, string> form)
    {
        form["name"] = code;
        form["code"] = code;
        form.TryAdd("start_date", Now.AddDays(-1).ToString("o"));
        return _api.Send(HttpMethod.Post, "/v2/vouchers", shop.Token, form, HttpStatusCode.Created);
    }

    /// <summary>A checkout with a card as the JS SDK posts it: /payments for a ppv fee, /subscriptions for a subscription fee.</summary>
    private Task<JsonElement> Checkout(Viewer viewer, long feeId, string card = PaymentShop.GoodCard, string? voucher = null,
        string path = "/payments", HttpStatusCode expected = HttpStatusCode.OK)
    {
        var form = PaymentShop.CardForm(feeId, card);
        if (voucher is not null) form["voucher_code"] = voucher;
        return _api.Send(HttpMethod.Post, path, viewer.Token, form, expected);
    }

    private async Task<long> Subscribe(Shop shop, Viewer viewer, string card = PaymentShop.GoodCard, string? voucher = null) =>
        (await Checkout(viewer, shop.MonthlyFee, card, voucher, "/subscriptions")).GetProperty("subscription_id").GetInt64();

    private Task<JsonElement> SubscriptionOf(Shop shop, long id) =>
        _api.Send(HttpMethod.Get, $"/v2/subscriptions/{id}", shop.Token, null, HttpStatusCode.OK);

    /// <summary>Charges every due rebill, as the scheduled job does, and waits until each is settled (the app's own scheduler
    /// may have claimed one a moment before).</summary>
    private async Task RunRebills(long subscriptionId, int expectedPayments)
    {
        using (var scope = fixture.Services.CreateScope())
            await scope.ServiceProvider.GetRequiredService<RunRebills>().Invoke();
        await using var connection = await fixture.Db.OpenConnectionAsync();
        for (var i = 0; ; i++)
        {
            var (all, pending) = await connection.QuerySingleAsync<(long, long)>(
                "select count(*), count(*) filter (where status = 'pending') from payments.payments where subscription_id = @subscriptionId",
                new { subscriptionId });
            if (all == expectedPayments && pending == 0) return;
            Assert.True(i < 150, $"subscription {subscriptionId}: {all} payments, {pending} pending");
            await Task.Delay(200);
        }
    }

    // ---- The admin, in the browser ----

    private async Task<IPage> OnPayments(TestMerchant merchant)
    {
        var page = await VouchersBrowserTests.SignedIn(fixture, merchant);
        await page.GetByRole(AriaRole.Navigation, new() { Name = "Main" })
            .GetByRole(AriaRole.Link, new() { Name = "Transactions", Exact = true }).ClickAsync();
        await Expect(page).ToHaveURLAsync(fixture.BaseUrl + "/admin/transactions");
        await Expect(page.GetByRole(AriaRole.Navigation, new() { Name = "Transactions section" }).Locator("[aria-current=page]"))
            .ToHaveTextAsync("Payments");
        return page;
    }

    private static async Task OnSubscriptionsTab(IPage page, string baseUrl)
    {
        await page.GetByRole(AriaRole.Navigation, new() { Name = "Transactions section" })
            .GetByRole(AriaRole.Link, new() { Name = "Subscriptions", Exact = true }).ClickAsync();
        await Expect(page).ToHaveURLAsync(baseUrl + "/admin/transactions/subscriptions");
    }

    private static ILocator Rows(IPage page, string table) =>
        page.GetByRole(AriaRole.Table, new() { Name = table }).Locator("tbody").GetByRole(AriaRole.Row);

    private static ILocator Row(IPage page, string table, string text) => Rows(page, table).Filter(new() { HasText = text });

    /// <summary>The cells of a row, by column header.</summary>
    private static async Task<Dictionary<string, string>> Cells(IPage page, string table, ILocator row)
    {
        var headers = await page.GetByRole(AriaRole.Table, new() { Name = table }).Locator("thead th").AllInnerTextsAsync();
        var cells = await row.Locator("td").AllInnerTextsAsync();
        Assert.Equal(headers.Count, cells.Count);
        return headers.Zip(cells).ToDictionary(p => p.First.Trim(), p => p.Second.Trim());
    }

    /// <summary>Submits the search form and waits for the results page that has these values in its query string.</summary>
    private static async Task Submit(IPage page, string form, params (string Key, string Value)[] expected)
    {
        await page.GetByRole(AriaRole.Search, new() { Name = form }).GetByRole(AriaRole.Button, new() { Name = "Search" }).ClickAsync();
        try
        {
            await page.WaitForUrl(url =>
            {
                var query = HttpUtility.ParseQueryString(new Uri(url).Query);
                return expected.All(e => query[e.Key] == e.Value);
            });
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"Waited for {string.Join("&", expected.Select(p => $"{p.Key}={p.Value}"))}; the page is at {page.Url}", e);
        }
    }

    private static async Task Search(IPage page, string form, string text)
    {
        await page.GetByRole(AriaRole.Search, new() { Name = form }).GetByRole(AriaRole.Searchbox, new() { Name = "Search" }).FillAsync(text);
        await Submit(page, form, ("q", text));
    }

    [Fact]
    public async Task The_payments_table_shows_each_outcome_and_the_voucher_of_each_payment()
    {
        var shop = await OpenShop();
        await CreateVoucher(shop, "SPRING25", new() { ["discount"] = "25" });
        await CreateVoucher(shop, "FREE100", new() { ["discount"] = "100" });
        var ana = await Register(shop, "ana@mail.test");
        var ben = await Register(shop, "ben@mail.test");
        var cara = await Register(shop, "cara@other.test");
        var dan = await Register(shop, "dan@mail.test");
        var paid = await Checkout(ana, shop.Fee);
        var declined = await Checkout(ben, shop.Fee, PaymentShop.DeclinedCard, expected: HttpStatusCode.PaymentRequired);
        Assert.Equal("Your card was declined", declined.GetProperty("message").GetString());
        await Checkout(cara, shop.Fee, voucher: "spring25");
        await Checkout(dan, shop.DerbyFee, voucher: "FREE100");

        var page = await OnPayments(shop.Merchant);
        await Expect(page.GetByTestId("payment-count")).ToHaveTextAsync("4 payments");
        // Ana and Cara paid; Ben's card was declined and Dan's voucher paid it all.
        await Expect(page.GetByTestId("paying-customers")).ToHaveTextAsync("2 unique paying customers");
        await Expect(Rows(page, "Payments")).ToHaveCountAsync(4);
        await VouchersBrowserTests.Shot(page, "transactions-payments");
        // Newest first.
        Assert.Equal(["dan@mail.test", "cara@other.test", "ben@mail.test", "ana@mail.test"],
            await Rows(page, "Payments").Locator("td:nth-child(2)").AllInnerTextsAsync());

        var anaRow = await Cells(page, "Payments", Row(page, "Payments", "ana@mail.test"));
        Assert.Equal(("Cup Final", "Purchase", "Succeeded", "4.99 EUR", "4.99 EUR", "—", "—", ""),
            (anaRow["Asset or package"], anaRow["Type"], anaRow["Status"], anaRow["Amount"], anaRow["Charged"], anaRow["Voucher"],
                anaRow["Discount"], anaRow["Failure reason"]));
        Assert.Equal($"{Utc(Now.ToUnixTimeSeconds())}\n{paid.GetProperty("transaction_token").GetString()}", anaRow["Date (UTC)"]);

        var benRow = await Cells(page, "Payments", Row(page, "Payments", "ben@mail.test"));
        Assert.Equal(("Failed", "4.99 EUR", "Your card was declined"), (benRow["Status"], benRow["Charged"], benRow["Failure reason"]));

        var caraRow = await Cells(page, "Payments", Row(page, "Payments", "cara@other.test"));
        Assert.Equal(("Succeeded", "4.99 EUR", "3.74 EUR", "SPRING25", "25 %"),
            (caraRow["Status"], caraRow["Amount"], caraRow["Charged"], caraRow["Voucher"], caraRow["Discount"]));

        var danRow = await Cells(page, "Payments", Row(page, "Payments", "dan@mail.test"));
        Assert.Equal(("Derby", "Voucher (no card)", "Succeeded", "10.00 EUR", "0.00 EUR", "FREE100", "100 %"),
            (danRow["Asset or package"], danRow["Type"], danRow["Status"], danRow["Amount"], danRow["Charged"], danRow["Voucher"], danRow["Discount"]));

        // The viewer's email opens the viewer.
        await Row(page, "Payments", "cara@other.test").GetByRole(AriaRole.Link, new() { Name = "cara@other.test" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(fixture.BaseUrl + $"/admin/audience/{cara.Id}");
    }

    [Fact]
    public async Task Searching_by_email_voucher_code_or_token_narrows_the_table()
    {
        var shop = await OpenShop();
        await CreateVoucher(shop, "DERBY-HALF", new() { ["discount"] = "50" });
        var ana = await Register(shop, "ana@mail.test");
        var ben = await Register(shop, "ben@other.test");
        await Checkout(ana, shop.Fee);
        await Checkout(ana, shop.DerbyFee, voucher: "DERBY-HALF");
        var bens = await Checkout(ben, shop.Fee);
        await Checkout(ben, shop.DerbyFee, PaymentShop.DeclinedCard, expected: HttpStatusCode.PaymentRequired);

        var page = await OnPayments(shop.Merchant);
        await Expect(Rows(page, "Payments")).ToHaveCountAsync(4);

        // The whole address, or exactly its part before or after the @.
        await Search(page, "Search payments", "ana@mail.test");
        await Expect(page.GetByTestId("payment-count")).ToHaveTextAsync("2 payments");
        await Expect(page.GetByTestId("paying-customers")).ToHaveTextAsync("1 unique paying customer");
        Assert.All(await Rows(page, "Payments").Locator("td:nth-child(2)").AllInnerTextsAsync(), email => Assert.Equal("ana@mail.test", email));
        await Search(page, "Search payments", "BEN");
        await Expect(Rows(page, "Payments")).ToHaveCountAsync(2);
        await Expect(Rows(page, "Payments").Filter(new() { HasText = "ben@other.test" })).ToHaveCountAsync(2);
        await Search(page, "Search payments", "other.test");
        await Expect(Rows(page, "Payments").Filter(new() { HasText = "ben@other.test" })).ToHaveCountAsync(2);
        await Expect(page.GetByTestId("payment-count")).ToHaveTextAsync("2 payments");
        // A fragment is not a match.
        await Search(page, "Search payments", "an");
        await Expect(page.GetByTestId("payment-count")).ToHaveTextAsync("0 payments");
        await Expect(Rows(page, "Payments")).ToHaveTextAsync(["No payments match."]);

        // A voucher code, in any case: only the payment that used it.
        await Search(page, "Search payments", "derby-half");
        await Expect(Rows(page, "Payments")).ToHaveCountAsync(1);
        var row = await Cells(page, "Payments", Rows(page, "Payments").First);
        Assert.Equal(("ana@mail.test", "Derby", "5.00 EUR", "DERBY-HALF", "50 %"),
            (row["Viewer"], row["Asset or package"], row["Charged"], row["Voucher"], row["Discount"]));
        // The search stays in the box, and Clear goes back to every payment.
        await Expect(page.GetByRole(AriaRole.Searchbox, new() { Name = "Search" })).ToHaveValueAsync("derby-half");

        // A transaction token.
        var token = bens.GetProperty("transaction_token").GetString()!;
        await Search(page, "Search payments", token);
        await Expect(Rows(page, "Payments")).ToHaveCountAsync(1);
        await Expect(Rows(page, "Payments")).ToContainTextAsync(["ben@other.test"]);
        await Expect(Rows(page, "Payments")).ToContainTextAsync([token]);

        await page.GetByRole(AriaRole.Link, new() { Name = "Clear" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(fixture.BaseUrl + "/admin/transactions");
        await Expect(Rows(page, "Payments")).ToHaveCountAsync(4);
    }

    [Fact]
    public async Task The_date_type_and_status_filters_exclude_what_they_leave_out()
    {
        var shop = await OpenShop();
        var ana = await Register(shop, "ana@mail.test");
        var ben = await Register(shop, "ben@mail.test");
        var firstDay = Now;
        await Checkout(ana, shop.Fee);
        fixture.Clock.Advance(TimeSpan.FromDays(3));
        var laterDay = Now;
        await Checkout(ben, shop.DerbyFee);
        await Checkout(ben, shop.Fee, PaymentShop.DeclinedCard, expected: HttpStatusCode.PaymentRequired);
        await Subscribe(shop, ana);

        var page = await OnPayments(shop.Merchant);
        await Expect(Rows(page, "Payments")).ToHaveCountAsync(4);

        // From the day after the first payment: the first one is left out.
        await page.GetByLabel("From (UTC)").FillAsync(Day(firstDay.AddDays(1)));
        await Submit(page, "Search payments", ("start_date", Day(firstDay.AddDays(1))));
        await Expect(page.GetByTestId("payment-count")).ToHaveTextAsync("3 payments");
        await Expect(Rows(page, "Payments").Filter(new() { HasText = Utc(firstDay.ToUnixTimeSeconds()) })).ToHaveCountAsync(0);
        await Expect(page.GetByLabel("From (UTC)")).ToHaveValueAsync(Day(firstDay.AddDays(1)));

        // Up to that day only: the first payment alone (both days are included, UTC).
        await page.GetByLabel("From (UTC)").FillAsync("");
        await page.GetByLabel("To (UTC)").FillAsync(Day(firstDay.AddDays(1)));
        await Submit(page, "Search payments", ("start_date", ""), ("end_date", Day(firstDay.AddDays(1))));
        await Expect(Rows(page, "Payments")).ToHaveCountAsync(1);
        var only = await Cells(page, "Payments", Rows(page, "Payments").First);
        Assert.Equal(("ana@mail.test", "Cup Final", "Purchase"), (only["Viewer"], only["Asset or package"], only["Type"]));
        Assert.StartsWith(Utc(firstDay.ToUnixTimeSeconds()), only["Date (UTC)"]);

        // The later day alone, failed payments only.
        await page.GetByLabel("From (UTC)").FillAsync(Day(laterDay));
        await page.GetByLabel("To (UTC)").FillAsync(Day(laterDay));
        await page.GetByLabel("Status").SelectOptionAsync(new SelectOptionValue { Label = "Failed" });
        await Submit(page, "Search payments", ("start_date", Day(laterDay)), ("end_date", Day(laterDay)), ("status", "failed"));
        await Expect(Rows(page, "Payments")).ToHaveCountAsync(1);
        await Expect(Rows(page, "Payments")).ToContainTextAsync(["ben@mail.test"]);
        await Expect(Rows(page, "Payments")).ToContainTextAsync(["Your card was declined"]);

        // Subscription payments, any status: the subscribe charge, with its subscription's link.
        await page.GetByLabel("Status").SelectOptionAsync(new SelectOptionValue { Label = "All statuses" });
        await page.GetByLabel("Type").SelectOptionAsync(new SelectOptionValue { Label = "Subscription" });
        await Submit(page, "Search payments", ("type", "subscribe"), ("status", ""));
        await Expect(Rows(page, "Payments")).ToHaveCountAsync(1);
        var subscribed = await Cells(page, "Payments", Rows(page, "Payments").First);
        Assert.Equal(("ana@mail.test", "Subscription", "10.00 EUR"), (subscribed["Viewer"], subscribed["Type"], subscribed["Charged"]));
        Assert.Matches(@"^Cup Final\nSubscription #\d+$", subscribed["Asset or package"]);

        // A day range the wrong way round is refused with the reason, not answered with nothing.
        await page.GetByLabel("From (UTC)").FillAsync(Day(laterDay));
        await page.GetByLabel("To (UTC)").FillAsync(Day(firstDay));
        await Submit(page, "Search payments", ("start_date", Day(laterDay)), ("end_date", Day(firstDay)));
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("End date: must not be before start_date");
    }

    [Fact]
    public async Task The_payments_come_a_page_at_a_time_and_the_pages_keep_the_search()
    {
        var shop = await OpenShop();
        var ana = await Register(shop, "ana@mail.test");
        var ben = await Register(shop, "ben@mail.test");
        await Checkout(ben, shop.DerbyFee);
        for (var i = 0; i < 27; i++)
        {
            fixture.Clock.Advance(TimeSpan.FromSeconds(61)); // a minute apart, so each row shows its own time
            await Checkout(ana, shop.Fee);
        }
        var last = Now;

        var page = await OnPayments(shop.Merchant);
        await Search(page, "Search payments", "ana@mail.test");
        await Expect(page.GetByTestId("payment-count")).ToHaveTextAsync("27 payments");
        await Expect(Rows(page, "Payments")).ToHaveCountAsync(IndexPageSize);
        Assert.StartsWith(Utc(last.ToUnixTimeSeconds()), (await Cells(page, "Payments", Rows(page, "Payments").First))["Date (UTC)"]);
        var pager = page.GetByRole(AriaRole.Navigation, new() { Name = "Pages" });
        await Expect(pager).ToContainTextAsync("Page 1 of 2");

        await pager.GetByRole(AriaRole.Link, new() { Name = "Next" }).ClickAsync();
        await page.WaitForUrl(url => HttpUtility.ParseQueryString(new Uri(url).Query)["page"] == "2");
        await Expect(pager).ToContainTextAsync("Page 2 of 2");
        await Expect(page.GetByRole(AriaRole.Searchbox, new() { Name = "Search" })).ToHaveValueAsync("ana@mail.test");
        // The two oldest of Ana's, and none of Ben's.
        await Expect(Rows(page, "Payments")).ToHaveCountAsync(2);
        Assert.All(await Rows(page, "Payments").Locator("td:nth-child(2)").AllInnerTextsAsync(), email => Assert.Equal("ana@mail.test", email));
        Assert.StartsWith(Utc(last.AddSeconds(-61 * 26).ToUnixTimeSeconds()), (await Cells(page, "Payments", Rows(page, "Payments").Last))["Date (UTC)"]);

        await pager.GetByRole(AriaRole.Link, new() { Name = "Previous" }).ClickAsync();
        await Expect(pager).ToContainTextAsync("Page 1 of 2");
        await Expect(Rows(page, "Payments")).ToHaveCountAsync(IndexPageSize);
    }

    private const int IndexPageSize = Gatehouse.Payments.Pages.Admin.Transactions.IndexModel.PageSize;

    [Fact]
    public async Task The_subscriptions_tab_lists_subscriptions_and_searches_them()
    {
        var shop = await OpenShop();
        await CreateVoucher(shop, "HALF-FIRST", new() { ["discount"] = "50", ["rebill_discount"] = "20", ["discount_period"] = "repeating", ["discount_duration"] = "2" });
        var ana = await Register(shop, "ana@mail.test");
        var ben = await Register(shop, "ben@other.test");
        var anas = await Subscribe(shop, ana, voucher: "HALF-FIRST");
        fixture.Clock.Advance(TimeSpan.FromMinutes(5));
        await Subscribe(shop, ben);
        var anaSubscription = await SubscriptionOf(shop, anas);
        var nextRebill = anaSubscription.GetProperty("subscription").GetProperty("next_rebill_date").GetInt64();

        var page = await OnPayments(shop.Merchant);
        // The subscribe charges are payments too.
        await Expect(Rows(page, "Payments").Filter(new() { HasText = "Subscription #" })).ToHaveCountAsync(2);
        await OnSubscriptionsTab(page, fixture.BaseUrl);
        await Expect(page.GetByTestId("subscription-count")).ToHaveTextAsync("2 subscriptions");
        await VouchersBrowserTests.Shot(page, "transactions-subscriptions");
        Assert.Equal(["ben@other.test", "ana@mail.test"], await Rows(page, "Subscriptions").Locator("td:nth-child(2)").AllInnerTextsAsync());
        var row = await Cells(page, "Subscriptions", Row(page, "Subscriptions", "ana@mail.test"));
        Assert.Equal(("Cup Final\nMonthly", "Active", "10.00 EUR", $"{Utc(nextRebill)}\n8.00 EUR", "HALF-FIRST", "1"),
            (row["Asset or package"], row["Status"], row["Price"], row["Next rebill (UTC)"], row["Voucher"], row["Charges"]));

        await Search(page, "Search subscriptions", "ben@other.test");
        await Expect(Rows(page, "Subscriptions")).ToHaveCountAsync(1);
        await Expect(Rows(page, "Subscriptions")).ToContainTextAsync(["ben@other.test"]);
        await Search(page, "Search subscriptions", "half-first");
        await Expect(Rows(page, "Subscriptions")).ToHaveCountAsync(1);
        await Expect(Rows(page, "Subscriptions")).ToContainTextAsync(["ana@mail.test"]);
        await Search(page, "Search subscriptions", "");
        await page.GetByLabel("Status").SelectOptionAsync(new SelectOptionValue { Label = "Cancelled" });
        await Submit(page, "Search subscriptions", ("status", "cancelled"));
        await Expect(Rows(page, "Subscriptions")).ToHaveTextAsync(["No subscriptions match."]);
        await page.GetByLabel("Status").SelectOptionAsync(new SelectOptionValue { Label = "Active" });
        await page.GetByLabel("Created from (UTC)").FillAsync(Day(Now.AddDays(1)));
        await Submit(page, "Search subscriptions", ("status", "active"), ("start_date", Day(Now.AddDays(1))));
        await Expect(page.GetByTestId("subscription-count")).ToHaveTextAsync("0 subscriptions");
        await page.GetByLabel("Created from (UTC)").FillAsync(Day(Now));
        await Submit(page, "Search subscriptions", ("status", "active"), ("start_date", Day(Now)));
        await Expect(page.GetByTestId("subscription-count")).ToHaveTextAsync("2 subscriptions");

        // The row opens the subscription: its terms and its voucher's.
        await Row(page, "Subscriptions", "ana@mail.test").GetByRole(AriaRole.Link, new() { Name = "Cup Final" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(fixture.BaseUrl + $"/admin/transactions/subscriptions/{anas}");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = $"Subscription #{anas}", Level = 1 })).ToBeVisibleAsync();
        await Expect(page.GetByTestId("subscription-status")).ToHaveTextAsync("Active");
        await Expect(page.GetByTestId("subscription-viewer")).ToHaveTextAsync("ana@mail.test");
        await Expect(page.GetByTestId("subscription-price")).ToHaveTextAsync("10.00 EUR");
        await Expect(page.GetByTestId("subscription-voucher")).ToHaveTextAsync("HALF-FIRST");
        await Expect(page.GetByTestId("subscription-discount")).ToHaveTextAsync("50 % off the first charge");
        await Expect(page.GetByTestId("subscription-rebill-discount")).ToHaveTextAsync("20 %");
        await Expect(page.GetByTestId("subscription-discount-period")).ToHaveTextAsync("Repeating: the first charge and 2 rebills");
        await Expect(page.GetByTestId("subscription-next-charge")).ToHaveTextAsync($"8.00 EUR on {Utc(nextRebill)}");
        await Expect(page.GetByText("•••• 4242")).ToBeVisibleAsync();
        await Expect(Rows(page, "Charges and rebills")).ToHaveCountAsync(1);
    }

    [Fact]
    public async Task A_subscriptions_page_shows_its_rebill_history_after_rebills()
    {
        var shop = await OpenShop();
        await CreateVoucher(shop, "HALF-FIRST", new() { ["discount"] = "50", ["rebill_discount"] = "20", ["discount_period"] = "repeating", ["discount_duration"] = "2" });
        var ana = await Register(shop, "ana@mail.test");
        var ben = await Register(shop, "ben@mail.test");
        var anas = await Subscribe(shop, ana, voucher: "HALF-FIRST");
        var bens = await Subscribe(shop, ben, PaymentShop.DeclinesAfterFirst);
        var subscribedAt = Now;
        var due = DateTimeOffset.FromUnixTimeSeconds((await SubscriptionOf(shop, anas)).GetProperty("subscription").GetProperty("next_rebill_date").GetInt64());

        fixture.Clock.SetUtcNow(due.AddMinutes(1));
        await RunRebills(anas, 2);
        await RunRebills(bens, 2);
        var rebilledAt = Now;
        shop = shop with { Token = await _api.MerchantToken(shop.Merchant) }; // the old one expired in the month
        var anaNow = (await SubscriptionOf(shop, anas)).GetProperty("subscription");
        var benNow = (await SubscriptionOf(shop, bens)).GetProperty("subscription");

        // Signed in after the clock moved (the admin cookie lasts 12 hours).
        var page = await OnPayments(shop.Merchant);
        await Expect(Rows(page, "Payments").Filter(new() { HasText = "Rebill" })).ToHaveCountAsync(2);
        await page.GotoAsync($"/admin/transactions/subscriptions/{anas}");
        await Expect(page.GetByTestId("subscription-charges")).ToHaveTextAsync("2");
        var history = Rows(page, "Charges and rebills");
        await Expect(history).ToHaveCountAsync(2);
        await VouchersBrowserTests.Shot(page, "transactions-subscription-rebilled");
        var rebill = await Cells(page, "Charges and rebills", history.Nth(0));
        Assert.Equal((Utc(rebilledAt.ToUnixTimeSeconds()), "Rebill", "Succeeded", "10.00 EUR", "8.00 EUR", "20 %", ""),
            (rebill["Date (UTC)"], rebill["Type"], rebill["Status"], rebill["Price"], rebill["Charged"], rebill["Discount"], rebill["Failure reason"]));
        Assert.NotEqual("", rebill["Transaction token"]);
        var first = await Cells(page, "Charges and rebills", history.Nth(1));
        Assert.Equal((Utc(subscribedAt.ToUnixTimeSeconds()), "Subscription", "Succeeded", "5.00 EUR", "50 %"),
            (first["Date (UTC)"], first["Type"], first["Status"], first["Charged"], first["Discount"]));
        // The second rebill is still within the voucher's two discounted rebills.
        await Expect(page.GetByTestId("subscription-next-charge"))
            .ToHaveTextAsync($"8.00 EUR on {Utc(anaNow.GetProperty("next_rebill_date").GetInt64())}");

        // A declined rebill is in the history with its reason, and the retry is the next charge.
        await page.GotoAsync($"/admin/transactions/subscriptions/{bens}");
        await Expect(page.GetByTestId("subscription-status")).ToHaveTextAsync("Active");
        history = Rows(page, "Charges and rebills");
        await Expect(history).ToHaveCountAsync(2);
        var declined = await Cells(page, "Charges and rebills", history.Nth(0));
        Assert.Equal(("Rebill", "Failed", "10.00 EUR", "Your card was declined"),
            (declined["Type"], declined["Status"], declined["Charged"], declined["Failure reason"]));
        Assert.Equal(rebilledAt.AddDays(1).ToUnixTimeSeconds(), benNow.GetProperty("next_rebill_date").GetInt64());
        await Expect(page.GetByTestId("subscription-next-charge")).ToHaveTextAsync($"10.00 EUR on {Utc(rebilledAt.AddDays(1).ToUnixTimeSeconds())}");
        await Expect(page.GetByTestId("subscription-no-voucher")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task Cancel_asks_for_confirmation_then_cancels_the_subscription()
    {
        var shop = await OpenShop();
        var ana = await Register(shop, "ana@mail.test");
        var ben = await Register(shop, "ben@mail.test");
        var anas = await Subscribe(shop, ana);
        var bens = await Subscribe(shop, ben);

        var page = await OnPayments(shop.Merchant);
        await OnSubscriptionsTab(page, fixture.BaseUrl);
        await Row(page, "Subscriptions", "ana@mail.test").GetByRole(AriaRole.Link, new() { Name = "Cup Final" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(fixture.BaseUrl + $"/admin/transactions/subscriptions/{anas}");

        // The button only opens the confirmation.
        var yes = page.GetByRole(AriaRole.Button, new() { Name = "Yes, cancel!" });
        await Expect(yes).ToBeHiddenAsync();
        await page.GetByText("Cancel subscription", new() { Exact = true }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Form, new() { Name = "Cancel subscription" })).ToContainTextAsync("Cancel ana@mail.test’s subscription to Cup Final?");
        Assert.Equal("active", (await SubscriptionOf(shop, anas)).GetProperty("subscription").GetProperty("status").GetString());
        await VouchersBrowserTests.Shot(page, "transactions-cancel-confirm");
        await yes.ClickAsync();

        await Expect(page).ToHaveURLAsync(fixture.BaseUrl + $"/admin/transactions/subscriptions/{anas}");
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("Subscription cancelled: ana@mail.test is not charged again");
        await Expect(page.GetByTestId("subscription-status")).ToHaveTextAsync("Cancelled");
        await Expect(page.GetByTestId("subscription-next-charge")).ToHaveTextAsync("None");
        await Expect(page.GetByTestId("subscription-cancelled")).ToContainTextAsync($"{Utc(Now.ToUnixTimeSeconds())} by admin:");
        await Expect(page.GetByTestId("subscription-cancelled")).ToContainTextAsync(shop.Merchant.AdminEmail);
        await Expect(page.GetByText("Cancel subscription", new() { Exact = true })).ToHaveCountAsync(0);
        var cancelled = (await SubscriptionOf(shop, anas)).GetProperty("subscription");
        Assert.Equal("cancelled", cancelled.GetProperty("status").GetString());
        Assert.StartsWith("admin:", cancelled.GetProperty("cancelled_by").GetString());
        // The other subscription is untouched, and the list shows both as they are.
        await page.GetByRole(AriaRole.Link, new() { Name = "← Subscriptions" }).ClickAsync();
        var statuses = await Rows(page, "Subscriptions").Locator("td:nth-child(4)").AllInnerTextsAsync();
        Assert.Equal(["Active", "Cancelled"], statuses);

        // A page opened before the viewer cancelled: the confirmation says why nothing happened.
        await Row(page, "Subscriptions", "ben@mail.test").GetByRole(AriaRole.Link, new() { Name = "Cup Final" }).ClickAsync();
        await Expect(page.GetByTestId("subscription-status")).ToHaveTextAsync("Active");
        var cancelToken = (await SubscriptionOf(shop, bens)).GetProperty("subscription").GetProperty("cancel_token").GetString();
        await _api.Send(HttpMethod.Get, $"/subscriptions/cancel/{cancelToken}", ben.Token, null, HttpStatusCode.OK);
        await page.GetByText("Cancel subscription", new() { Exact = true }).ClickAsync();
        var response = await page.RunAndWaitForResponseAsync(() => yes.ClickAsync(), r => r.Request.Method == "POST");
        Assert.Equal(409, response.Status);
        await VouchersBrowserTests.Shot(page, "transactions-cancel-refused");
        await Expect(page.GetByRole(AriaRole.Alert)).ToHaveTextAsync("This subscription is cancelled: only an active subscription can be cancelled");
        await Expect(page.GetByTestId("subscription-status")).ToHaveTextAsync("Cancelled");
        await Expect(page.GetByTestId("subscription-cancelled")).ToContainTextAsync($"by consumer:{ben.Id}");
    }

    [Fact]
    public async Task Another_merchants_admin_sees_none_of_the_payments_and_gets_a_404_for_the_subscription()
    {
        var theirs = await OpenShop("Their Media");
        var viewer = await Register(theirs, "ana@mail.test");
        await Checkout(viewer, theirs.Fee);
        var theirSubscription = await Subscribe(theirs, viewer);
        var ours = await OpenShop("Our Media");
        var ourViewer = await Register(ours, "zoe@mail.test");
        var ourSubscription = await Subscribe(ours, ourViewer);

        var page = await OnPayments(ours.Merchant);
        await Expect(page.GetByTestId("payment-count")).ToHaveTextAsync("1 payment");
        await Expect(Rows(page, "Payments")).ToContainTextAsync(["zoe@mail.test"]);
        await Search(page, "Search payments", "ana@mail.test");
        await Expect(Rows(page, "Payments")).ToHaveTextAsync(["No payments match."]);
        await OnSubscriptionsTab(page, fixture.BaseUrl);
        await Expect(page.GetByTestId("subscription-count")).ToHaveTextAsync("1 subscription");
        await Expect(Rows(page, "Subscriptions").Filter(new() { HasText = "ana@mail.test" })).ToHaveCountAsync(0);

        // Asked with this admin's cookie (a browser shows its own error page for a bodiless 404).
        Assert.Equal(404, (await page.APIRequest.GetAsync($"/admin/transactions/subscriptions/{theirSubscription}")).Status);
        Assert.Equal(200, (await page.APIRequest.GetAsync($"/admin/transactions/subscriptions/{ourSubscription}")).Status);

        // Our own Cancel form pointed at their subscription (antiforgery token and all) is a 404 too, and cancels nothing.
        await page.GotoAsync($"/admin/transactions/subscriptions/{ourSubscription}");
        // Closed in its confirmation, so not in the accessibility tree yet.
        var cancel = page.Locator("form[aria-label='Cancel subscription']");
        await cancel.EvaluateAsync("(form, id) => form.action = form.action.replace(/subscriptions\\/\\d+/, 'subscriptions/' + id)", theirSubscription);
        await page.GetByText("Cancel subscription", new() { Exact = true }).ClickAsync();
        var response = await page.RunAndWaitForResponseAsync(
            () => cancel.GetByRole(AriaRole.Button, new() { Name = "Yes, cancel!" }).ClickAsync(), r => r.Request.Method == "POST");
        Assert.Equal(404, response.Status);
        Assert.Equal("active", (await SubscriptionOf(theirs, theirSubscription)).GetProperty("subscription").GetProperty("status").GetString());
        Assert.Equal("active", (await SubscriptionOf(ours, ourSubscription)).GetProperty("subscription").GetProperty("status").GetString());

        // Signed out, every Transactions page sends to the login.
        var signedOut = await fixture.NewPage();
        foreach (var path in new[] { "/admin/transactions", "/admin/transactions/subscriptions", $"/admin/transactions/subscriptions/{theirSubscription}" })
        {
            await signedOut.GotoAsync(path);
            await Expect(signedOut).ToHaveURLAsync(new Regex(@"/admin/login\?ReturnUrl="));
            await Expect(signedOut.GetByText("ana@mail.test")).ToHaveCountAsync(0);
        }

        // And theirs sees their own.
        var theirPage = await OnPayments(theirs.Merchant);
        await Expect(theirPage.GetByTestId("payment-count")).ToHaveTextAsync("2 payments");
        await Expect(Rows(theirPage, "Payments").Filter(new() { HasText = "zoe@mail.test" })).ToHaveCountAsync(0);
    }
}
