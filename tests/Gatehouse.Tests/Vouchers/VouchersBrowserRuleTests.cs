using System.Net;
using System.Text;
using System.Text.Json;
using Gatehouse.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Gatehouse.Tests.Vouchers;

/// <summary>
/// A voucher's rule sections in a real browser, as the guide describes them: assets and packages moved from the merchant's
/// list to the voucher's by drag and drop and by the keyboard's Add and Remove buttons, access fees ticked and saved,
/// customer emails added one by one and from the CSV template, payment types, and the redemption history. What the pages
/// do is then read back through the API, since they run its use cases.
/// </summary>
public sealed class VouchersBrowserRuleTests(BrowserFixture fixture) : IClassFixture<BrowserFixture>, IDisposable
{
    private readonly Api _api = new(fixture.BaseUrl);

    public void Dispose() => _api.Dispose();

    private sealed record Shop(TestMerchant Merchant, string Token, long CupFinal, long Derby, long Highlights, long SeasonPass,
        long CupFee, long CupSubscription, long DerbyFee, long SeasonFee);

    // ---- The merchant's back end, through the API ----

    private async Task<Shop> OpenShop()
    {
        var merchant = await Given.Merchant(fixture.Db);
        var token = await _api.MerchantToken(merchant);
        async Task<long> Create(string path, Dictionary<string, string> form) =>
            (await _api.Send(HttpMethod.Post, path, token, form, HttpStatusCode.Created)).GetProperty("id").GetInt64();
        Dictionary<string, string> Fee(string type, string amount, string description) => new()
            { ["access_type"] = type, ["amount"] = amount, ["currency"] = "EUR", ["quantity"] = "2", ["period"] = "day", ["description"] = description };
        var cup = await Create("/v2/items", new() { ["title"] = "Cup Final", ["item_type"] = "video" });
        var derby = await Create("/v2/items", new() { ["title"] = "Derby", ["item_type"] = "video" });
        var highlights = await Create("/v2/items", new() { ["title"] = "Highlights", ["item_type"] = "video" });
        var season = await Create("/v2/items/packages", new() { ["title"] = "Season pass" });
        return new Shop(merchant, token, cup, derby, highlights, season,
            await Create($"/v2/items/{cup}/access-fees", Fee("ppv", "4.99", "Two days")),
            await Create($"/v2/items/{cup}/access-fees", Fee("subscription", "9.99", "Monthly")),
            await Create($"/v2/items/{derby}/access-fees", Fee("ppv", "10.00", "Derby day")),
            await Create($"/v2/items/packages/{season}/access-fees", Fee("ppv", "20.00", "Whole season")));
    }

    private async Task<long> Voucher(Shop shop, Dictionary<string, string> form)
    {
        form.TryAdd("name", "Launch offer");
        form.TryAdd("start_date", fixture.Clock.GetUtcNow().AddDays(-1).ToString("o"));
        return (await _api.Send(HttpMethod.Post, "/v2/vouchers", shop.Token, form, HttpStatusCode.Created)).GetProperty("id").GetInt64();
    }

    private Task AddRule(Shop shop, long voucher, string type, object value) =>
        _api.Send(HttpMethod.Post, $"/vouchers/{voucher}/{type}", shop.Token, new() { ["value"] = value.ToString()! }, HttpStatusCode.OK);

    /// <summary>The voucher's rules as the API lists them: (type, value), in the order they were added.</summary>
    private async Task<List<(string Type, string Value)>> Rules(Shop shop, long voucher) =>
        (await _api.Send(HttpMethod.Get, $"/v2/vouchers/{voucher}/rules", shop.Token, null, HttpStatusCode.OK)).EnumerateArray()
        .Select(r => (r.GetProperty("rule_type").GetString()!, r.GetProperty("value").GetString()!)).ToList();

    // ---- The admin, in the browser ----

    private async Task<IPage> OnVoucher(Shop shop, long voucher)
    {
        var page = await VouchersBrowserTests.SignedIn(fixture, shop.Merchant);
        await page.GotoAsync($"/admin/promotions/{voucher}");
        return page;
    }

    private static ILocator Section(IPage page, string heading) => page.GetByRole(AriaRole.Region, new() { Name = heading, Exact = true });

    private static ILocator Offered(IPage page, string section) => page.GetByTestId($"{section}-offered").GetByRole(AriaRole.Listitem);

    private static ILocator Chosen(IPage page, string section) => page.GetByTestId($"{section}-chosen").GetByRole(AriaRole.Listitem);

    private static ILocator Notice(ILocator section) => section.GetByRole(AriaRole.Status);

