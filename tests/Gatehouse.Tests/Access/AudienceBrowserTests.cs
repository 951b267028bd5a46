using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Web;
using Dapper;
using Gatehouse.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Gatehouse.Tests.Access;

/// <summary>
/// The admin's Audience section in a real browser: the viewer list and its search (the Access table's email rule), and a
/// viewer's page with their own passes, granting, revoking and extending them. Test data goes in through the API.
/// </summary>
public sealed class AudienceBrowserTests(BrowserFixture fixture) : IClassFixture<BrowserFixture>, IDisposable
{
    private readonly Api _api = new(fixture.BaseUrl);

    public void Dispose() => _api.Dispose();

    private sealed record Shop(TestMerchant Merchant, string Token, long Final, long SeasonPass);

    private sealed record Viewer(long Id, string Email, string Token);

    private DateTimeOffset Now => fixture.Clock.GetUtcNow();

    // ---- The merchant's back end, through the API ----

    private async Task<Shop> OpenShop(string name = "Audience Media")
    {
        var merchant = await Given.Merchant(fixture.Db, name);
        var token = await _api.MerchantToken(merchant);
        async Task<long> Create(string path, Dictionary<string, string> form) =>
            (await _api.Send(HttpMethod.Post, path, token, form, HttpStatusCode.Created)).GetProperty("id").GetInt64();
        var final = await Create("/v2/items", new() { ["title"] = "Cup Final", ["item_type"] = "video", ["content"] = "stream-final" });
        var seasonPass = await Create("/v2/items/packages", new() { ["title"] = "Season pass" });
        await _api.Send(HttpMethod.Post, $"/v2/items/packages/{seasonPass}/items", token, new() { ["item_id"] = final.ToString() }, HttpStatusCode.OK);
        return new Shop(merchant, token, final, seasonPass);
    }

    private async Task<Viewer> Register(Shop shop, string email, Dictionary<string, string>? metadata = null)
    {
        var form = new Dictionary<string, string>
        {
            ["full_name"] = "Derby Fan", ["username"] = email, ["password"] = Given.Password, ["password_confirmation"] = Given.Password,
            ["client_id"] = shop.Merchant.Uuid.ToString(), ["type"] = "consumer",
        };
        foreach (var (key, value) in metadata ?? []) form[$"metadata[{key}]"] = value;
        var body = await _api.Send(HttpMethod.Post, "/accounts", null, form, HttpStatusCode.Created);
        return new Viewer(body.GetProperty("account").GetProperty("id").GetInt64(), email, body.GetProperty("access_token").GetString()!);
    }

    /// <summary>Grants a pass through the API; returns its id.</summary>
    private async Task<long> Grant(Shop shop, Viewer viewer, long itemId, DateTimeOffset expiresAt) =>
        (await _api.Send(HttpMethod.Post, "/items/access", shop.Token, new()
        {
            ["consumer_id"] = viewer.Id.ToString(), ["item_id"] = itemId.ToString(), ["expires_at"] = expiresAt.ToString("o"),
        }, HttpStatusCode.Created)).GetProperty("item_access_id").GetInt64();

    private async Task<HttpStatusCode> CheckAccess(Viewer viewer, long itemId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/items/{itemId}/access");
        request.Headers.Authorization = new("Bearer", viewer.Token);
        using var response = await _api.Http.SendAsync(request);
        return response.StatusCode;
    }

    // ---- The admin, in the browser ----

    private async Task<IPage> OnAudience(Shop shop)
    {
        var page = await fixture.SignedIn(shop.Merchant);
        await page.GetByRole(AriaRole.Navigation, new() { Name = "Main" })
            .GetByRole(AriaRole.Link, new() { Name = "Audience", Exact = true }).ClickAsync();
        await Expect(page).ToHaveURLAsync(fixture.BaseUrl + "/admin/audience");
        return page;
    }

