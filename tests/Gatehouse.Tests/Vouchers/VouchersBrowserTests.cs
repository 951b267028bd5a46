using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Web;
using Dapper;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Vouchers;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Gatehouse.Tests.Vouchers;

/// <summary>
/// Promotions › Vouchers in a real browser: the list and its search, "New voucher" step by step (a discount voucher with a
/// generated code, an access voucher with a custom code, refusals on the step that can fix them), Details, Delete, the
/// Gift vouchers tab, and another merchant's vouchers staying out of reach. The rule sections are in VouchersBrowserRuleTests.
/// </summary>
public sealed class VouchersBrowserTests(BrowserFixture fixture) : IClassFixture<BrowserFixture>, IDisposable
{
    private readonly Api _api = new(fixture.BaseUrl);

    public void Dispose() => _api.Dispose();

    private DateTimeOffset Now => fixture.Clock.GetUtcNow();

    private static string Day(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    // ---- The merchant's back end, through the API ----

    private async Task<JsonElement> CreateVoucher(string token, Dictionary<string, string> form)
    {
        form.TryAdd("name", "Launch offer");
        form.TryAdd("start_date", Now.AddDays(-1).ToString("o"));
        return await _api.Send(HttpMethod.Post, "/v2/vouchers", token, form, HttpStatusCode.Created);
    }

    private async Task<long> Create(string token, string path, Dictionary<string, string> form) =>
        (await _api.Send(HttpMethod.Post, path, token, form, HttpStatusCode.Created)).GetProperty("id").GetInt64();

    private async Task<int> VoucherCount(string token) =>
        (await _api.Send(HttpMethod.Get, "/vouchers", token, null, HttpStatusCode.OK)).GetProperty("total").GetInt32();

    // ---- The admin, in the browser ----

    private async Task<IPage> OnPromotions(TestMerchant merchant)
    {
        var page = await SignedIn(fixture, merchant);
        await page.GetByRole(AriaRole.Navigation, new() { Name = "Main" })
            .GetByRole(AriaRole.Link, new() { Name = "Promotions", Exact = true }).ClickAsync();
        await Expect(page).ToHaveURLAsync(fixture.BaseUrl + "/admin/promotions");
        return page;
    }

    private static ILocator Step(IPage page, string name) => page.GetByRole(AriaRole.Form, new() { Name = name });

    private static Task Click(ILocator scope, string button) =>
        scope.GetByRole(AriaRole.Button, new() { Name = button, Exact = true }).ClickAsync();

    private static ILocator Rows(IPage page, string table) =>
        page.GetByRole(AriaRole.Table, new() { Name = table }).Locator("tbody").GetByRole(AriaRole.Row);

    private static ILocator Notice(IPage page) => page.GetByRole(AriaRole.Status);

    private static ILocator Refusal(IPage page) => page.GetByRole(AriaRole.Alert);

    private static string? ShotFolder => Environment.GetEnvironmentVariable("GATEHOUSE_SCREENSHOTS") is { Length: > 0 } folder ? folder : null;

    /// <summary>A signed-in page; with GATEHOUSE_SCREENSHOTS set, a tall one, so that <see cref="Shot"/> sees whole pages
    /// (a full-page screenshot resizes the page under the test's feet, and a click that follows can miss).</summary>
    internal static async Task<IPage> SignedIn(BrowserFixture fixture, TestMerchant merchant)
    {
        var page = await fixture.SignedIn(merchant);
        if (ShotFolder is not null) await page.SetViewportSizeAsync(1280, 2400);
        return page;
    }

    /// <summary>With GATEHOUSE_SCREENSHOTS set to a folder, saves a picture of the page there, to look at.</summary>
    internal static async Task Shot(IPage page, string name)
    {
        if (ShotFolder is { } folder) await page.ScreenshotAsync(new() { Path = Path.Combine(folder, name + ".png") });
    }

    /// <summary>The same, of one part of the page.</summary>
    internal static async Task Shot(ILocator part, string name)
    {
        if (ShotFolder is { } folder) await part.ScreenshotAsync(new() { Path = Path.Combine(folder, name + ".png") });
    }

    [Fact]
    public async Task A_discount_voucher_with_a_generated_code_is_made_in_three_steps_and_listed()
    {
        var merchant = await Given.Merchant(fixture.Db);
        var token = await _api.MerchantToken(merchant);
        var page = await OnPromotions(merchant);
        await Expect(page.GetByTestId("voucher-count")).ToHaveTextAsync("0 vouchers");
        await Expect(page.GetByText("No vouchers yet.")).ToBeVisibleAsync();
        await Shot(page, "promotions-empty");

        await page.GetByRole(AriaRole.Link, new() { Name = "New voucher" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(fixture.BaseUrl + "/admin/promotions/new");
        var first = Step(page, "Name and type");
        await first.GetByLabel("Name").FillAsync("Spring sale");
        await first.GetByLabel("Discount voucher").CheckAsync();
        await Shot(page, "new-step-1");
        await Click(first, "Next");

        var second = Step(page, "Code and discount");
        await Expect(page.GetByRole(AriaRole.List, new() { Name = "Steps" }).Locator("[aria-current=step]")).ToHaveTextAsync("2. Code and discount");
        await second.GetByLabel("Randomly generated code").CheckAsync();
        await second.GetByLabel("Voucher code length").FillAsync("6");
        await second.GetByLabel("Prefix").FillAsync("SPRING-");
        await second.GetByLabel("Suffix").FillAsync("-26");
        await second.GetByLabel("Discount (%)").FillAsync("25");
        await second.GetByLabel("Discount period").SelectOptionAsync("repeating");
        await second.GetByLabel("Duration (payments)").FillAsync("3");
        await Shot(page, "new-step-2-discount");
        await Click(second, "Next");

        var third = Step(page, "Usage limit and validity");
        // Valid from today by default.
        await Expect(third.GetByLabel("Start date (UTC)")).ToHaveValueAsync(Day(Now));
        await third.GetByLabel("Usage limit").FillAsync("100");
        await third.GetByLabel("Per-viewer limit").FillAsync("1");
        await third.GetByLabel("Start time (UTC)").FillAsync("08:30");
        await third.GetByLabel("End date (UTC)").FillAsync(Day(Now.AddDays(30)));
        await third.GetByLabel("End time (UTC)").FillAsync("22:00");
        await Shot(page, "new-step-3");
        await Click(third, "Create voucher");

        // The voucher's page: the code drawn with its prefix and suffix, and the six characters between them.
        await Expect(page).ToHaveURLAsync(new Regex(@"/admin/promotions/\d+$"));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Spring sale", Level = 1 })).ToBeVisibleAsync();
        await Expect(Notice(page)).ToContainTextAsync("Voucher “Spring sale” created with the code SPRING-");
        var code = await page.GetByTestId("voucher-code").InnerTextAsync();
        Assert.Matches("^SPRING-[2-9A-HJ-NP-Z]{6}-26$", code);
        await Expect(page.GetByTestId("voucher-type")).ToHaveTextAsync("Discount voucher");
        await Expect(page.GetByTestId("voucher-discount")).ToHaveTextAsync("25 % · 3 payments");
        await Expect(page.GetByTestId("voucher-uses")).ToHaveTextAsync("0 / 100 · at most 1 per viewer");
        await Expect(page.GetByTestId("voucher-validity")).ToHaveTextAsync($"{Day(Now)} 08:30 UTC – {Day(Now.AddDays(30))} 22:00 UTC");
        await Shot(page, "voucher-page");

        // What the API reads back is what the steps said.
        var id = long.Parse(new Uri(page.Url).Segments[^1], CultureInfo.InvariantCulture);
        var voucher = await _api.Send(HttpMethod.Get, $"/vouchers/{id}", token, null, HttpStatusCode.OK);
        Assert.Equal((code, 25, "repeating", 3), (voucher.GetProperty("code").GetString(), voucher.GetProperty("discount").GetInt32(),
            voucher.GetProperty("discount_period").GetString(), voucher.GetProperty("discount_duration").GetInt32()));
        Assert.Equal((6, "SPRING-", "-26"), (voucher.GetProperty("length").GetInt32(), voucher.GetProperty("prefix").GetString(), voucher.GetProperty("suffix").GetString()));
        Assert.Equal((100, 1), (voucher.GetProperty("usage_limit").GetInt32(), voucher.GetProperty("per_customer_limit").GetInt32()));
        Assert.Equal($"{Day(Now)}T08:30:00.000Z", voucher.GetProperty("start_date").GetString());
        Assert.Equal($"{Day(Now.AddDays(30))}T22:00:00.000Z", voucher.GetProperty("end_date").GetString());

        // Listed, newest first, and found by name or (in any case) by code.
        await CreateVoucher(token, new() { ["name"] = "Older offer", ["code"] = "OLDER-10", ["discount"] = "10" });
        await page.GetByRole(AriaRole.Link, new() { Name = "← Vouchers" }).ClickAsync();
        await Expect(page.GetByTestId("voucher-count")).ToHaveTextAsync("2 vouchers");
        await Expect(Rows(page, "Vouchers").First).ToContainTextAsync("Older offer");
        var row = Rows(page, "Vouchers").Filter(new() { HasText = "Spring sale" });
        await Expect(row.GetByRole(AriaRole.Cell)).ToHaveTextAsync(
            ["Spring sale", code, "Discount", "25 % · 3 payments", "0 / 100", $"{Day(Now)} 08:30 UTC – {Day(Now.AddDays(30))} 22:00 UTC"]);
        await Shot(page, "promotions-list");

        var search = page.GetByRole(AriaRole.Search, new() { Name = "Search vouchers" });
        await search.GetByLabel("Search by").SelectOptionAsync("code");
        await search.GetByLabel("Search", new() { Exact = true }).FillAsync(code.ToLowerInvariant());
        await Click(search, "Search");
        await page.WaitForUrl(url => HttpUtility.ParseQueryString(new Uri(url).Query)["q"] == code.ToLowerInvariant());
        await Expect(page.GetByTestId("voucher-count")).ToHaveTextAsync("1 voucher");
        await Expect(Rows(page, "Vouchers")).ToContainTextAsync("Spring sale");
        await search.GetByLabel("Search by").SelectOptionAsync("name");
        await search.GetByLabel("Search", new() { Exact = true }).FillAsync("autumn");
        await Click(search, "Search");
        await page.WaitForUrl(url => HttpUtility.ParseQueryString(new Uri(url).Query)["q"] == "autumn");
        await Expect(page.GetByTestId("voucher-count")).ToHaveTextAsync("0 vouchers");
        await Expect(page.GetByText("No vouchers match.")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task An_access_voucher_with_a_custom_code_expires_after_a_period()
    {
        var merchant = await Given.Merchant(fixture.Db);
        var token = await _api.MerchantToken(merchant);
        var page = await OnPromotions(merchant);
        await page.GetByRole(AriaRole.Link, new() { Name = "New voucher" }).ClickAsync();

        var first = Step(page, "Name and type");
        await first.GetByLabel("Name").FillAsync("Free month");
        await first.GetByLabel("Access voucher").CheckAsync();
        await Click(first, "Next");

        var second = Step(page, "Code and access period");
        await second.GetByLabel("Voucher code", new() { Exact = true }).CheckAsync();
        await second.GetByLabel("Custom code").FillAsync("FREE-MONTH");
        await second.GetByLabel("Expires after a period").CheckAsync();
        await second.GetByLabel("Quantity").FillAsync("2");
        await second.GetByLabel("Unit").SelectOptionAsync(new SelectOptionValue { Label = "Months" });
        await Shot(page, "new-step-2-access");
        await Click(second, "Next");

        // Back keeps what was typed; Next again.
        var third = Step(page, "Usage limit and validity");
        await Click(third, "Back");
        await Expect(second.GetByLabel("Custom code")).ToHaveValueAsync("FREE-MONTH");
        await Expect(second.GetByLabel("Quantity")).ToHaveValueAsync("2");
        await Click(second, "Next");
        await Expect(third.GetByLabel("Usage limit")).ToHaveValueAsync("");
        await Click(third, "Create voucher");

        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Free month", Level = 1 })).ToBeVisibleAsync();
        await Expect(page.GetByTestId("voucher-code")).ToHaveTextAsync("FREE-MONTH");
        await Expect(page.GetByTestId("voucher-type")).ToHaveTextAsync("Access voucher");
        await Expect(page.GetByTestId("voucher-discount")).ToHaveTextAsync("2 months of access");
        await Expect(page.GetByTestId("voucher-uses")).ToHaveTextAsync("0 / unlimited");
        await Expect(page.GetByTestId("voucher-validity")).ToHaveTextAsync($"from {Day(Now)} 00:00 UTC, no end");
        // Its Details show the access period, not a discount.
        var details = page.GetByRole(AriaRole.Form, new() { Name = "Voucher details" });
        await Expect(details.GetByLabel("Expires after a period")).ToBeCheckedAsync();
        await Expect(details.GetByLabel("Discount (%)")).ToHaveCountAsync(0);

        var list = await _api.Send(HttpMethod.Get, "/vouchers", token, null, HttpStatusCode.OK);
        var voucher = list.GetProperty("collection")[0];
        Assert.Equal(("access", 100), (voucher.GetProperty("voucher_type").GetString(), voucher.GetProperty("discount").GetInt32()));
        Assert.Equal((2, "month"), (voucher.GetProperty("access_period").GetProperty("quantity").GetInt32(),
            voucher.GetProperty("access_period").GetProperty("unit").GetString()));
        Assert.Equal(JsonValueKind.Null, voucher.GetProperty("usage_limit").ValueKind);
    }

    [Fact]
    public async Task Refusals_show_on_the_step_that_can_fix_them_and_nothing_is_created_until_all_is_right()
    {
        var merchant = await Given.Merchant(fixture.Db);
        var token = await _api.MerchantToken(merchant);
        await CreateVoucher(token, new() { ["name"] = "Already there", ["code"] = "TAKEN-CODE", ["discount"] = "10" });
        var page = await SignedIn(fixture, merchant);
        await page.GotoAsync("/admin/promotions/new");

        // Step 1: a name is needed.
        var first = Step(page, "Name and type");
        await Click(first, "Next");
        await Expect(Refusal(page)).ToContainTextAsync("Name: is required");
        await Expect(first.GetByText("is required")).ToBeVisibleAsync();
        await first.GetByLabel("Name").FillAsync("Ten off");
        await Click(first, "Next");

        // Step 2: a code too short and a discount out of range, each said next to its field, what was typed kept.
        var second = Step(page, "Code and discount");
        await second.GetByLabel("Voucher code", new() { Exact = true }).CheckAsync();
        await second.GetByLabel("Custom code").FillAsync("ABC");
        await second.GetByLabel("Discount (%)").FillAsync("150");
        await Click(second, "Next");
        await Expect(Refusal(page)).ToContainTextAsync("Code: must be at least 5 characters");
        await Expect(Refusal(page)).ToContainTextAsync("Discount: must be between 1 and 100");
        await Expect(second.Locator(".field", new() { Has = page.GetByLabel("Custom code") }).Locator(".field-error"))
            .ToHaveTextAsync("must be at least 5 characters");
        await Expect(second.Locator(".field", new() { Has = page.GetByLabel("Discount (%)") }).Locator(".field-error"))
            .ToHaveTextAsync("must be between 1 and 100");
        await Expect(second.GetByLabel("Custom code")).ToHaveValueAsync("ABC");
        await Expect(second.GetByLabel("Voucher code", new() { Exact = true })).ToBeCheckedAsync();
        await Shot(page, "new-step-2-refused");
        await second.GetByLabel("Custom code").FillAsync("taken-code");
        await second.GetByLabel("Discount (%)").FillAsync("10");
        await Click(second, "Next");

        // Step 3: an end before the start and a usage limit of 0, refused by the use case itself.
        var third = Step(page, "Usage limit and validity");
        await third.GetByLabel("Usage limit").FillAsync("0");
        await third.GetByLabel("End date (UTC)").FillAsync(Day(Now.AddDays(-3)));
        await Click(third, "Create voucher");
        await Expect(Refusal(page)).ToContainTextAsync("Usage limit: must be at least 1 (leave it out for no limit)");
        await Expect(Refusal(page)).ToContainTextAsync("End date: must be after start_date");
        await Expect(third.Locator(".field", new() { Has = page.GetByLabel("End date (UTC)") }).Locator(".field-error"))
            .ToHaveTextAsync("must be after start_date");
        await Expect(third.GetByLabel("Usage limit")).ToHaveValueAsync("0");
        Assert.Equal(1, await VoucherCount(token));

        // With those fixed, the code turns out taken (whatever its case): back on the code's step, saying so.
        await third.GetByLabel("Usage limit").FillAsync("");
        await third.GetByLabel("End date (UTC)").FillAsync("");
        await Click(third, "Create voucher");
        await Expect(Refusal(page)).ToContainTextAsync("Code: A voucher with this code already exists");
        await Expect(second.GetByLabel("Custom code")).ToHaveValueAsync("taken-code");
        Assert.Equal(1, await VoucherCount(token));

        await second.GetByLabel("Custom code").FillAsync("TEN-OFF");
        await Click(second, "Next");
        await Click(third, "Create voucher");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Ten off", Level = 1 })).ToBeVisibleAsync();
        await Expect(page.GetByTestId("voucher-code")).ToHaveTextAsync("TEN-OFF");
        Assert.Equal(2, await VoucherCount(token));
    }

    [Fact]
    public async Task Details_are_edited_but_never_the_code_and_delete_asks_first()
    {
        var merchant = await Given.Merchant(fixture.Db);
        var token = await _api.MerchantToken(merchant);
        var id = (await CreateVoucher(token, new() { ["name"] = "Half off", ["code"] = "HALF-OFF", ["discount"] = "50" })).GetProperty("id").GetInt64();
        var page = await SignedIn(fixture, merchant);
        await page.GotoAsync($"/admin/promotions/{id}");

        var details = page.GetByRole(AriaRole.Form, new() { Name = "Voucher details" });
        await Expect(details.GetByLabel("Code", new() { Exact = true })).ToHaveValueAsync("HALF-OFF");
        await Expect(details.GetByLabel("Code", new() { Exact = true })).ToBeDisabledAsync();
        await Expect(details.GetByText("Times are UTC.")).ToBeVisibleAsync();
        await Expect(details.GetByLabel("Discount (%)")).ToHaveValueAsync("50");

        // Refused: what was typed stays, the reason next to the field.
        await details.GetByLabel("Name").FillAsync("Half price");
        await details.GetByLabel("Usage limit").FillAsync("0");
        await Click(details, "Save details");
        await Expect(Refusal(page)).ToContainTextAsync("Usage limit: must be at least 1");
        await Expect(details.Locator(".field", new() { Has = page.GetByLabel("Usage limit") }).Locator(".field-error"))
            .ToHaveTextAsync("must be at least 1 (leave it out for no limit)");
        await Expect(details.GetByLabel("Name")).ToHaveValueAsync("Half price");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Half off", Level = 1 })).ToBeVisibleAsync();

        await details.GetByLabel("Usage limit").FillAsync("10");
        await details.GetByLabel("Discount (%)").FillAsync("40");
        await details.GetByLabel("End date (UTC)").FillAsync(Day(Now.AddDays(7)));
        await details.GetByLabel("End time (UTC)").FillAsync("12:00");
        await Click(details, "Save details");
        await Expect(Notice(page)).ToHaveTextAsync("Details saved.");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Half price", Level = 1 })).ToBeVisibleAsync();
        await Expect(page.GetByTestId("voucher-discount")).ToHaveTextAsync("40 %");
        await Expect(page.GetByTestId("voucher-uses")).ToHaveTextAsync("0 / 10");
        var voucher = await _api.Send(HttpMethod.Get, $"/vouchers/{id}", token, null, HttpStatusCode.OK);
        Assert.Equal(("Half price", "HALF-OFF", 40, 10), (voucher.GetProperty("name").GetString(), voucher.GetProperty("code").GetString(),
            voucher.GetProperty("discount").GetInt32(), voucher.GetProperty("usage_limit").GetInt32()));
        Assert.Equal($"{Day(Now.AddDays(7))}T12:00:00.000Z", voucher.GetProperty("end_date").GetString());

        // A blank usage limit is unlimited again.
        await details.GetByLabel("Usage limit").FillAsync("");
        await Click(details, "Save details");
        await Expect(page.GetByTestId("voucher-uses")).ToHaveTextAsync("0 / unlimited");

        // Delete asks first.
        await page.GetByText("Delete voucher", new() { Exact = true }).ClickAsync();
        var confirm = page.GetByRole(AriaRole.Form, new() { Name = "Delete voucher" });
        await Expect(confirm).ToContainTextAsync("Its code HALF-OFF stops working at once");
        await Shot(page, "voucher-delete-confirm");
        await Click(confirm, "Yes, delete!");
        await Expect(page).ToHaveURLAsync(fixture.BaseUrl + "/admin/promotions");
        await Expect(Notice(page)).ToHaveTextAsync("Voucher “Half price” deleted: its code HALF-OFF no longer works.");
        await Expect(page.GetByTestId("voucher-count")).ToHaveTextAsync("0 vouchers");
        await _api.Send(HttpMethod.Get, $"/vouchers/{id}", token, null, HttpStatusCode.NotFound);
        Assert.Equal(404, (await page.APIRequest.GetAsync($"/admin/promotions/{id}")).Status);
    }

    [Fact]
    public async Task Codes_are_generated_with_a_progress_bar_and_downloaded()
    {
        var merchant = await Given.Merchant(fixture.Db);
        var token = await _api.MerchantToken(merchant);
        var voucher = await CreateVoucher(token, new() { ["discount"] = "100", ["code"] = "PARENT-CODE" });
        var page = await SignedIn(fixture, merchant);
        await page.GotoAsync($"/admin/promotions/{voucher.GetProperty("id")}");
        var codes = page.GetByRole(AriaRole.Region, new() { Name = "Codes" });
        await Expect(codes.GetByTestId("batches-empty")).ToBeVisibleAsync();

        var form = codes.GetByRole(AriaRole.Form, new() { Name = "Generate codes" });
        await form.GetByLabel("How many").FillAsync("250");
        await form.GetByLabel("Prefix").FillAsync("TV-");
        await Click(form, "Generate codes");
        await Expect(Notice(page)).ToContainTextAsync("Generating 250 codes");
        // The section follows the batch by itself until it is done.
        await Expect(codes.GetByTestId("batch-status")).ToHaveTextAsync("completed", new() { Timeout = 30_000 });
        await Expect(codes.GetByRole(AriaRole.Row).Nth(1)).ToContainTextAsync("250 / 250");
        await Shot(page, "voucher-codes");

        var download = await page.RunAndWaitForDownloadAsync(() => codes.GetByRole(AriaRole.Link, new() { Name = "Download codes (CSV)" }).ClickAsync());
        var lines = (await File.ReadAllLinesAsync((await download.PathAsync())!)).Where(l => l.Length > 0).ToList();
        Assert.Equal("code,batch_id,status,used_at,used_by", lines[0]);
        Assert.StartsWith("PARENT-CODE,", lines[1]);
        Assert.Equal(250, lines.Count(l => l.StartsWith("TV-") && l.Contains(",unused,")));

        // A request the code space cannot hold is refused in the section, and nothing is queued.
        await form.GetByLabel("How many").FillAsync("100000");
        await form.GetByLabel("Length").FillAsync("4");
        await Click(form, "Generate codes");
        await Expect(Refusal(page)).ToContainTextAsync("is too short for 100000 codes: use 5 or more");
        await Expect(codes.GetByRole(AriaRole.Row)).ToHaveCountAsync(2);
    }

    [Fact]
    public async Task Another_merchants_voucher_is_not_found()
    {
        var ours = await Given.Merchant(fixture.Db);
        var theirs = await Given.Merchant(fixture.Db);
        var theirToken = await _api.MerchantToken(theirs);
        var theirId = (await CreateVoucher(theirToken, new() { ["name"] = "Their offer", ["code"] = "THEIRS-50", ["discount"] = "50" }))
            .GetProperty("id").GetInt64();
        var ourId = (await CreateVoucher(await _api.MerchantToken(ours), new() { ["name"] = "Our offer", ["code"] = "OURS-50", ["discount"] = "50" }))
            .GetProperty("id").GetInt64();

        var page = await OnPromotions(ours);
        await Expect(Rows(page, "Vouchers")).ToHaveCountAsync(1);
        await Expect(Rows(page, "Vouchers")).ToContainTextAsync("Our offer");
        // Asked with this admin's cookie (a browser shows its own error page for a bodiless 404).
        Assert.Equal(404, (await page.APIRequest.GetAsync($"/admin/promotions/{theirId}")).Status);
        Assert.Equal(404, (await page.APIRequest.GetAsync($"/admin/promotions/{theirId}?handler=EmailsTemplate")).Status);

        // A form of ours pointed at their voucher (antiforgery token and all) is a 404 too, and deletes nothing.
        await page.GotoAsync($"/admin/promotions/{ourId}");
        var delete = page.Locator("form[aria-label='Delete voucher']");
        await delete.EvaluateAsync("(form, id) => form.action = form.action.replace(/promotions\\/\\d+/, 'promotions/' + id)", theirId);
        await page.GetByText("Delete voucher", new() { Exact = true }).ClickAsync();
        var response = await page.RunAndWaitForResponseAsync(() => Click(delete, "Yes, delete!"), r => r.Request.Method == "POST");
        Assert.Equal(404, response.Status);
        await _api.Send(HttpMethod.Get, $"/vouchers/{theirId}", theirToken, null, HttpStatusCode.OK);
    }

    [Fact]
    public async Task The_gift_vouchers_tab_is_empty_until_a_gift_is_bought()
    {
        var merchant = await Given.Merchant(fixture.Db);
        var token = await _api.MerchantToken(merchant);
        var item = await Create(token, "/v2/items", new() { ["title"] = "Cup Final", ["item_type"] = "video" });
        var fee = await Create(token, $"/v2/items/{item}/access-fees", new()
            { ["access_type"] = "ppv", ["amount"] = "4.99", ["currency"] = "EUR", ["quantity"] = "2", ["period"] = "day", ["description"] = "Two days" });

        var page = await OnPromotions(merchant);
        await page.GetByRole(AriaRole.Navigation, new() { Name = "Promotions section" }).GetByRole(AriaRole.Link, new() { Name = "Gift vouchers" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(fixture.BaseUrl + "/admin/promotions/gifts");
        await Expect(page.GetByTestId("gifts-empty")).ToContainTextAsync("No gift vouchers yet");
        await Shot(page, "gifts-empty");

        // What Payments does when a viewer buys a gift: the voucher is made in the checkout's transaction.
        GiftVouchers.GiftView gift;
        await using (var connection = await fixture.Db.OpenConnectionAsync())
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            gift = await GiftVouchers.Create(connection, transaction,
                new GiftVouchers.Gift(merchant.Id, "buyer@mail.test", "Friend@Mail.test", item, fee, 4.99m, "EUR"), Now);
            await transaction.CommitAsync();
        }

        await page.ReloadAsync();
        await Expect(page.GetByTestId("gift-count")).ToHaveTextAsync("1 gift voucher");
        await Expect(Rows(page, "Gift vouchers").GetByRole(AriaRole.Cell)).ToHaveTextAsync(
            [gift.Code, "Cup Final", "buyer@mail.test", "Friend@Mail.test", "Not used", "4.99 EUR · Two days", $"{Now.UtcDateTime:yyyy-MM-dd HH:mm} UTC"]);
        Assert.StartsWith("GIFT-", gift.Code);
        await Shot(page, "gifts-list");
        // Gifts are not among the vouchers the merchant made.
        await page.GetByRole(AriaRole.Link, new() { Name = "Vouchers", Exact = true }).ClickAsync();
        await Expect(page.GetByTestId("voucher-count")).ToHaveTextAsync("0 vouchers");
    }

    [Fact]
    public async Task The_voucher_list_pages_through_many_vouchers()
    {
        var merchant = await Given.Merchant(fixture.Db);
        await using (var connection = await fixture.Db.OpenConnectionAsync())
            await connection.ExecuteAsync(
                """
                with made as (
                    insert into vouchers.vouchers (merchant_id, name, kind, code, discount, rebill_discount, start_date, created_at, updated_at)
                    select @Id, 'Offer ' || n, 'discount', 'OFFER-' || n, n, n, now(), now(), now() from generate_series(1, 23) n
                    returning id, code)
                insert into vouchers.codes (merchant_id, voucher_id, code, created_at) select @Id, id, code, now() from made
                """, new { merchant.Id });

        var page = await OnPromotions(merchant);
        await Expect(page.GetByTestId("voucher-count")).ToHaveTextAsync("23 vouchers");
        await Expect(Rows(page, "Vouchers")).ToHaveCountAsync(20);
        await Expect(Rows(page, "Vouchers").First).ToContainTextAsync("Offer 23"); // newest first
        var pages = page.GetByRole(AriaRole.Navigation, new() { Name = "Pages" });
        await Expect(pages).ToContainTextAsync("Page 1 of 2");
        await pages.GetByRole(AriaRole.Link, new() { Name = "Next" }).ClickAsync();
        await Expect(pages).ToContainTextAsync("Page 2 of 2");
        await Expect(Rows(page, "Vouchers")).ToHaveCountAsync(3);
        await Expect(Rows(page, "Vouchers").Last).ToContainTextAsync("Offer 1");
    }
}