    [Fact]
    public async Task Assets_and_packages_are_moved_by_drag_and_drop_or_by_keyboard()
    {
        var shop = await OpenShop();
        var voucher = await Voucher(shop, new() { ["code"] = "ALL-FREE", ["discount"] = "100" });
        var page = await OnVoucher(shop, voucher);
        var assets = Section(page, "Assets");
        await Expect(Offered(page, "assets")).ToHaveTextAsync(["Cup Final", "Derby", "Highlights"]);
        await Expect(Chosen(page, "assets")).ToHaveTextAsync(["None: valid for every asset."]);

        // By keyboard: the Add form.
        var add = assets.GetByRole(AriaRole.Form, new() { Name = "Add an asset" });
        await add.GetByLabel("Asset").SelectOptionAsync(new SelectOptionValue { Label = "Cup Final" });
        await add.GetByRole(AriaRole.Button, new() { Name = "Add" }).FocusAsync();
        await page.Keyboard.PressAsync("Enter");
        await Expect(Notice(assets)).ToHaveTextAsync("Asset “Cup Final” added.");
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex($"/admin/promotions/{voucher}#assets$"));
        await Expect(Chosen(page, "assets")).ToHaveTextAsync(["Cup Final Remove"]);
        await Expect(Offered(page, "assets")).ToHaveTextAsync(["Derby", "Highlights"]);

        // By drag and drop, from the merchant's list to the voucher's.
        await Offered(page, "assets").Filter(new() { HasText = "Derby" }).DragToAsync(page.GetByTestId("assets-chosen"));
        await Expect(Notice(assets)).ToHaveTextAsync("Asset “Derby” added.");
        await Expect(Chosen(page, "assets")).ToHaveTextAsync(["Cup Final Remove", "Derby Remove"]);
        await Expect(Offered(page, "assets")).ToHaveTextAsync(["Highlights"]);
        await VouchersBrowserTests.Shot(page, "voucher-assets");

        // Removed with its button, and dragged back.
        await assets.GetByRole(AriaRole.Button, new() { Name = "Remove Cup Final" }).ClickAsync();
        await Expect(Notice(assets)).ToHaveTextAsync("Asset “Cup Final” removed.");
        await Expect(Chosen(page, "assets")).ToHaveTextAsync(["Derby Remove"]);
        await Chosen(page, "assets").Filter(new() { HasText = "Derby" }).DragToAsync(page.GetByTestId("assets-offered"));
        await Expect(Notice(assets)).ToHaveTextAsync("Asset “Derby” removed.");
        await Expect(Chosen(page, "assets")).ToHaveTextAsync(["None: valid for every asset."]);

        // Packages the same way; a drop on the other section's list does nothing.
        await Offered(page, "packages").Filter(new() { HasText = "Season pass" }).DragToAsync(page.GetByTestId("assets-chosen"));
        await Expect(Chosen(page, "assets")).ToHaveTextAsync(["None: valid for every asset."]);
        await Offered(page, "packages").Filter(new() { HasText = "Season pass" }).DragToAsync(page.GetByTestId("packages-chosen"));
        await Expect(Notice(Section(page, "Packages"))).ToHaveTextAsync("Package “Season pass” added.");
        await Expect(Chosen(page, "packages")).ToHaveTextAsync(["Season pass Remove"]);
        await Offered(page, "assets").Filter(new() { HasText = "Highlights" }).DragToAsync(page.GetByTestId("assets-chosen"));
        await Expect(Notice(assets)).ToHaveTextAsync("Asset “Highlights” added.");

        Assert.Equal([("packages", shop.SeasonPass.ToString()), ("assets", shop.Highlights.ToString())], await Rules(shop, voucher));

