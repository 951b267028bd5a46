using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Web;
using Gatehouse.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Gatehouse.Tests.Access;

/// <summary>
/// The admin's Access tab in a real browser: the table of passes, the search with each filter, the active/inactive
/// toggle, revoking and extending. Test data goes in through the API, as a merchant's back end would send it.
/// </summary>
public sealed class AccessTabBrowserTests(BrowserFixture fixture) : IClassFixture<BrowserFixture>, IDisposable
{
    private readonly Api _api = new(fixture.BaseUrl);

    public void Dispose() => _api.Dispose();

    private sealed record Shop(TestMerchant Merchant, string Token, long CupFinal, long Highlights, long SeasonPass);

    private sealed record Viewer(long Id, string Email, string Token);

    private DateTimeOffset Now => fixture.Clock.GetUtcNow();

    // ---- The merchant's back end, through the API ----

    private async Task<Shop> OpenShop(string name = "Access Media")
    {
        var merchant = await Given.Merchant(fixture.Db, name);
        var token = await _api.MerchantToken(merchant);
        async Task<long> Create(string path, Dictionary<string, string> form) =>
            (await _api.Send(HttpMethod.Post, path, token, form, HttpStatusCode.Created)).GetProperty("id").GetInt64();
        var cupFinal = await Create("/v2/items", new() { ["title"] = "Cup Final", ["item_type"] = "video", ["content"] = "stream-cup" });
        var highlights = await Create("/v2/items", new() { ["title"] = "Derby Highlights", ["item_type"] = "video", ["content"] = "stream-derby" });
        var seasonPass = await Create("/v2/items/packages", new() { ["title"] = "Season pass" });
        await _api.Send(HttpMethod.Post, $"/v2/items/packages/{seasonPass}/items", token, new() { ["item_id"] = highlights.ToString() }, HttpStatusCode.OK);
        return new Shop(merchant, token, cupFinal, highlights, seasonPass);
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

    /// <summary>Grants a pass to an asset ("item_id") or a package ("package_id"); returns the pass id.</summary>
    private async Task<long> Grant(Shop shop, Viewer viewer, string resource, long id, DateTimeOffset expiresAt, DateTimeOffset? startsAt = null)
    {
        var form = new Dictionary<string, string>
        {
            ["consumer_id"] = viewer.Id.ToString(), [resource] = id.ToString(), ["expires_at"] = expiresAt.ToString("o"),
        };
        if (startsAt is { } starts) form["starts_at"] = starts.ToString("o");
        return (await _api.Send(HttpMethod.Post, "/items/access", shop.Token, form, HttpStatusCode.Created)).GetProperty("item_access_id").GetInt64();
    }

    private Task Revoke(Shop shop, long passId) =>
        _api.Send(HttpMethod.Post, $"/v2/access/{passId}/revoke", shop.Token, null, HttpStatusCode.OK);

    private Task<JsonElement> Pass(Shop shop, long passId) =>
        _api.Send(HttpMethod.Get, $"/v2/access/{passId}", shop.Token, null, HttpStatusCode.OK);

    private async Task<HttpStatusCode> CheckAccess(Viewer viewer, long itemId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/items/{itemId}/access");
        request.Headers.Authorization = new("Bearer", viewer.Token);
        using var response = await _api.Http.SendAsync(request);
        return response.StatusCode;
    }

    // ---- The admin, in the browser ----

    private async Task<IPage> OnAccessTab(Shop shop)
    {
        var page = await fixture.SignedIn(shop.Merchant);
        await page.GetByRole(AriaRole.Navigation, new() { Name = "Main" })
            .GetByRole(AriaRole.Link, new() { Name = "Access", Exact = true }).ClickAsync();
        await Expect(page).ToHaveURLAsync(fixture.BaseUrl + "/admin/access");
        return page;
    }

    private static async Task Search(IPage page, string filter, string text)
    {
        var chooser = page.GetByLabel("Filter");
        await chooser.SelectOptionAsync(new SelectOptionValue { Label = filter });
        var filterKey = await chooser.InputValueAsync();
        var box = page.GetByRole(AriaRole.Searchbox, new() { Name = "Search" });
        await box.FillAsync(text);
        await box.PressAsync("Enter");
        // Wait for the results page itself: the old page may show the same count.
        await page.WaitForUrl(url =>
        {
            var query = HttpUtility.ParseQueryString(new Uri(url).Query);
            return query["filter"] == filterKey && query["q"] == text;
        });
    }

    private static async Task Show(IPage page, string status)
    {
        var toggle = page.GetByRole(AriaRole.Group, new() { Name = "Show" }).GetByRole(AriaRole.Link, new() { Name = status, Exact = true });
        await toggle.ClickAsync();
        await Expect(toggle).ToHaveAttributeAsync("aria-current", "true");
    }

    private static ILocator Count(IPage page) => page.GetByTestId("pass-count");

    private static ILocator Rows(IPage page) => page.GetByRole(AriaRole.Table).Locator("tbody").GetByRole(AriaRole.Row);

    private static ILocator Row(IPage page, string text) => Rows(page).Filter(new() { HasText = text });

    /// <summary>Opens a row's Edit menu, then one of its actions ("Revoke access", "Extend access").</summary>
    private static async Task Edit(ILocator row, string action)
    {
        await row.GetByText("Edit", new() { Exact = true }).ClickAsync();
        await row.GetByText(action, new() { Exact = true }).ClickAsync();
    }

    private static string Shown(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);

    private static string DateTimeInput(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm", CultureInfo.InvariantCulture);

    [Fact]
    public async Task The_table_lists_the_merchants_passes_with_their_status_and_the_toggle_switches_active_and_inactive()
    {
        var shop = await OpenShop();
        var derby = await Register(shop, "derby@mail.com");
        var ann = await Register(shop, "ann@other.org");
        var week = Now.AddDays(7);
        await Grant(shop, derby, "item_id", shop.CupFinal, week);
        await Grant(shop, derby, "package_id", shop.SeasonPass, week);
        await Revoke(shop, await Grant(shop, ann, "item_id", shop.Highlights, week));
        // Another merchant's viewer with the same address: never on this merchant's page.
        var other = await OpenShop("Other Media");
        await Grant(other, await Register(other, "derby@mail.com"), "item_id", other.CupFinal, week);

        var page = await OnAccessTab(shop);

        var tabs = page.GetByRole(AriaRole.Navigation, new() { Name = "Access section" });
        await Expect(tabs.GetByRole(AriaRole.Link, new() { Name = "Access", Exact = true })).ToHaveAttributeAsync("aria-current", "page");
        await Expect(tabs.GetByRole(AriaRole.Link, new() { Name = "Bulk actions" })).ToHaveAttributeAsync("href", "/admin/access/bulk");
        await Expect(page.GetByRole(AriaRole.Columnheader, new() { Name = "Expires (UTC)" })).ToBeVisibleAsync();

        // Active by default: derby's two passes, newest first.
        await Expect(page.GetByRole(AriaRole.Group, new() { Name = "Show" }).GetByRole(AriaRole.Link, new() { Name = "Active", Exact = true }))
            .ToHaveAttributeAsync("aria-current", "true");
        await Expect(Count(page)).ToHaveTextAsync("2 passes");
        await Expect(Rows(page)).ToHaveCountAsync(2);
        await Expect(Rows(page).First).ToContainTextAsync("Season pass");
        var package = Row(page, "Season pass");
        await Expect(package.GetByText("Package", new() { Exact = true })).ToBeVisibleAsync();
        await Expect(package).ToContainTextAsync("Granted");
        await Expect(package).ToContainTextAsync(Shown(week));
        var item = Row(page, "Cup Final");
        await Expect(item.GetByText("Package", new() { Exact = true })).ToHaveCountAsync(0);
        await Expect(item.GetByRole(AriaRole.Cell, new() { Name = derby.Id.ToString(), Exact = true })).ToBeVisibleAsync();
        await Expect(item.GetByRole(AriaRole.Link, new() { Name = "derby@mail.com" })).ToHaveAttributeAsync("href", $"/admin/audience/{derby.Id}");
        await Expect(page.GetByRole(AriaRole.Main)).Not.ToContainTextAsync("ann@other.org");

        await Show(page, "Inactive");
        await Expect(page).ToHaveURLAsync(new Regex(@"/admin/access\?status=inactive$"));
        await Expect(Count(page)).ToHaveTextAsync("1 pass");
        var revoked = Row(page, "ann@other.org");
        await Expect(revoked).ToContainTextAsync("Derby Highlights");
        await Expect(revoked).ToContainTextAsync("Revoked");
        // A revoked pass is final: nothing to edit.
        await Expect(revoked.GetByText("Edit", new() { Exact = true })).ToHaveCountAsync(0);

        await Show(page, "All");
        await Expect(Count(page)).ToHaveTextAsync("3 passes");
        await Expect(Rows(page)).ToHaveCountAsync(3);
    }

    [Fact]
    public async Task Searches_by_each_filter_and_email_matches_whole_parts_only()
    {
        var shop = await OpenShop();
        var derby = await Register(shop, "derby@mail.com");
        var ann = await Register(shop, "ann@other.org");
        var week = Now.AddDays(7);
        await Grant(shop, derby, "item_id", shop.CupFinal, week);
        await Grant(shop, derby, "package_id", shop.SeasonPass, week);
        await Revoke(shop, await Grant(shop, ann, "item_id", shop.Highlights, week));
        var page = await OnAccessTab(shop);

        foreach (var email in new[] { "derby@mail.com", "derby", "DERBY", "mail.com" })
        {
            await Search(page, "Email", email);
            await Expect(Count(page)).ToHaveTextAsync("2 passes");
            await Expect(Rows(page).Filter(new() { HasText = "derby@mail.com" })).ToHaveCountAsync(2);
        }
        // The search is in the URL, so it can be shared; it keeps the filter and the text.
        await Expect(page).ToHaveURLAsync(new Regex(@"status=active&filter=email&q=mail\.com"));
        await Expect(page.GetByLabel("Filter")).ToHaveValueAsync("email");
        await Expect(page.GetByRole(AriaRole.Searchbox, new() { Name = "Search" })).ToHaveValueAsync("mail.com");

        foreach (var fragment in new[] { "derb", "mail", "derby@mail" })
        {
            await Search(page, "Email", fragment);
            await Expect(Count(page)).ToHaveTextAsync("0 passes");
            await Expect(Rows(page)).ToHaveTextAsync(["No access passes match."]);
        }

        // The toggle keeps the search: ann's only pass is revoked.
        await Search(page, "Email", "ann");
        await Expect(Count(page)).ToHaveTextAsync("0 passes");
        await Show(page, "Inactive");
        await Expect(page).ToHaveURLAsync(new Regex(@"status=inactive&filter=email&q=ann"));
        await Expect(Count(page)).ToHaveTextAsync("1 pass");
        await Expect(Rows(page).First).ToContainTextAsync("ann@other.org");

        await Show(page, "All");
        await Search(page, "Viewer ID", ann.Id.ToString());
        await Expect(Count(page)).ToHaveTextAsync("1 pass");
        await Expect(Rows(page).First).ToContainTextAsync("Derby Highlights");

        await Search(page, "Asset title", "season");
        await Expect(Count(page)).ToHaveTextAsync("1 pass");
        await Expect(Rows(page).First).ToContainTextAsync("Season pass");

        await Search(page, "Asset title", "highlights");
        await Expect(Count(page)).ToHaveTextAsync("1 pass");
        await Expect(Rows(page).First).ToContainTextAsync("ann@other.org");

        await Search(page, "Asset ID", shop.CupFinal.ToString());
        await Expect(Count(page)).ToHaveTextAsync("1 pass");
        await Expect(Rows(page).First).ToContainTextAsync("Cup Final");

        // The Search button does what Enter does.
        await page.GetByLabel("Filter").SelectOptionAsync(new SelectOptionValue { Label = "Package ID" });
        await page.GetByRole(AriaRole.Searchbox, new() { Name = "Search" }).FillAsync(shop.SeasonPass.ToString());
        await page.GetByRole(AriaRole.Button, new() { Name = "Search", Exact = true }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("filter=package_id"));
        await Expect(Count(page)).ToHaveTextAsync("1 pass");
        await Expect(Rows(page).First).ToContainTextAsync("Season pass");

        // An id filter needs a number.
        await Search(page, "Viewer ID", "derby");
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("must be a number");
        await Expect(Count(page)).ToHaveTextAsync("0 passes");

        // A shared search URL opens on the same result.
        await page.GotoAsync("/admin/access?status=all&filter=email&q=derby%40mail.com");
        await Expect(Count(page)).ToHaveTextAsync("2 passes");
    }

    [Fact]
    public async Task Revoking_asks_first_then_moves_the_pass_to_inactive_and_closes_the_content()
    {
        var shop = await OpenShop();
        var derby = await Register(shop, "derby@mail.com");
        var passId = await Grant(shop, derby, "item_id", shop.CupFinal, Now.AddDays(7));
        Assert.Equal(HttpStatusCode.OK, await CheckAccess(derby, shop.CupFinal));
        var page = await OnAccessTab(shop);
        await Search(page, "Email", "derby");

        var row = Row(page, "Cup Final");
        var confirm = row.GetByRole(AriaRole.Button, new() { Name = "Yes, revoke!" });
        await Expect(row.GetByText("Revoke access", new() { Exact = true })).Not.ToBeVisibleAsync();
        await row.GetByText("Edit", new() { Exact = true }).ClickAsync();
        await Expect(row.GetByText("Extend access", new() { Exact = true })).ToBeVisibleAsync();
        await row.GetByText("Revoke access", new() { Exact = true }).ClickAsync();
        await Expect(confirm).ToBeVisibleAsync();
        await confirm.ClickAsync();

        await Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("Access to Cup Final for derby@mail.com was revoked.");
        // Back on the same search, where the pass is no longer active.
        await Expect(page).ToHaveURLAsync(new Regex(@"/admin/access\?status=active&filter=email&q=derby$"));
        await Expect(Count(page)).ToHaveTextAsync("0 passes");
        await Show(page, "Inactive");
        await Expect(Row(page, "Cup Final")).ToContainTextAsync("Revoked");
        await Expect(page.GetByRole(AriaRole.Status)).ToHaveCountAsync(0);

        Assert.Equal(HttpStatusCode.PaymentRequired, await CheckAccess(derby, shop.CupFinal));
        var changes = await _api.Send(HttpMethod.Get, $"/v2/access/{passId}/changes", shop.Token, null, HttpStatusCode.OK);
        var revoke = changes.EnumerateArray().Last();
        Assert.Equal("revoked", revoke.GetProperty("action").GetString());
        Assert.Matches($@"^admin:\d+:{Regex.Escape(shop.Merchant.AdminEmail)}$", revoke.GetProperty("actor").GetString());
    }

    [Fact]
    public async Task Extending_moves_the_expiry_and_a_date_in_the_past_is_refused_and_changes_nothing()
    {
        var shop = await OpenShop();
        var derby = await Register(shop, "derby@mail.com");
        var week = Now.AddDays(7);
        var passId = await Grant(shop, derby, "item_id", shop.CupFinal, week);
        var page = await OnAccessTab(shop);

        var row = Row(page, "Cup Final");
        await Expect(row).ToContainTextAsync(Shown(week));
        await Edit(row, "Extend access");
        var newExpiry = row.GetByLabel("New expiry (UTC)");
        await Expect(newExpiry).ToHaveValueAsync(DateTimeInput(week));
        var later = Now.AddDays(30);
        await newExpiry.FillAsync(DateTimeInput(later));
        await row.GetByRole(AriaRole.Button, new() { Name = "Extend", Exact = true }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync($"now expires {Shown(later)} UTC");
        await Expect(row).ToContainTextAsync(Shown(later));
        await Expect(row).Not.ToContainTextAsync(Shown(week));
        var extendedTo = (await Pass(shop, passId)).GetProperty("expires_at").GetInt64();
        Assert.Equal(Shown(later), Shown(DateTimeOffset.FromUnixTimeSeconds(extendedTo)));

        await Edit(row, "Extend access");
        await row.GetByLabel("New expiry (UTC)").FillAsync(DateTimeInput(Now.AddDays(-1)));
        await row.GetByRole(AriaRole.Button, new() { Name = "Extend", Exact = true }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Alert)).ToHaveTextAsync("Could not extend access: the new expiry must be in the future.");
        await Expect(page.GetByRole(AriaRole.Status)).ToHaveCountAsync(0);
        await Expect(row).ToContainTextAsync(Shown(later));
        Assert.Equal(extendedTo, (await Pass(shop, passId)).GetProperty("expires_at").GetInt64());
        Assert.Equal(HttpStatusCode.OK, await CheckAccess(derby, shop.CupFinal));
    }

    [Fact]
    public async Task An_expired_pass_offers_only_extend_which_makes_it_active_again()
    {
        var shop = await OpenShop();
        var derby = await Register(shop, "derby@mail.com");
        await Grant(shop, derby, "item_id", shop.CupFinal, expiresAt: Now.AddDays(-1), startsAt: Now.AddDays(-8));
        Assert.Equal(HttpStatusCode.PaymentRequired, await CheckAccess(derby, shop.CupFinal));
        var page = await OnAccessTab(shop);
        await Expect(Count(page)).ToHaveTextAsync("0 passes");

        await Show(page, "Inactive");
        var row = Row(page, "Cup Final");
        await Expect(row).ToContainTextAsync("Expired");
        await row.GetByText("Edit", new() { Exact = true }).ClickAsync();
        await Expect(row.GetByText("Extend access", new() { Exact = true })).ToBeVisibleAsync();
        await Expect(row.GetByText("Revoke access", new() { Exact = true })).ToHaveCountAsync(0);

        await row.GetByText("Extend access", new() { Exact = true }).ClickAsync();
        await row.GetByLabel("New expiry (UTC)").FillAsync(DateTimeInput(Now.AddDays(3)));
        await row.GetByRole(AriaRole.Button, new() { Name = "Extend", Exact = true }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("now expires");
        await Expect(Count(page)).ToHaveTextAsync("0 passes");
        await Show(page, "Active");
        await Expect(Row(page, "Cup Final")).ToContainTextAsync("Granted");
        Assert.Equal(HttpStatusCode.OK, await CheckAccess(derby, shop.CupFinal));
    }

    [Fact]
    public async Task Another_merchants_pass_cannot_be_revoked_or_extended_from_this_page()
    {
        var shop = await OpenShop();
        var other = await OpenShop("Other Media");
        var derby = await Register(shop, "derby@mail.com");
        await Grant(shop, derby, "item_id", shop.CupFinal, Now.AddDays(7));
        var theirViewer = await Register(other, "their@mail.com");
        var theirs = await Grant(other, theirViewer, "item_id", other.CupFinal, Now.AddDays(7));
        var theirExpiry = (await Pass(other, theirs)).GetProperty("expires_at").GetInt64();
        var page = await OnAccessTab(shop);

        // A forged form: our row's pass id swapped for theirs.
        var row = Row(page, "Cup Final");
        await Edit(row, "Revoke access");
        await row.Locator("form", new() { Has = page.GetByRole(AriaRole.Button, new() { Name = "Yes, revoke!" }) })
            .Locator("input[name=passId]").EvaluateAsync("(input, id) => input.value = id", theirs.ToString());
        await row.GetByRole(AriaRole.Button, new() { Name = "Yes, revoke!" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToHaveTextAsync("Could not revoke access: Access pass not found.");

        await Edit(row, "Extend access");
        await row.Locator("form", new() { Has = page.GetByRole(AriaRole.Button, new() { Name = "Extend", Exact = true }) })
            .Locator("input[name=passId]").EvaluateAsync("(input, id) => input.value = id", theirs.ToString());
        await row.GetByLabel("New expiry (UTC)").FillAsync(DateTimeInput(Now.AddDays(60)));
        await row.GetByRole(AriaRole.Button, new() { Name = "Extend", Exact = true }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToHaveTextAsync("Could not extend access: Access pass not found.");

        var pass = await Pass(other, theirs);
        Assert.Equal("Granted", pass.GetProperty("status").GetString());
        Assert.Equal(theirExpiry, pass.GetProperty("expires_at").GetInt64());
        Assert.Equal(HttpStatusCode.OK, await CheckAccess(theirViewer, other.CupFinal));
        await Expect(Row(page, "Cup Final")).ToContainTextAsync("Granted");
    }

    [Fact]
    public async Task Pages_hold_25_passes_with_previous_and_next()
    {
        var shop = await OpenShop();
        var derby = await Register(shop, "derby@mail.com");
        for (var i = 0; i < 27; i++) await Grant(shop, derby, "item_id", shop.CupFinal, Now.AddDays(7));
        var page = await OnAccessTab(shop);
        var pager = page.GetByRole(AriaRole.Navigation, new() { Name = "Pages" });

        await Expect(Count(page)).ToHaveTextAsync("27 passes");
        await Expect(Rows(page)).ToHaveCountAsync(25);
        await Expect(pager).ToContainTextAsync("Page 1 of 2");
        await Expect(pager.GetByRole(AriaRole.Link, new() { Name = "Previous" })).ToHaveCountAsync(0);

        await pager.GetByRole(AriaRole.Link, new() { Name = "Next" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex(@"[?&]page=2$"));
        await Expect(Rows(page)).ToHaveCountAsync(2);
        await Expect(pager).ToContainTextAsync("Page 2 of 2");
        await Expect(pager.GetByRole(AriaRole.Link, new() { Name = "Next" })).ToHaveCountAsync(0);

        // Revoking on page 2 comes back to page 2.
        await Edit(Rows(page).First, "Revoke access");
        await Rows(page).First.GetByRole(AriaRole.Button, new() { Name = "Yes, revoke!" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("was revoked");
        await Expect(page).ToHaveURLAsync(new Regex(@"[?&]page=2$"));
        await Expect(Count(page)).ToHaveTextAsync("26 passes");
        await Expect(Rows(page)).ToHaveCountAsync(1);

        await pager.GetByRole(AriaRole.Link, new() { Name = "Previous" }).ClickAsync();
        await Expect(Rows(page)).ToHaveCountAsync(25);
        await Expect(pager).ToContainTextAsync("Page 1 of 2");
    }
}
