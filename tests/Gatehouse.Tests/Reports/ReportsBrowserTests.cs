using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Dapper;
using Gatehouse.Reports;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Tests.Payments;
using Gatehouse.Tests.Vouchers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Gatehouse.Tests.Reports;

/// <summary>
/// Reports in the admin, in a real browser: Generate report from the Access tab (period, active or inactive records and
/// their types, chosen columns) followed to its file on the Access reports tab, a payments report from Transactions,
/// Schedule report (recurring: saved, described, edited, run, its file downloaded; one time: deleted, its file kept), the
/// forms' refusals with the values kept, the progress bar that follows a report being generated, and another merchant's
/// reports and schedules out of reach. Data goes in through the API, as a merchant's back end and paywall send it.
/// </summary>
public sealed class ReportsBrowserTests(BrowserFixture fixture) : IClassFixture<BrowserFixture>, IDisposable
{
    private readonly Api _api = new(fixture.BaseUrl);

    public void Dispose() => _api.Dispose();

    private sealed record Shop(TestMerchant Merchant, string Token, long CupFinal, long Derby, long Fee);

    private sealed record Viewer(long Id, string Email, string Token);

    private DateTimeOffset Now => fixture.Clock.GetUtcNow();

    private static string Day(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static string Utc(DateTimeOffset at) => Minute(at) + " UTC";

    private static string DateTimeInput(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm", CultureInfo.InvariantCulture);

    /// <summary>
    /// A full minute an hour or so away, which a datetime-local input shows exactly; never midnight, so that a period ending
    /// then reads as times, not as whole days.
    /// </summary>
    private DateTimeOffset AnHourOn
    {
        get
        {
            var now = Now.UtcDateTime;
            var at = new DateTimeOffset(now.Date.AddHours(now.Hour).AddMinutes(now.Minute + 61), TimeSpan.Zero);
            return at.TimeOfDay == TimeSpan.Zero ? at.AddMinutes(1) : at;
        }
    }

    private static string Minute(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);

    // ---- The merchant's back end and the viewers' paywall, through the API ----

    private async Task<Shop> OpenShop(string name = "Reports Media")
    {
        var merchant = await Given.Merchant(fixture.Db, name);
        var token = await _api.MerchantToken(merchant);
        async Task<long> Create(string path, Dictionary<string, string> form) =>
            (await _api.Send(HttpMethod.Post, path, token, form, HttpStatusCode.Created)).GetProperty("id").GetInt64();
        var cupFinal = await Create("/v2/items", new() { ["title"] = "Cup Final", ["item_type"] = "video", ["content"] = "stream-cup" });
        var derby = await Create("/v2/items", new() { ["title"] = "Derby", ["item_type"] = "video", ["content"] = "stream-derby" });
        var fee = await Create($"/v2/items/{cupFinal}/access-fees", new()
        {
            ["access_type"] = "ppv", ["amount"] = "4.99", ["currency"] = "EUR", ["quantity"] = "2", ["period"] = "day", ["description"] = "Two days",
        });
        return new Shop(merchant, token, cupFinal, derby, fee);
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

    /// <summary>Grants the viewer a pass to an asset; returns the pass id.</summary>
    private async Task<long> Grant(Shop shop, Viewer viewer, long item, DateTimeOffset expiresAt) =>
        (await _api.Send(HttpMethod.Post, "/items/access", shop.Token, new()
        {
            ["consumer_id"] = viewer.Id.ToString(CultureInfo.InvariantCulture), ["item_id"] = item.ToString(CultureInfo.InvariantCulture),
            ["expires_at"] = expiresAt.ToString("o"),
        }, HttpStatusCode.Created)).GetProperty("item_access_id").GetInt64();

    private Task Revoke(Shop shop, long passId) => _api.Send(HttpMethod.Post, $"/v2/access/{passId}/revoke", shop.Token, null, HttpStatusCode.OK);

    /// <summary>The viewer buys the Cup Final's price option with the test gateway's good card; returns the transaction token.</summary>
    private async Task<string> Pay(Shop shop, Viewer viewer) =>
        (await _api.Send(HttpMethod.Post, "/payments", viewer.Token, PaymentShop.CardForm(shop.Fee), HttpStatusCode.OK))
        .GetProperty("transaction_token").GetString()!;

    private async Task<long> ScheduleByApi(Shop shop, Dictionary<string, string> form) =>
        (await _api.Send(HttpMethod.Post, "/v2/reports/schedules", shop.Token, form, HttpStatusCode.Created)).GetProperty("id").GetInt64();

    private async Task<JsonElement[]> ReportsByApi(Shop shop) =>
        (await _api.Send(HttpMethod.Get, "/v2/reports", shop.Token, null, HttpStatusCode.OK)).GetProperty("collection").EnumerateArray().ToArray();

    /// <summary>Asks for an access report through the API and waits until it is ready; returns its id.</summary>
    private async Task<long> ReadyReportByApi(Shop shop)
    {
        var id = (await _api.Send(HttpMethod.Post, "/v2/reports", shop.Token, new() { ["type"] = "access", ["from"] = Day(Now), ["to"] = Day(Now) },
            HttpStatusCode.Accepted)).GetProperty("id").GetInt64();
        for (var i = 0; ; i++)
        {
            var status = (await _api.Send(HttpMethod.Get, $"/v2/reports/{id}", shop.Token, null, HttpStatusCode.OK)).GetProperty("status").GetString();
            if (status == "ready") return id;
            Assert.True(i < 300, $"report {id} is still {status}");
            await Task.Delay(200);
        }
    }

    /// <summary>Runs the schedules due at the fixture's clock, as the scheduled job does.</summary>
    private async Task RunSchedules()
    {
        using var scope = fixture.Services.CreateScope();
        await scope.ServiceProvider.GetRequiredService<RunSchedules>().Invoke();
    }

    // ---- The admin, in the browser ----

    private async Task<IPage> SignedIn(Shop shop) => await VouchersBrowserTests.SignedIn(fixture, shop.Merchant);

    private static Task ToSection(IPage page, string section) =>
        page.GetByRole(AriaRole.Navigation, new() { Name = "Main" }).GetByRole(AriaRole.Link, new() { Name = section, Exact = true }).ClickAsync();

    private static Task Click(ILocator scope, AriaRole role, string name) => scope.GetByRole(role, new() { Name = name, Exact = true }).ClickAsync();

    private static ILocator Form(IPage page, string name) => page.GetByRole(AriaRole.Form, new() { Name = name });

    /// <summary>A column's box: its label and its key, as the form lists them.</summary>
    private static ILocator Column(ILocator form, string label, string key) =>
        form.GetByRole(AriaRole.Checkbox, new() { Name = $"{label} {key}", Exact = true });

    private static ILocator Rows(ILocator scope, string table) =>
        scope.GetByRole(AriaRole.Table, new() { Name = table, Exact = true }).Locator("tbody").GetByRole(AriaRole.Row);

    private static ILocator Row(ILocator scope, string table, string name) => Rows(scope, table).Filter(new() { HasText = name });

    private static ILocator Schedule(IPage page, string name) => page.GetByRole(AriaRole.Article, new() { Name = name, Exact = true });

    private static ILocator Notice(IPage page) => page.GetByRole(AriaRole.Status);

    private static ILocator Refusal(IPage page) => page.GetByRole(AriaRole.Alert);

    /// <summary>The cells of a report's row, by column header.</summary>
    private static async Task<Dictionary<string, string>> Cells(ILocator scope, string table, ILocator row)
    {
        var headers = await scope.GetByRole(AriaRole.Table, new() { Name = table, Exact = true }).Locator("thead th").AllInnerTextsAsync();
        var cells = await row.Locator("td").AllInnerTextsAsync();
        Assert.Equal(headers.Count, cells.Count);
        return headers.Zip(cells).ToDictionary(p => p.First.Trim(), p => p.Second.Trim());
    }

    /// <summary>Waits for the report to be ready: the page refreshes itself while it is being generated.</summary>
    private static Task ReadyIn(ILocator row) => Expect(row.Locator(".report-status")).ToHaveTextAsync("Ready", new() { Timeout = 60_000 });

    /// <summary>Clicks the row's Download link and reads the file the browser saved.</summary>
    private static async Task<(string Name, string Csv)> Download(IPage page, ILocator row)
    {
        var download = await page.RunAndWaitForDownloadAsync(() => row.GetByRole(AriaRole.Link, new() { Name = "Download" }).ClickAsync());
        return (download.SuggestedFilename, await File.ReadAllTextAsync((await download.PathAsync())!));
    }

    /// <summary>A CSV without quoted cells, as rows of cells by header.</summary>
    private static List<Dictionary<string, string>> Records(string csv)
    {
        var lines = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var header = lines[0].Split(',');
        return lines.Skip(1).Select(line => header.Zip(line.Split(',')).ToDictionary(p => p.First, p => p.Second)).ToList();
    }

    [Fact]
    public async Task An_access_report_is_generated_from_the_access_section_with_the_chosen_records_and_columns_and_downloaded()
    {
        var shop = await OpenShop();
        var ana = await Register(shop, "ana@mail.test");
        var ben = await Register(shop, "ben@mail.test");
        var cara = await Register(shop, "cara@mail.test");
        await Grant(shop, ana, shop.CupFinal, Now.AddDays(7));
        await Revoke(shop, await Grant(shop, ben, shop.Derby, Now.AddDays(7)));
        await Grant(shop, cara, shop.CupFinal, Now.AddHours(1));
        fixture.Clock.Advance(TimeSpan.FromHours(2)); // cara's pass has expired: inactive, but not revoked
        // Another merchant's revoked pass, with the same title: never in this merchant's report.
        var other = await OpenShop("Other Media");
        await Revoke(other, await Grant(other, await Register(other, "dan@mail.test"), other.Derby, Now.AddDays(7)));

        var page = await SignedIn(shop);
        await ToSection(page, "Access");
        await Expect(page).ToHaveURLAsync(fixture.BaseUrl + "/admin/access");
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "View reports" })).ToHaveAttributeAsync("href", "/admin/access/reports");
        await Click(page.GetByRole(AriaRole.Main), AriaRole.Link, "Generate report");
        await Expect(page).ToHaveURLAsync(fixture.BaseUrl + "/admin/reports/new?type=access");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Generate access report" })).ToBeVisibleAsync();

        var form = Form(page, "Generate report");
        // The last 30 days unless chosen otherwise.
        await Expect(form.GetByLabel("From (UTC)")).ToHaveValueAsync(Day(Now.AddDays(-30)));
        await Expect(form.GetByLabel("To (UTC)")).ToHaveValueAsync(Day(Now));
        await form.GetByLabel("From (UTC)").FillAsync(Day(Now.AddDays(-1)));
        await form.GetByLabel("To (UTC)").FillAsync(Day(Now));

        // All records by default, with no record types to pick; active and inactive each show their own types.
        var granted = form.GetByLabel("Granted", new() { Exact = true });
        var revoked = form.GetByLabel("Revoked", new() { Exact = true });
        await Expect(form.GetByRole(AriaRole.Radio, new() { Name = "All", Exact = true })).ToBeCheckedAsync();
        await Expect(granted).ToBeHiddenAsync();
        await Expect(revoked).ToBeHiddenAsync();
        await form.GetByRole(AriaRole.Radio, new() { Name = "Active", Exact = true }).CheckAsync();
        await Expect(granted).ToBeVisibleAsync();
        await Expect(form.GetByLabel("Access-voucher", new() { Exact = true })).ToBeVisibleAsync();
        await Expect(revoked).ToBeHiddenAsync();
        await form.GetByRole(AriaRole.Radio, new() { Name = "Inactive", Exact = true }).CheckAsync();
        await Expect(granted).ToBeHiddenAsync();
        await Expect(granted).ToBeDisabledAsync(); // so it is not sent
        await Expect(form.GetByLabel("Expired", new() { Exact = true })).ToBeVisibleAsync();
        await revoked.CheckAsync();

        // Every column of the type, labelled and keyed; ticked in any order, the file keeps the type's order.
        await Expect(form.GetByRole(AriaRole.List, new() { Name = "Access report columns" }).GetByRole(AriaRole.Checkbox))
            .ToHaveCountAsync(ReportType.Access.Columns.Count);
        await Column(form, "Viewer email", "consumer_email").CheckAsync();
        await Column(form, "Title", "item_title").CheckAsync();
        await Column(form, "Status", "status").CheckAsync();
        await Column(form, "Type", "type").CheckAsync();
        await VouchersBrowserTests.Shot(page, "reports-generate-access");
        await Click(form, AriaRole.Button, "Generate");

        // Off to the Access reports tab, where the report is followed until it is ready.
        await Expect(page).ToHaveURLAsync(fixture.BaseUrl + "/admin/access/reports");
        await Expect(page.GetByRole(AriaRole.Navigation, new() { Name = "Access section" }).Locator("[aria-current=page]")).ToHaveTextAsync("Access reports");
        var name = $"Access report, {Day(Now.AddDays(-1))} to {Day(Now)}";
        await Expect(Notice(page)).ToContainTextAsync($"Generating “{name}”");
        var main = page.GetByRole(AriaRole.Main);
        var row = Row(main, "Access reports", name);
        await ReadyIn(row);
        await VouchersBrowserTests.Shot(page, "reports-access-tab");
        var cells = await Cells(main, "Access reports", row);
        Assert.Equal(($"{Day(Now.AddDays(-1))} to {Day(Now)} UTC", "Ready", "1", Utc(Now), $"Deleted on {Utc(Now.AddDays(10))}"),
            (cells["Period"], cells["Status"], cells["Rows"], cells["Created"], cells["Kept until"]));
        Assert.Matches(@"^\d+(\.\d)? (B|KB)$", cells["Size"]);

        // Only ben's revoked pass: not ana's active one, not cara's expired one, not the other merchant's.
        var (file, csv) = await Download(page, row);
        Assert.Matches(@"^access-report-\d+-access-report-[0-9-]+-to-[0-9-]+\.csv$", file);
        Assert.Equal("status,type,item_title,consumer_email\nrevoked,granted,Derby,ben@mail.test\n", csv);
    }