        // The title search finds what the left list leaves out.
        var find = assets.GetByRole(AriaRole.Search, new() { Name = "Find assets" });
        await find.GetByRole(AriaRole.Searchbox).FillAsync("der");
        await find.GetByRole(AriaRole.Button, new() { Name = "Find" }).ClickAsync();
        await Expect(Offered(page, "assets")).ToHaveTextAsync(["Derby"]);
    }

    [Fact]
    public async Task Access_fees_are_ticked_from_the_chosen_assets_and_payment_types_narrow_the_voucher()
    {
        var shop = await OpenShop();
        var voucher = await Voucher(shop, new() { ["code"] = "FEES-ONLY", ["discount"] = "50" });
        var page = await OnVoucher(shop, voucher);

        // No asset or package chosen: every price option is listed.
        var fees = Section(page, "Access fees");
        await Expect(fees.GetByRole(AriaRole.Checkbox)).ToHaveCountAsync(4);
        await Expect(fees).ToContainTextAsync("Listed: the price options of all your assets and packages.");

        // With Cup Final chosen, its two price options.
        await AddRule(shop, voucher, "assets", shop.CupFinal);
        await page.ReloadAsync();
        await Expect(fees.GetByRole(AriaRole.Checkbox)).ToHaveCountAsync(2);
        await Expect(fees).ToContainTextAsync("Listed: the price options of the assets and packages above.");
        var twoDays = fees.GetByLabel("Cup Final — Two days: 4.99 EUR · Pay-per-view · 2 days");
        await twoDays.CheckAsync();
        await fees.GetByRole(AriaRole.Button, new() { Name = "Save access fees" }).ClickAsync();
        await Expect(Notice(fees)).ToHaveTextAsync("Access fees saved: the voucher is valid for 1 price option only.");
        await Expect(twoDays).ToBeCheckedAsync();
        await Expect(fees.GetByLabel("Cup Final — Monthly: 9.99 EUR · Subscription · 2 days")).Not.ToBeCheckedAsync();
        Assert.Contains(("access_fees", shop.CupFee.ToString()), await Rules(shop, voucher));

        // Swapping the tick is one save.
        await twoDays.UncheckAsync();
        await fees.GetByLabel("Cup Final — Monthly: 9.99 EUR · Subscription · 2 days").CheckAsync();
        await fees.GetByRole(AriaRole.Button, new() { Name = "Save access fees" }).ClickAsync();
        await Expect(Notice(fees)).ToHaveTextAsync("Access fees saved: the voucher is valid for 1 price option only.");
        Assert.Equal([("assets", shop.CupFinal.ToString()), ("access_fees", shop.CupSubscription.ToString())], await Rules(shop, voucher));

        // Payment types: neither means both; one is added from the keyboard.
        var types = Section(page, "Payment types");
        await Expect(Chosen(page, "payment-types")).ToHaveTextAsync(["Neither: valid for both pay-per-view and subscription price options."]);
        var add = types.GetByRole(AriaRole.Form, new() { Name = "Add a payment type" });
        await add.GetByLabel("Payment type").SelectOptionAsync(new SelectOptionValue { Label = "Subscription" });
        await add.GetByRole(AriaRole.Button, new() { Name = "Add" }).ClickAsync();
        await Expect(Notice(types)).ToHaveTextAsync("Subscription added.");
        await Expect(Chosen(page, "payment-types")).ToHaveTextAsync(["Subscription Remove"]);
        await Expect(Offered(page, "payment-types")).ToHaveTextAsync(["Pay-per-view"]);
        Assert.Contains(("payment_types", "subscription"), await Rules(shop, voucher));
        await VouchersBrowserTests.Shot(page, "voucher-fees-and-types");
    }

    [Fact]
    public async Task Customer_emails_are_added_one_by_one_or_from_the_csv_template_and_removed()
    {
        var shop = await OpenShop();
        var voucher = await Voucher(shop, new() { ["code"] = "FRIENDS-ONLY", ["discount"] = "100" });
        var page = await OnVoucher(shop, voucher);
        var emails = Section(page, "Customer emails");
        await Expect(emails.GetByTestId("email-count")).ToHaveTextAsync("0 emails listed");

        // One at a time, with "+".
        var one = emails.GetByRole(AriaRole.Form, new() { Name = "Add a customer email" });
        await one.GetByLabel("Email", new() { Exact = true }).FillAsync("First@Mail.test");
        await one.GetByRole(AriaRole.Button, new() { Name = "Add email" }).ClickAsync();
        await Expect(Notice(emails)).ToHaveTextAsync("first@mail.test added.");
        await Expect(emails.GetByRole(AriaRole.List, new() { Name = "Customer emails" })).ToContainTextAsync("first@mail.test");
        await one.GetByLabel("Email", new() { Exact = true }).FillAsync("not an email");
        await one.GetByRole(AriaRole.Button, new() { Name = "Add email" }).ClickAsync();
        await Expect(emails.GetByRole(AriaRole.Alert)).ToContainTextAsync("Value: must be an email address");

        // The template first: one column, one row of dummy data.
        var download = await page.RunAndWaitForDownloadAsync(() => emails.GetByRole(AriaRole.Link, new() { Name = "download the CSV template" }).ClickAsync());
        Assert.Equal("email\nviewer@example.com\n", await File.ReadAllTextAsync((await download.PathAsync())!));
        Assert.Equal("voucher-emails-template.csv", download.SuggestedFilename);

        // A file with a bad line adds nothing and names the line.
        var upload = emails.GetByRole(AriaRole.Form, new() { Name = "Bulk add customer emails" });
        await upload.GetByLabel("CSV file").SetInputFilesAsync(new FilePayload
            { Name = "bad.csv", MimeType = "text/csv", Buffer = Encoding.UTF8.GetBytes("email\nfine@mail.test\nnobody-at-all\n") });
        await upload.GetByRole(AriaRole.Button, new() { Name = "Upload" }).ClickAsync();
        await Expect(emails.GetByRole(AriaRole.Alert)).ToContainTextAsync(
            "File: 1 line is not an email address, so nothing was added (line 3: nobody-at-all)");
        await Expect(emails.GetByTestId("email-count")).ToHaveTextAsync("1 email listed");

        // The filled-in template, as a spreadsheet saves it (a byte order mark, CRLF): new emails added, those already listed
        // (or repeated) skipped.
        await upload.GetByLabel("CSV file").SetInputFilesAsync(new FilePayload
        {
            Name = "friends.csv", MimeType = "text/csv",
            Buffer = [.. Encoding.UTF8.Preamble, .. Encoding.UTF8.GetBytes("email\r\nsecond@mail.test\r\nFIRST@mail.test\r\n\r\n\"third@mail.test\"\r\nsecond@mail.test\r\n")],
        });
        await upload.GetByRole(AriaRole.Button, new() { Name = "Upload" }).ClickAsync();
        await Expect(Notice(emails)).ToHaveTextAsync("2 emails added from friends.csv; 2 already listed, skipped.");
        await Expect(emails.GetByTestId("email-count")).ToHaveTextAsync("3 emails listed");
        await Expect(emails.GetByRole(AriaRole.List, new() { Name = "Customer emails" }).GetByRole(AriaRole.Listitem))
            .ToHaveTextAsync(["first@mail.test Remove", "second@mail.test Remove", "third@mail.test Remove"]);
        await VouchersBrowserTests.Shot(page, "voucher-emails");

        await emails.GetByRole(AriaRole.Button, new() { Name = "Remove second@mail.test" }).ClickAsync();
        await Expect(Notice(emails)).ToHaveTextAsync("second@mail.test removed.");
        await Expect(emails.GetByTestId("email-count")).ToHaveTextAsync("2 emails listed");
        Assert.Equal([("emails", "first@mail.test"), ("emails", "third@mail.test")], await Rules(shop, voucher));
    }

    [Fact]
    public async Task A_viewers_redemption_appears_in_the_history()
    {
        var shop = await OpenShop();
        var voucher = await Voucher(shop, new()
            { ["name"] = "Free month", ["voucher_type"] = "access", ["code"] = "FREE-PASS", ["access_period_quantity"] = "1", ["access_period_unit"] = "month" });
        var page = await OnVoucher(shop, voucher);
        var history = Section(page, "Redemption history");
        await Expect(history.GetByTestId("history-empty")).ToHaveTextAsync("Nobody has used this voucher yet.");

        var viewer = await _api.Send(HttpMethod.Post, "/accounts", null, new()
        {
            ["full_name"] = "Test Viewer", ["username"] = "fan@mail.test", ["password"] = Given.Password,
            ["password_confirmation"] = Given.Password, ["client_id"] = shop.Merchant.Uuid.ToString(), ["type"] = "consumer",
        }, HttpStatusCode.Created);
        await _api.Send(HttpMethod.Post, "/v2/vouchers/redeem", viewer.GetProperty("access_token").GetString(),
            new() { ["voucher_code"] = "free-pass", ["access_fee_id"] = shop.CupFee.ToString() }, HttpStatusCode.Created);

        await page.ReloadAsync();
        await Expect(page.GetByTestId("voucher-uses")).ToHaveTextAsync("1 / unlimited");
        var rows = history.GetByRole(AriaRole.Table, new() { Name = "Redemption history" }).Locator("tbody").GetByRole(AriaRole.Row);
        await Expect(rows).ToHaveCountAsync(1);
        await Expect(rows.GetByRole(AriaRole.Cell)).ToHaveTextAsync([
            $"{fixture.Clock.GetUtcNow().UtcDateTime:yyyy-MM-dd HH:mm} UTC", "fan@mail.test", "FREE-PASS",
            $"Asset “Cup Final” · price option #{shop.CupFee}", "100 %"]);
        await VouchersBrowserTests.Shot(history, "voucher-history");
    }
}