    private static async Task Search(IPage page, string filter, string text)
    {
        var form = page.GetByRole(AriaRole.Search, new() { Name = "Search viewers" });
        await form.GetByLabel("Filter").SelectOptionAsync(new SelectOptionValue { Label = filter });
        var box = form.GetByRole(AriaRole.Searchbox, new() { Name = "Search" });
        await box.FillAsync(text);
        await box.PressAsync("Enter");
        // The results page has this search in its URL; waiting for it keeps the next step off the page being left.
        await page.WaitForUrl(url => HttpUtility.ParseQueryString(new Uri(url).Query)["q"] == text);
    }

    private static ILocator Rows(IPage page, string table) =>
        page.GetByRole(AriaRole.Table, new() { Name = table }).Locator("tbody").GetByRole(AriaRole.Row);

    private static ILocator PassRow(IPage page, string title) => Rows(page, "Access passes").Filter(new() { HasText = title });

    private static ILocator Notice(IPage page) => page.GetByRole(AriaRole.Status);

    private static string DateInput(DateTimeOffset day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    [Fact]
    public async Task The_viewer_list_searches_by_whole_email_either_part_and_viewer_id_but_not_fragments()
    {
        var shop = await OpenShop();
        var derby = await Register(shop, "derby@mail.test");
        await Register(shop, "leeds@mail.test");
        await Register(shop, "derby@inbox.test");
        var elsewhere = await OpenShop("Other Media");
        var theirs = await Register(elsewhere, "derby.fan@mail.test");

        var page = await OnAudience(shop);
        await Expect(page.GetByTestId("viewer-count")).ToHaveTextAsync("3 viewers");
        await Expect(Rows(page, "Viewers").First).ToContainTextAsync("derby@inbox.test"); // newest first

        await Search(page, "Email", "derby@mail.test");
        await Expect(page.GetByTestId("viewer-count")).ToHaveTextAsync("1 viewer");
        await Expect(Rows(page, "Viewers")).ToContainTextAsync("derby@mail.test");

        await Search(page, "Email", "DERBY");
        await Expect(page.GetByTestId("viewer-count")).ToHaveTextAsync("2 viewers");
        await Expect(Rows(page, "Viewers").Filter(new() { HasText = "derby@mail.test" })).ToHaveCountAsync(1);
        await Expect(Rows(page, "Viewers").Filter(new() { HasText = "derby@inbox.test" })).ToHaveCountAsync(1);

        await Search(page, "Email", "mail.test");
        await Expect(page.GetByTestId("viewer-count")).ToHaveTextAsync("2 viewers");
        await Expect(Rows(page, "Viewers").Filter(new() { HasText = "leeds@mail.test" })).ToHaveCountAsync(1);
        // Another merchant's viewer on the same domain is not listed.
        await Expect(Rows(page, "Viewers").Filter(new() { HasText = theirs.Email })).ToHaveCountAsync(0);

        await Search(page, "Email", "derb");
        await Expect(page.GetByTestId("viewer-count")).ToHaveTextAsync("0 viewers");
        await Expect(page.GetByText("No viewers match.")).ToBeVisibleAsync();
        await Search(page, "Email", "mail");
        await Expect(page.GetByTestId("viewer-count")).ToHaveTextAsync("0 viewers");

        await Search(page, "Viewer ID", derby.Id.ToString(CultureInfo.InvariantCulture));
        await Expect(page.GetByTestId("viewer-count")).ToHaveTextAsync("1 viewer");
        await Expect(Rows(page, "Viewers")).ToContainTextAsync("derby@mail.test");
        await Search(page, "Viewer ID", theirs.Id.ToString(CultureInfo.InvariantCulture));
        await Expect(page.GetByTestId("viewer-count")).ToHaveTextAsync("0 viewers");
        await Search(page, "Viewer ID", "derby");
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("must be a number for viewer_id");

        // The list leads to the viewer's page.
        await Search(page, "Email", "derby@mail.test");
        await Rows(page, "Viewers").GetByRole(AriaRole.Link, new() { Name = "derby@mail.test" }).ClickAsync();
        await Expect(page).ToHaveURLAsync($"{fixture.BaseUrl}/admin/audience/{derby.Id}");
        await Expect(page.GetByTestId("viewer-id")).ToHaveTextAsync(derby.Id.ToString(CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task A_viewer_page_shows_their_own_passes_and_grants_revokes_and_extends_them()
    {
        var shop = await OpenShop();
        var viewer = await Register(shop, "derby@mail.test", new() { ["club"] = "Derby County" });
        var neighbour = await Register(shop, "leeds@mail.test");
        await Grant(shop, neighbour, shop.Final, Now.AddDays(5)); // someone else's pass: not on this page

        var page = await fixture.SignedIn(shop.Merchant);
        await page.GotoAsync($"/admin/audience/{viewer.Id}");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "derby@mail.test", Level = 1 })).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Main)).ToContainTextAsync("Derby Fan");
        await Expect(page.GetByTestId("viewer-metadata")).ToContainTextAsync("Derby County");
        await Expect(page.GetByText("No access passes.")).ToBeVisibleAsync();