    [Fact]
    public async Task A_payments_report_with_every_column_is_generated_from_the_transactions_tab_then_deleted()
    {
        var shop = await OpenShop();
        var ana = await Register(shop, "ana@mail.test");
        var token = await Pay(shop, ana);

        var page = await SignedIn(shop);
        await ToSection(page, "Transactions");
        await Expect(page).ToHaveURLAsync(fixture.BaseUrl + "/admin/transactions");
        // Each tab's buttons are preset to its own type.
        await page.GetByRole(AriaRole.Navigation, new() { Name = "Transactions section" }).GetByRole(AriaRole.Link, new() { Name = "Subscriptions" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(fixture.BaseUrl + "/admin/transactions/subscriptions");
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Generate report" })).ToHaveAttributeAsync("href", "/admin/reports/new?type=subscriptions");
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Schedule report" }))
            .ToHaveAttributeAsync("href", "/admin/transactions/reports/schedule?type=subscriptions");
        await page.GetByRole(AriaRole.Navigation, new() { Name = "Transactions section" }).GetByRole(AriaRole.Link, new() { Name = "Payments" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(fixture.BaseUrl + "/admin/transactions");
        await Click(page.GetByRole(AriaRole.Main), AriaRole.Link, "Generate report");
        await Expect(page).ToHaveURLAsync(fixture.BaseUrl + "/admin/reports/new?type=payments");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Generate payments report" })).ToBeVisibleAsync();

        var form = Form(page, "Generate report");
        // No record filters for payments; its own columns, none ticked: all of them.
        await Expect(form.GetByRole(AriaRole.Radio)).ToHaveCountAsync(0);
        await Expect(form.GetByRole(AriaRole.Checkbox)).ToHaveCountAsync(ReportType.Payments.Columns.Count);
        await Expect(Column(form, "Voucher code", "voucher_code")).Not.ToBeCheckedAsync();
        await form.GetByRole(AriaRole.Textbox, new() { Name = "Name" }).FillAsync("Payments today");
        await form.GetByLabel("From (UTC)").FillAsync(Day(Now));
        await form.GetByLabel("To (UTC)").FillAsync(Day(Now));
        await Click(form, AriaRole.Button, "Generate");

        await Expect(page).ToHaveURLAsync(fixture.BaseUrl + "/admin/transactions/reports");
        await Expect(Notice(page)).ToContainTextAsync("Generating “Payments today”");
        var generated = page.GetByRole(AriaRole.Region, new() { Name = "Generated reports" });
        var row = Row(generated, "Generated reports", "Payments today");
        await ReadyIn(row);
        await VouchersBrowserTests.Shot(page, "reports-transactions");
        await Expect(generated.GetByTestId("generated-count")).ToContainTextAsync("1 report");

        var (file, csv) = await Download(page, row);
        Assert.Matches(@"^payments-report-\d+-payments-today\.csv$", file);
        Assert.StartsWith(string.Join(",", ReportType.Payments.Columns.Select(c => c.Key)) + "\n", csv);
        var payment = Assert.Single(Records(csv));
        Assert.Equal((token, "succeeded", "ana@mail.test", "Cup Final", "4.99", "4.99", "EUR", "", "4242"),
            (payment["transaction_token"], payment["status"], payment["consumer_email"], payment["item_title"], payment["amount"],
                payment["charged_amount"], payment["currency_iso"], payment["voucher_code"], payment["card_last4"]));

        // Delete, behind its confirmation.
        var id = Assert.Single(await ReportsByApi(shop)).GetProperty("id").GetInt64();
        await row.GetByText("Delete", new() { Exact = true }).ClickAsync();
        await Click(row, AriaRole.Button, "Yes, delete!");
        await Expect(Notice(page)).ToHaveTextAsync("Report “Payments today” deleted.");
        await Expect(Rows(generated, "Generated reports")).ToHaveTextAsync([new Regex("No reports generated yet")]);
        await _api.Send(HttpMethod.Get, $"/v2/reports/{id}", shop.Token, null, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_recurring_schedule_is_saved_described_edited_and_its_run_downloaded_under_scheduled_reports()
    {
        var shop = await OpenShop();
        await Pay(shop, await Register(shop, "ana@mail.test"));
        var first = AnHourOn;

        var page = await SignedIn(shop);
        await ToSection(page, "Transactions");
        await Click(page.GetByRole(AriaRole.Main), AriaRole.Link, "Schedule report");
        await Expect(page).ToHaveURLAsync(fixture.BaseUrl + "/admin/transactions/reports/schedule?type=payments");
        var form = Form(page, "Schedule report");
        await Expect(form.GetByLabel("Report type")).ToHaveValueAsync("payments");
        await form.GetByRole(AriaRole.Textbox, new() { Name = "Name" }).FillAsync("Weekly payments");
        // One time by default; Recurring shows its own fields instead.
        await Expect(form.GetByLabel("Run export on (UTC)")).ToBeVisibleAsync();
        await Expect(form.GetByLabel("Generate first report on (UTC)")).ToBeHiddenAsync();
        await form.GetByRole(AriaRole.Radio, new() { Name = "Recurring" }).CheckAsync();
        await Expect(form.GetByLabel("Run export on (UTC)")).ToBeHiddenAsync();
        await form.GetByLabel("Generate first report on (UTC)").FillAsync(DateTimeInput(first));
        await form.GetByLabel("Every").FillAsync("1");
        await form.GetByLabel("Repeat unit").SelectOptionAsync("week");
        await form.GetByLabel("The last", new() { Exact = true }).FillAsync("1");
        await form.GetByLabel("Data unit").SelectOptionAsync("week");
        await Expect(form.GetByLabel("Scheduled end date (UTC)")).ToHaveValueAsync("");
        // The payments columns only (the other types' are hidden).
        await Expect(form.GetByRole(AriaRole.Checkbox)).ToHaveCountAsync(ReportType.Payments.Columns.Count);
        await Column(form, "Price", "amount").CheckAsync();
        await Column(form, "Viewer email", "consumer_email").CheckAsync();
        await VouchersBrowserTests.Shot(page, "reports-schedule-new");
        await Click(form, AriaRole.Button, "Save");

        await Expect(page).ToHaveURLAsync(fixture.BaseUrl + "/admin/transactions/reports");
        var description = $"Every week from {Utc(first)}, with the data of the last week before each run";
        await Expect(Notice(page)).ToHaveTextAsync($"Schedule “Weekly payments” saved. {description}.");
        var schedule = Schedule(page, "Weekly payments");
        await Expect(schedule).ToContainTextAsync(description);
        await Expect(schedule).ToContainTextAsync("Payments");
        await Expect(schedule.GetByTestId("next-run")).ToHaveTextAsync(Utc(first));
        await Expect(Rows(schedule, "Reports of Weekly payments")).ToHaveTextAsync([$"No reports yet: the next is generated on {Utc(first)}."]);

        // Edit: the form shows the schedule as saved; a new name and every two weeks.
        await Click(schedule, AriaRole.Link, "Edit");
        await Expect(page).ToHaveURLAsync(new Regex(@"/admin/transactions/reports/schedules/\d+$"));
        var id = long.Parse(page.Url.Split('/')[^1], CultureInfo.InvariantCulture);
        var edit = Form(page, "Edit schedule");
        await Expect(edit.GetByRole(AriaRole.Textbox, new() { Name = "Name" })).ToHaveValueAsync("Weekly payments");
        await Expect(edit.GetByRole(AriaRole.Radio, new() { Name = "Recurring" })).ToBeCheckedAsync();
        await Expect(edit.GetByLabel("Generate first report on (UTC)")).ToHaveValueAsync(DateTimeInput(first));
        await Expect(edit.GetByLabel("Every")).ToHaveValueAsync("1");
        await Expect(Column(edit, "Price", "amount")).ToBeCheckedAsync();
        await Expect(Column(edit, "Viewer email", "consumer_email")).ToBeCheckedAsync();
        await Expect(Column(edit, "Voucher code", "voucher_code")).Not.ToBeCheckedAsync();
        await edit.GetByRole(AriaRole.Textbox, new() { Name = "Name" }).FillAsync("Fortnightly payments");
        await edit.GetByLabel("Every").FillAsync("2");
        await Click(edit, AriaRole.Button, "Save");

        await Expect(page).ToHaveURLAsync(fixture.BaseUrl + "/admin/transactions/reports");
        description = $"Every 2 weeks from {Utc(first)}, with the data of the last week before each run";
        await Expect(Notice(page)).ToHaveTextAsync($"Schedule “Fortnightly payments” saved. {description}.");
        await Expect(Schedule(page, "Weekly payments")).ToHaveCountAsync(0);
        schedule = Schedule(page, "Fortnightly payments");
        await Expect(schedule).ToContainTextAsync(description);
        await Expect(schedule.GetByTestId("next-run")).ToHaveTextAsync(Utc(first));
        var saved = await _api.Send(HttpMethod.Get, $"/v2/reports/schedules/{id}", shop.Token, null, HttpStatusCode.OK);
        Assert.Equal((2, "week", 1, "week"), (saved.GetProperty("repeat_every").GetInt32(), saved.GetProperty("repeat_unit").GetString(),
            saved.GetProperty("data_last").GetInt32(), saved.GetProperty("data_unit").GetString()));

        // Its first run: the file is listed under the schedule, which now waits two weeks.
        fixture.Clock.Advance(first - Now + TimeSpan.FromMinutes(1));
        await RunSchedules();
        await page.ReloadAsync();
        var row = Row(schedule, "Reports of Fortnightly payments", $"Fortnightly payments, {Utc(first)}");
        await ReadyIn(row);
        await Expect(schedule.GetByTestId("next-run")).ToHaveTextAsync(Utc(first.AddDays(14)));
        await Expect(row).ToContainTextAsync($"{Minute(first.AddDays(-7))} to {Utc(first)}");
        await VouchersBrowserTests.Shot(page, "reports-scheduled");
        var (file, csv) = await Download(page, row);
        Assert.Matches(@"^payments-report-\d+-fortnightly-payments-[0-9-]+-utc\.csv$", file);
        Assert.Equal("consumer_email,amount\nana@mail.test,4.99\n", csv);
        // Made by the schedule: not among the reports generated on demand.
        await Expect(Rows(page.GetByRole(AriaRole.Main), "Generated reports")).ToHaveTextAsync([new Regex("No reports generated yet")]);
    }

    [Fact]
    public async Task Deleting_a_schedule_stops_it_and_keeps_its_reports_among_the_generated_ones()
    {
        var shop = await OpenShop();
        var runAt = AnHourOn;
        var id = await ScheduleByApi(shop, new()
        {
            ["name"] = "Month end subscriptions", ["type"] = "subscriptions", ["kind"] = "once", ["run_at"] = runAt.ToString("o"),
            ["data_from"] = Day(Now.AddDays(-30)), ["data_to"] = Day(Now),
        });
        await ScheduleByApi(shop, new()
        {
            ["name"] = "Daily access", ["type"] = "access", ["kind"] = "recurring", ["run_at"] = runAt.AddDays(1).ToString("o"),
            ["repeat_every"] = "1", ["repeat_unit"] = "day", ["data_last"] = "1", ["data_unit"] = "day",
        });

        var page = await SignedIn(shop);
        await ToSection(page, "Transactions");
        await Click(page.GetByRole(AriaRole.Main), AriaRole.Link, "View reports");
        await Expect(page).ToHaveURLAsync(fixture.BaseUrl + "/admin/transactions/reports");
        await Expect(page.GetByTestId("schedule-count")).ToHaveTextAsync("2 schedules.");
        var schedule = Schedule(page, "Month end subscriptions");
        await Expect(schedule).ToContainTextAsync("Subscriptions One time");
        await Expect(schedule).ToContainTextAsync(
            $"Once on {Utc(runAt)}, with the data from {Day(Now.AddDays(-30))} 00:00 UTC to {Day(Now.AddDays(1))} 00:00 UTC");
        await Expect(Schedule(page, "Daily access")).ToContainTextAsync("Access Recurring");

        // It runs once; then it is finished.
        fixture.Clock.Advance(runAt - Now + TimeSpan.FromMinutes(1));
        await RunSchedules();
        await page.ReloadAsync();
        var name = $"Month end subscriptions, {Utc(runAt)}";
        await ReadyIn(Row(schedule, "Reports of Month end subscriptions", name));
        await Expect(schedule.GetByTestId("next-run")).ToHaveTextAsync("Finished");

        await schedule.GetByText("Delete schedule", new() { Exact = true }).ClickAsync();
        await Expect(schedule.GetByRole(AriaRole.Form)).ToContainTextAsync("“Month end subscriptions” stops running.");
        await Click(schedule, AriaRole.Button, "Yes, delete!");
        await Expect(Notice(page)).ToHaveTextAsync(
            "Schedule “Month end subscriptions” deleted. The reports it generated stay until their deletion dates.");
        await Expect(Schedule(page, "Month end subscriptions")).ToHaveCountAsync(0);
        await Expect(Schedule(page, "Daily access")).ToHaveCountAsync(1);
        await Expect(page.GetByTestId("schedule-count")).ToHaveTextAsync("1 schedule.");
        await _api.Send(HttpMethod.Get, $"/v2/reports/schedules/{id}", shop.Token, null, HttpStatusCode.NotFound);
        // Its file stays, now with the reports generated on demand, until its deletion date.
        var kept = Row(page.GetByRole(AriaRole.Main), "Generated reports", name);
        await Expect(kept).ToContainTextAsync($"Deleted on {Utc(Now.AddDays(10))}");
        await Expect(kept.GetByRole(AriaRole.Link, new() { Name = "Download" })).ToBeVisibleAsync();
    }

    [Fact]
    public async Task Refused_forms_say_why_next_to_the_field_and_keep_what_was_entered()
    {
        var shop = await OpenShop();
        var page = await SignedIn(shop);

        // To before From.
        await page.GotoAsync("/admin/reports/new?type=access");
        var form = Form(page, "Generate report");
        await form.GetByLabel("From (UTC)").FillAsync(Day(Now));
        await form.GetByLabel("To (UTC)").FillAsync(Day(Now.AddDays(-2)));
        await form.GetByRole(AriaRole.Radio, new() { Name = "Active", Exact = true }).CheckAsync();
        await form.GetByLabel("Granted", new() { Exact = true }).CheckAsync();
        await Column(form, "Viewer email", "consumer_email").CheckAsync();
        await Click(form, AriaRole.Button, "Generate");
        await Expect(Refusal(page)).ToHaveTextAsync("To: must be after from");
        await Expect(form.GetByLabel("To (UTC)").Locator("xpath=..").Locator(".field-error")).ToHaveTextAsync("must be after from");
        await Expect(form.GetByLabel("From (UTC)")).ToHaveValueAsync(Day(Now));
        await Expect(form.GetByLabel("To (UTC)")).ToHaveValueAsync(Day(Now.AddDays(-2)));
        await Expect(form.GetByRole(AriaRole.Radio, new() { Name = "Active", Exact = true })).ToBeCheckedAsync();
        await Expect(form.GetByLabel("Granted", new() { Exact = true })).ToBeCheckedAsync();
        await Expect(form.GetByLabel("Granted", new() { Exact = true })).ToBeVisibleAsync();
        await Expect(Column(form, "Viewer email", "consumer_email")).ToBeCheckedAsync();
        await Expect(Column(form, "Title", "item_title")).Not.ToBeCheckedAsync();
        await VouchersBrowserTests.Shot(page, "reports-generate-refused");
        Assert.Empty(await ReportsByApi(shop));

        // A recurring schedule without its interval.
        await page.GotoAsync("/admin/transactions/subscriptions");
        await Click(page.GetByRole(AriaRole.Main), AriaRole.Link, "Schedule report");
        var schedule = Form(page, "Schedule report");
        await Expect(schedule.GetByLabel("Report type")).ToHaveValueAsync("subscriptions");
        await schedule.GetByRole(AriaRole.Textbox, new() { Name = "Name" }).FillAsync("Daily subscriptions");
        await schedule.GetByRole(AriaRole.Radio, new() { Name = "Recurring" }).CheckAsync();
        await schedule.GetByLabel("Every").FillAsync("");
        await Column(schedule, "Voucher code", "voucher_code").CheckAsync();
        await Click(schedule, AriaRole.Button, "Save");
        await Expect(Refusal(page)).ToHaveTextAsync("Repeat every: is required: a number from 1 to 366");
        await Expect(schedule.GetByLabel("Every").Locator("xpath=..").Locator(".field-error"))
            .ToHaveTextAsync("is required: a number from 1 to 366");
        await Expect(schedule.GetByRole(AriaRole.Textbox, new() { Name = "Name" })).ToHaveValueAsync("Daily subscriptions");
        await Expect(schedule.GetByLabel("Report type")).ToHaveValueAsync("subscriptions");
        await Expect(schedule.GetByRole(AriaRole.Radio, new() { Name = "Recurring" })).ToBeCheckedAsync();
        await Expect(schedule.GetByLabel("Generate first report on (UTC)")).ToBeVisibleAsync();
        await Expect(Column(schedule, "Voucher code", "voucher_code")).ToBeCheckedAsync();
        Assert.Equal(0, (await _api.Send(HttpMethod.Get, "/v2/reports/schedules", shop.Token, null, HttpStatusCode.OK)).GetProperty("total").GetInt64());

        // Without script both groups of record types show: the server refuses types that do not go with the records chosen.
        await using var noScript = await fixture.Browser.NewContextAsync(new()
        {
            BaseURL = fixture.BaseUrl, JavaScriptEnabled = false, StorageState = await page.Context.StorageStateAsync(),
        });
        var plain = await noScript.NewPageAsync();
        await plain.GotoAsync("/admin/reports/new?type=access");
        var plainForm = Form(plain, "Generate report");
        await Expect(plainForm.GetByLabel("Revoked", new() { Exact = true })).ToBeVisibleAsync();
        await plainForm.GetByLabel("Granted", new() { Exact = true }).CheckAsync();
        await Click(plainForm, AriaRole.Button, "Generate");
        await Expect(Refusal(plain)).ToHaveTextAsync("Record types: choose active or inactive records to pick record types");
        await plainForm.GetByRole(AriaRole.Radio, new() { Name = "Inactive", Exact = true }).CheckAsync();
        await Click(plainForm, AriaRole.Button, "Generate");
        await Expect(Refusal(plain)).ToHaveTextAsync("Record types: granted is not a type of inactive record; they are: expired, revoked");
        Assert.Empty(await ReportsByApi(shop));
    }

    [Fact]
    public async Task A_report_being_generated_shows_its_progress_and_the_page_follows_it()
    {
        var shop = await OpenShop();
        await using var worker = await fixture.Db.OpenConnectionAsync();
        var id = await worker.ExecuteScalarAsync<long>(
            """
            insert into reports.reports (merchant_id, name, type, period_from, period_to, columns, status, rows_total, rows_written,
                                         requested_by, created_at, started_at, expires_at)
            values (@Id, 'Big access report', 'access', @from, @to, '{}', 'running', 200, 50, 'merchant:api', @now, @now, @expires)
            returning id
            """, new { shop.Merchant.Id, from = Now.AddDays(-30), to = Now, now = Now, expires = Now.AddDays(10) });
        // This connection is the report's worker, as far as the app's workers can tell: they leave the report to it.
        await worker.ExecuteAsync("select pg_advisory_lock(hashtextextended('report:' || @id, 0))", new { id });

        var page = await SignedIn(shop);
        await page.GotoAsync("/admin/access/reports");
        var row = Row(page.GetByRole(AriaRole.Main), "Access reports", "Big access report");
        await Expect(row.Locator(".report-status")).ToHaveTextAsync("Generating");
        var progress = row.GetByRole(AriaRole.Progressbar, new() { Name = "Progress of Big access report" });
        await Expect(progress).ToHaveAttributeAsync("value", "25");
        await Expect(row).ToContainTextAsync("25%");
        await Expect(row.GetByRole(AriaRole.Link, new() { Name = "Download" })).ToHaveCountAsync(0);
        await VouchersBrowserTests.Shot(page, "reports-progress");

        // The page refreshes itself while the report is generated, without a click.
        await worker.ExecuteAsync("update reports.reports set rows_written = 150 where id = @id", new { id });
        await Expect(progress).ToHaveAttributeAsync("value", "75", new() { Timeout = 15_000 });
        await worker.ExecuteAsync(
            "update reports.reports set status = 'failed', message = 'The report could not be generated; generate it again' where id = @id", new { id });
        await Expect(row.Locator(".report-status")).ToHaveTextAsync("Failed", new() { Timeout = 15_000 });
        await Expect(row).ToContainTextAsync("The report could not be generated; generate it again");
        // Nothing left to follow: no more refreshing.
        await Expect(page.Locator("meta[http-equiv=refresh]")).ToHaveCountAsync(0);
        await worker.ExecuteAsync("select pg_advisory_unlock(hashtextextended('report:' || @id, 0))", new { id });
    }

    [Fact]
    public async Task Another_merchants_reports_and_schedules_are_out_of_reach()
    {
        var theirs = await OpenShop("Their Media");
        var theirReport = await ReadyReportByApi(theirs);
        var theirSchedule = await ScheduleByApi(theirs, new()
        {
            ["name"] = "Their schedule", ["type"] = "payments", ["kind"] = "once", ["run_at"] = AnHourOn.ToString("o"),
            ["data_from"] = Day(Now.AddDays(-7)), ["data_to"] = Day(Now),
        });
        var ours = await OpenShop("Our Media");
        var ourReport = await ReadyReportByApi(ours);

        var page = await SignedIn(ours);
        await page.GotoAsync("/admin/access/reports");
        await Expect(page.GetByTestId("report-count")).ToHaveTextAsync("1 report");
        await Expect(page.GetByRole(AriaRole.Main)).Not.ToContainTextAsync("Their schedule");

        // Asked with this admin's cookie.
        Assert.Equal(404, (await page.APIRequest.GetAsync($"/admin/reports/{theirReport}/download")).Status);
        var own = await page.APIRequest.GetAsync($"/admin/reports/{ourReport}/download");
        Assert.Equal(200, own.Status);
        Assert.StartsWith("item_access_id,status,type,", await own.TextAsync());
        Assert.Equal(404, (await page.APIRequest.GetAsync($"/admin/transactions/reports/schedules/{theirSchedule}")).Status);
        // A report's own address leads to the list it is in; theirs is not found.
        var list = await page.APIRequest.GetAsync($"/admin/reports/{ourReport}");
        Assert.Equal((200, fixture.BaseUrl + "/admin/access/reports"), (list.Status, list.Url));
        Assert.Equal(404, (await page.APIRequest.GetAsync($"/admin/reports/{theirReport}")).Status);

        // Our own Delete form pointed at their report (antiforgery token and all) is a 404, and deletes nothing.
        var delete = page.GetByRole(AriaRole.Main).Locator("form[aria-label^='Delete']");
        await delete.EvaluateAsync("(form, id) => form.action = '/admin/reports/' + id + '/delete'", theirReport);
        await page.GetByText("Delete", new() { Exact = true }).ClickAsync();
        var response = await page.RunAndWaitForResponseAsync(
            () => delete.GetByRole(AriaRole.Button, new() { Name = "Yes, delete!" }).ClickAsync(), r => r.Request.Method == "POST");
        Assert.Equal(404, response.Status);
        await _api.Send(HttpMethod.Get, $"/v2/reports/{theirReport}", theirs.Token, null, HttpStatusCode.OK);
        await _api.Send(HttpMethod.Get, $"/v2/reports/{ourReport}", ours.Token, null, HttpStatusCode.OK);

        // Signed out, the report pages send to the login and the files are not served.
        var signedOut = await fixture.NewPage();
        foreach (var path in new[] { "/admin/access/reports", "/admin/transactions/reports", "/admin/reports/new?type=access",
                     $"/admin/reports/{ourReport}/download" })
        {
            await signedOut.GotoAsync(path);
            await Expect(signedOut).ToHaveURLAsync(new Regex(@"/admin/login\?ReturnUrl="));
        }
    }
}