        // Grant: a date in the past is refused with the reason and the choice kept.
        var grant = page.GetByRole(AriaRole.Form, new() { Name = "Grant access" });
        await grant.GetByLabel("Asset or package").SelectOptionAsync($"item:{shop.Final}");
        await grant.GetByLabel("Expires on").FillAsync(DateInput(Now.AddDays(-1)));
        await grant.GetByRole(AriaRole.Button, new() { Name = "Grant access" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("Expires at: must be in the future");
        await Expect(grant.GetByLabel("Asset or package")).ToHaveValueAsync($"item:{shop.Final}");
        await Expect(Rows(page, "Access passes")).ToContainTextAsync("No access passes.");

        var in30Days = Now.Date.AddDays(30);
        await grant.GetByLabel("Expires on").FillAsync(DateInput(in30Days));
        await grant.GetByRole(AriaRole.Button, new() { Name = "Grant access" }).ClickAsync();
        await Expect(Notice(page)).ToHaveTextAsync($"Access to Cup Final granted until {DateInput(in30Days)} 00:00 UTC.");
        await Expect(PassRow(page, "Cup Final")).ToContainTextAsync("Granted");
        await Expect(PassRow(page, "Cup Final")).ToContainTextAsync("admin");
        Assert.Equal(HttpStatusCode.OK, await CheckAccess(viewer, shop.Final));

        await grant.GetByLabel("Asset or package").SelectOptionAsync($"package:{shop.SeasonPass}");
        await grant.GetByLabel("Expires on").FillAsync(DateInput(Now.Date.AddDays(10)));
        await grant.GetByRole(AriaRole.Button, new() { Name = "Grant access" }).ClickAsync();
        await Expect(PassRow(page, "Season pass")).ToContainTextAsync("Package");
        await Expect(Rows(page, "Access passes")).ToHaveCountAsync(2);

        // Revoke asks first.
        var final = PassRow(page, "Cup Final");
        await final.GetByText("Edit", new() { Exact = true }).ClickAsync();
        var confirm = final.GetByRole(AriaRole.Button, new() { Name = "Yes, revoke!" });
        await Expect(confirm).Not.ToBeVisibleAsync();
        await final.GetByText("Revoke access").ClickAsync();
        await Expect(confirm).ToBeVisibleAsync();
        await confirm.ClickAsync();
        await Expect(Notice(page)).ToHaveTextAsync("Access to Cup Final revoked.");
        await Expect(PassRow(page, "Cup Final")).ToContainTextAsync("Revoked");
        // The package still covers the asset.
        Assert.Equal(HttpStatusCode.OK, await CheckAccess(viewer, shop.Final));

        // Active and inactive.
        var show = page.GetByRole(AriaRole.Group, new() { Name = "Show" });
        await show.GetByRole(AriaRole.Link, new() { Name = "Active", Exact = true }).ClickAsync();
        await Expect(show.GetByRole(AriaRole.Link, new() { Name = "Active", Exact = true })).ToHaveAttributeAsync("aria-current", "true");
        await Expect(Rows(page, "Access passes")).ToHaveCountAsync(1);
        await Expect(PassRow(page, "Season pass")).ToBeVisibleAsync();
        await show.GetByRole(AriaRole.Link, new() { Name = "Inactive", Exact = true }).ClickAsync();
        await Expect(show.GetByRole(AriaRole.Link, new() { Name = "Inactive", Exact = true })).ToHaveAttributeAsync("aria-current", "true");
        await Expect(Rows(page, "Access passes")).ToHaveCountAsync(1);
        await Expect(PassRow(page, "Cup Final")).ToContainTextAsync("Revoked");
        await show.GetByRole(AriaRole.Link, new() { Name = "Active", Exact = true }).ClickAsync();

        // Extend to the past: refused with the use case's reason, the form still open with the date typed.
        var season = PassRow(page, "Season pass");
        await season.GetByText("Edit", new() { Exact = true }).ClickAsync();
        await season.GetByText("Extend access").ClickAsync();
        var yesterday = DateInput(Now.AddDays(-1));
        await season.GetByLabel("New expiry date").FillAsync(yesterday);
        await season.GetByRole(AriaRole.Button, new() { Name = "Extend" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("Expires at: must be in the future");
        await Expect(PassRow(page, "Season pass").GetByLabel("New expiry date")).ToHaveValueAsync(yesterday);

        // Extend to a later date.
        var in60Days = Now.Date.AddDays(60);
        season = PassRow(page, "Season pass");
        await season.GetByLabel("New expiry date").FillAsync(DateInput(in60Days));
        await season.GetByRole(AriaRole.Button, new() { Name = "Extend" }).ClickAsync();
        await Expect(Notice(page)).ToHaveTextAsync($"Access to Season pass extended until {DateInput(in60Days)} 00:00 UTC.");
        await Expect(PassRow(page, "Season pass").GetByRole(AriaRole.Cell).Nth(3)).ToHaveTextAsync($"{DateInput(in60Days)} 00:00 UTC");
        // The toggle stayed on Active across the changes.
        await Expect(page.GetByRole(AriaRole.Group, new() { Name = "Show" }).GetByRole(AriaRole.Link, new() { Name = "Active", Exact = true }))
            .ToHaveAttributeAsync("aria-current", "true");

        // Every change is recorded as the signed-in admin's.
        await using var connection = await fixture.Db.OpenConnectionAsync();
        var adminId = await connection.ExecuteScalarAsync<long>(
            "select id from accounts.admin_users where email = @email", new { email = shop.Merchant.AdminEmail });
        var actors = (await connection.QueryAsync<(string Action, string Actor)>(
            """
            select c.action, c.actor from access.pass_changes c join access.passes p on p.id = c.pass_id
            where p.consumer_id = @consumerId order by c.id
            """, new { consumerId = viewer.Id })).ToList();
        var actor = $"admin:{adminId}:{shop.Merchant.AdminEmail}";
        Assert.Equal(new[] { ("granted", actor), ("granted", actor), ("revoked", actor), ("extended", actor) }, actors);
        Assert.Equal("admin", await connection.ExecuteScalarAsync<string>(
            "select distinct source from access.passes where consumer_id = @consumerId", new { consumerId = viewer.Id }));
    }

    [Fact]
    public async Task The_viewer_list_pages_through_many_viewers()
    {
        var shop = await OpenShop();
        await using (var connection = await fixture.Db.OpenConnectionAsync())
            await connection.ExecuteAsync(
                """
                insert into accounts.consumers (merchant_id, uuid, email, full_name, created_at, updated_at)
                select @id, gen_random_uuid(), 'fan' || n || '@mail.test', 'Fan ' || n, now(), now() from generate_series(1, 30) n
                """, new { id = shop.Merchant.Id });

        var page = await OnAudience(shop);
        await Expect(page.GetByTestId("viewer-count")).ToHaveTextAsync("30 viewers");
        await Expect(Rows(page, "Viewers")).ToHaveCountAsync(25);
        var pages = page.GetByRole(AriaRole.Navigation, new() { Name = "Pages" });
        await Expect(pages).ToContainTextAsync("Page 1 of 2");
        await pages.GetByRole(AriaRole.Link, new() { Name = "Next" }).ClickAsync();
        await Expect(pages).ToContainTextAsync("Page 2 of 2");
        await Expect(Rows(page, "Viewers")).ToHaveCountAsync(5);
        await Expect(Rows(page, "Viewers").Last).ToContainTextAsync("fan1@mail.test");

        // A search starts again from the first page.
        await Search(page, "Email", "mail.test");
        await Expect(pages).ToContainTextAsync("Page 1 of 2");
    }

    [Fact]
    public async Task Another_merchants_viewer_is_not_found()
    {
        var ours = await OpenShop("Our Media");
        var ourViewer = await Register(ours, "derby@mail.test");
        var theirs = await OpenShop("Their Media");
        var theirViewer = await Register(theirs, "derby@mail.test");
        var theirPass = await Grant(theirs, theirViewer, theirs.Final, Now.AddDays(5));
        await Grant(ours, ourViewer, ours.Final, Now.AddDays(5));

        var page = await OnAudience(ours);
        await Expect(page.GetByTestId("viewer-count")).ToHaveTextAsync("1 viewer");
        // Asked with this admin's cookie (a browser shows its own error page for a bodiless 404).
        Assert.Equal(404, (await page.APIRequest.GetAsync($"/admin/audience/{theirViewer.Id}")).Status);
        Assert.Equal(200, (await page.GotoAsync($"/admin/audience/{ourViewer.Id}"))!.Status);
        await Expect(page.GetByTestId("viewer-id")).ToHaveTextAsync(ourViewer.Id.ToString(CultureInfo.InvariantCulture));
        // Their asset is not offered for a grant here.
        var grant = page.GetByRole(AriaRole.Form, new() { Name = "Grant access" });
        await Expect(grant.Locator($"option[value='item:{theirs.Final}']")).ToHaveCountAsync(0);

        // Forms of ours pointed at their pass or their viewer (antiforgery token and all) are 404s, and change nothing.
        await PassRow(page, "Cup Final").GetByText("Edit", new() { Exact = true }).ClickAsync();
        await PassRow(page, "Cup Final").GetByText("Revoke access").ClickAsync();
        var revoke = PassRow(page, "Cup Final").Locator("form", new() { Has = page.GetByRole(AriaRole.Button, new() { Name = "Yes, revoke!" }) });
        await revoke.EvaluateAsync("(form, id) => form.action = form.action.replace(/passId=\\d+/, 'passId=' + id)", theirPass);
        var response = await page.RunAndWaitForResponseAsync(
            () => revoke.GetByRole(AriaRole.Button).ClickAsync(), r => r.Request.Method == "POST");
        Assert.Equal(404, response.Status);
        Assert.False((await _api.Send(HttpMethod.Get, $"/v2/access/{theirPass}", theirs.Token, null, HttpStatusCode.OK)).GetProperty("revoked").GetBoolean());

        // A new tab of the same session: this one is busy showing the browser's error page.
        page = await page.Context.NewPageAsync();
        await page.GotoAsync($"/admin/audience/{ourViewer.Id}");
        grant = page.GetByRole(AriaRole.Form, new() { Name = "Grant access" });
        await grant.GetByLabel("Asset or package").SelectOptionAsync($"item:{ours.Final}");
        await grant.GetByLabel("Expires on").FillAsync(DateInput(Now.AddDays(9)));
        await grant.EvaluateAsync("(form, id) => form.action = form.action.replace(/audience\\/\\d+/, 'audience/' + id)", theirViewer.Id);
        response = await page.RunAndWaitForResponseAsync(
            () => grant.GetByRole(AriaRole.Button, new() { Name = "Grant access" }).ClickAsync(), r => r.Request.Method == "POST");
        Assert.Equal(404, response.Status);
        await using var connection = await fixture.Db.OpenConnectionAsync();
        Assert.Equal(1, await connection.ExecuteScalarAsync<int>(
            "select count(*) from access.passes where consumer_id = @id", new { id = theirViewer.Id }));
    }
}
