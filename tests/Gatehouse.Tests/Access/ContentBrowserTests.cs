using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Web;
using Dapper;
using Gatehouse.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Gatehouse.Tests.Access;

/// <summary>
/// The admin's Content section in a real browser: assets (list, search, create, edit, deactivate), packages (create,
/// add and remove assets) and price options, and what the public API then shows, since the pages run the API's use cases.
/// </summary>
public sealed class ContentBrowserTests(BrowserFixture fixture) : IClassFixture<BrowserFixture>, IDisposable
{
    private readonly Api _api = new(fixture.BaseUrl);

    public void Dispose() => _api.Dispose();

    // ---- The merchant's back end, through the API ----

    private async Task<string> Token(TestMerchant merchant) =>
        await _api.MerchantToken(merchant);

    private async Task<long> CreateAsset(string token, string title, string type = "video") =>
        (await _api.Send(HttpMethod.Post, "/v2/items", token, new() { ["title"] = title, ["item_type"] = type }, HttpStatusCode.Created))
        .GetProperty("id").GetInt64();

    private async Task<long> CreatePackage(string token, string title) =>
        (await _api.Send(HttpMethod.Post, "/v2/items/packages", token, new() { ["title"] = title }, HttpStatusCode.Created))
        .GetProperty("id").GetInt64();

    private async Task<HttpStatusCode> PublicStatus(string path)
    {
        using var response = await _api.Http.GetAsync(path);
        return response.StatusCode;
    }

    // ---- The admin, in the browser ----

    private async Task<IPage> OnContent(TestMerchant merchant)
    {
        var page = await fixture.SignedIn(merchant);
        await page.GetByRole(AriaRole.Navigation, new() { Name = "Main" })
            .GetByRole(AriaRole.Link, new() { Name = "Content", Exact = true }).ClickAsync();
        await Expect(page).ToHaveURLAsync(fixture.BaseUrl + "/admin/content");
        return page;
    }

    private static ILocator Rows(IPage page, string table) =>
        page.GetByRole(AriaRole.Table, new() { Name = table }).Locator("tbody").GetByRole(AriaRole.Row);

    private static string? Query(string url, string name) => HttpUtility.ParseQueryString(new Uri(url).Query)[name];

    private static ILocator Notice(IPage page) => page.GetByRole(AriaRole.Status);

    private static ILocator PriceOption(IPage page, string text) =>
        page.GetByRole(AriaRole.Listitem).Filter(new() { HasText = text });

    private static async Task FillPrice(ILocator form, string accessType, string amount, string currency, string quantity, string period,
        string description, string? trialQuantity = null, string? trialPeriod = null)
    {
        await form.GetByLabel("Access type").SelectOptionAsync(accessType);
        await form.GetByLabel("Amount").FillAsync(amount);
        await form.GetByLabel("Currency").FillAsync(currency);
        await form.GetByLabel("Quantity", new() { Exact = true }).FillAsync(quantity);
        await form.GetByLabel("Period", new() { Exact = true }).SelectOptionAsync(period);
        await form.GetByLabel("Description", new() { Exact = true }).FillAsync(description);
        if (trialQuantity is not null) await form.GetByLabel("Trial quantity").FillAsync(trialQuantity);
        if (trialPeriod is not null) await form.GetByLabel("Trial period").SelectOptionAsync(trialPeriod);
    }

    [Fact]
    public async Task Creates_an_asset_with_a_price_lists_it_edits_it_and_deactivates_it()
    {
        var merchant = await Given.Merchant(fixture.Db);
        var page = await OnContent(merchant);
        await Expect(page.GetByTestId("asset-count")).ToHaveTextAsync("0 assets");

        // Create.
        await page.GetByRole(AriaRole.Link, new() { Name = "New asset" }).ClickAsync();
        var create = page.GetByRole(AriaRole.Form, new() { Name = "New asset" });
        await create.GetByLabel("Title").FillAsync("Match of the Day");
        await create.GetByLabel("Type").SelectOptionAsync("video");
        await create.GetByLabel("Protected content").FillAsync("<iframe src=\"https://cdn.example/motd.m3u8\"></iframe>");
        await create.GetByLabel("Metadata key 1").FillAsync("league");
        await create.GetByLabel("Metadata value 1").FillAsync("premier");
        await create.GetByLabel("Metadata key 2").FillAsync("season");
        await create.GetByLabel("Metadata value 2").FillAsync("2026");
        await create.GetByRole(AriaRole.Button, new() { Name = "Create asset" }).ClickAsync();

        await Expect(page).ToHaveURLAsync(new Regex(@"/admin/content/assets/\d+$"));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Match of the Day", Level = 1 })).ToBeVisibleAsync();
        await Expect(Notice(page)).ToContainTextAsync("Asset “Match of the Day” created.");
        var id = long.Parse(await page.GetByTestId("asset-id").InnerTextAsync());
        await Expect(page.GetByTestId("asset-status")).ToHaveTextAsync("Active");
        // Active, but nothing to buy yet.
        Assert.Equal(HttpStatusCode.OK, await PublicStatus($"/items/{id}"));

        // A refused price option keeps what was typed and says why, next to the field.
        var add = page.GetByRole(AriaRole.Form, new() { Name = "Add price option" });
        await FillPrice(add, "ppv", "-1", "eur", "2", "day", "Two days", trialQuantity: "7", trialPeriod: "day");
        await add.GetByRole(AriaRole.Button, new() { Name = "Add price option" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("Amount: must be between 0 and 1,000,000");
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("Trial period: only subscriptions have a trial");
        await Expect(add.GetByLabel("Amount")).ToHaveValueAsync("-1");
        await Expect(add.GetByLabel("Description", new() { Exact = true })).ToHaveValueAsync("Two days");
        await Expect(add.GetByText("must be between 0 and 1,000,000")).ToBeVisibleAsync();

        await FillPrice(add, "ppv", "4.99", "eur", "2", "day", "Two days", trialQuantity: "");
        await add.GetByLabel("Trial period").SelectOptionAsync(new SelectOptionValue { Label = "No trial" });
        await add.GetByRole(AriaRole.Button, new() { Name = "Add price option" }).ClickAsync();
        await Expect(Notice(page)).ToHaveTextAsync("Price option added.");
        await Expect(PriceOption(page, "Two days")).ToContainTextAsync("4.99 EUR · Pay-per-view · 2 days");
        await Expect(PriceOption(page, "Two days")).ToContainTextAsync("Active");

        // The API sees what the page made.
        using (var fees = await _api.Http.GetAsync($"/items/{id}/access-fees"))
        {
            var fee = JsonDocument.Parse(await fees.Content.ReadAsStringAsync()).RootElement.EnumerateArray().Single();
            Assert.Equal(4.99m, fee.GetProperty("amount").GetDecimal());
            Assert.Equal("EUR", fee.GetProperty("currency").GetString());
        }

        // Listed, and found by title, type and status.
        await page.GetByRole(AriaRole.Link, new() { Name = "← Assets" }).ClickAsync();
        await Expect(Rows(page, "Assets")).ToHaveCountAsync(1);
        var row = Rows(page, "Assets").Filter(new() { HasText = "Match of the Day" });
        await Expect(row).ToContainTextAsync("video");
        await Expect(row.GetByRole(AriaRole.Cell).Nth(3)).ToHaveTextAsync("1");
        await Expect(row).ToContainTextAsync("Active");
        var search = page.GetByRole(AriaRole.Search, new() { Name = "Search assets" });
        await search.GetByLabel("Title").FillAsync("match of");
        await search.GetByRole(AriaRole.Button, new() { Name = "Search" }).ClickAsync();
        await page.WaitForUrl(url => Query(url, "search") == "match of");
        await Expect(page.GetByTestId("asset-count")).ToHaveTextAsync("1 asset");
        await search.GetByLabel("Type").SelectOptionAsync("html");
        await search.GetByRole(AriaRole.Button, new() { Name = "Search" }).ClickAsync();
        await page.WaitForUrl(url => Query(url, "type") == "html");
        await Expect(page.GetByTestId("asset-count")).ToHaveTextAsync("0 assets");
        await Expect(page.GetByText("No assets match.")).ToBeVisibleAsync();

        // Edit: a value without a key is refused with the typed values kept; then a real edit saves, a cleared value removes its key.
        await page.GotoAsync($"/admin/content/assets/{id}");
        var details = page.GetByRole(AriaRole.Form, new() { Name = "Asset details" });
        await Expect(details.GetByLabel("Metadata key 1")).ToHaveValueAsync("league");
        await details.GetByLabel("Title").FillAsync("Match of the Day: Extended");
        await details.GetByLabel("Protected content").FillAsync("new stream");
        await details.GetByLabel("Metadata value 3").FillAsync("orphan");
        await details.GetByRole(AriaRole.Button, new() { Name = "Save asset" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("Metadata: keys must be 1 to 64 characters");
        await Expect(details.GetByText("keys must be 1 to 64 characters")).ToBeVisibleAsync();
        await Expect(details.GetByLabel("Title")).ToHaveValueAsync("Match of the Day: Extended");
        await Expect(details.GetByLabel("Protected content")).ToHaveValueAsync("new stream");
        await Expect(details.GetByLabel("Metadata value 3")).ToHaveValueAsync("orphan");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Match of the Day", Level = 1, Exact = true })).ToBeVisibleAsync();
        await details.GetByLabel("Metadata value 3").FillAsync("");
        await details.GetByLabel("Metadata value 1").FillAsync("");
        await details.GetByRole(AriaRole.Button, new() { Name = "Save asset" }).ClickAsync();
        await Expect(Notice(page)).ToHaveTextAsync("Asset saved.");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Match of the Day: Extended", Level = 1 })).ToBeVisibleAsync();
        await Expect(details.GetByLabel("Metadata key 1")).ToHaveValueAsync("season");
        await Expect(details.GetByLabel("Metadata value 1")).ToHaveValueAsync("2026");
        await Expect(details.GetByLabel("Metadata key 2")).ToHaveValueAsync("");
        await Expect(details.GetByLabel("Protected content")).ToHaveValueAsync("new stream");

        // Edit the price option, then withdraw it.
        var option = PriceOption(page, "Two days");
        await option.GetByText("Edit", new() { Exact = true }).ClickAsync();
        var edit = option.GetByRole(AriaRole.Form);
        await Expect(edit.GetByLabel("Amount")).ToHaveValueAsync("4.99");
        await edit.GetByLabel("Amount").FillAsync("5.49");
        await edit.GetByRole(AriaRole.Button, new() { Name = "Save price option" }).ClickAsync();
        await Expect(Notice(page)).ToHaveTextAsync("Price option saved.");
        await Expect(PriceOption(page, "Two days")).ToContainTextAsync("5.49 EUR · Pay-per-view · 2 days");
        await PriceOption(page, "Two days").GetByRole(AriaRole.Button, new() { Name = "Deactivate", Exact = true }).ClickAsync();
        await Expect(Notice(page)).ToHaveTextAsync("Price option deactivated.");
        await Expect(PriceOption(page, "Two days")).ToContainTextAsync("Inactive");
        await Expect(PriceOption(page, "Two days").GetByRole(AriaRole.Button, new() { Name = "Reactivate" })).ToBeVisibleAsync();

        // Deactivate the asset: gone from public reads, still the merchant's, listed as inactive.
        await page.GetByRole(AriaRole.Button, new() { Name = "Deactivate asset" }).ClickAsync();
        await Expect(Notice(page)).ToContainTextAsync("Asset deactivated");
        await Expect(page.GetByTestId("asset-status")).ToHaveTextAsync("Inactive");
        Assert.Equal(HttpStatusCode.NotFound, await PublicStatus($"/items/{id}"));
        await page.GotoAsync("/admin/content?status=active");
        await Expect(page.GetByTestId("asset-count")).ToHaveTextAsync("0 assets");
        await page.GetByRole(AriaRole.Search).GetByLabel("Status").SelectOptionAsync("inactive");
        await page.GetByRole(AriaRole.Search).GetByRole(AriaRole.Button, new() { Name = "Search" }).ClickAsync();
        await Expect(Rows(page, "Assets").Filter(new() { HasText = "Match of the Day: Extended" })).ToContainTextAsync("Inactive");

        // And back on sale.
        await page.GotoAsync($"/admin/content/assets/{id}");
        await page.GetByRole(AriaRole.Button, new() { Name = "Reactivate asset" }).ClickAsync();
        await Expect(page.GetByTestId("asset-status")).ToHaveTextAsync("Active");
        Assert.Equal(HttpStatusCode.OK, await PublicStatus($"/items/{id}"));
    }

    [Fact]
    public async Task Creates_a_package_adds_and_removes_assets_and_prices_it()
    {
        var merchant = await Given.Merchant(fixture.Db);
        var token = await Token(merchant);
        var round1 = await CreateAsset(token, "Round 1");
        var round2 = await CreateAsset(token, "Round 2");
        var other = await Given.Merchant(fixture.Db);
        var foreign = await CreateAsset(await Token(other), "Not yours");

        var page = await OnContent(merchant);
        await page.GetByRole(AriaRole.Navigation, new() { Name = "Content section" }).GetByRole(AriaRole.Link, new() { Name = "Packages" }).ClickAsync();
        await Expect(page.GetByTestId("package-count")).ToHaveTextAsync("0 packages");
        await page.GetByRole(AriaRole.Link, new() { Name = "New package" }).ClickAsync();
        var create = page.GetByRole(AriaRole.Form, new() { Name = "New package" });
        await create.GetByLabel("Title").FillAsync("Season pass");
        await create.GetByLabel("Description").FillAsync("Every round of the season");
        await create.GetByRole(AriaRole.Button, new() { Name = "Create package" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex(@"/admin/content/packages/\d+$"));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Season pass", Level = 1 })).ToBeVisibleAsync();
        var id = long.Parse(await page.GetByTestId("package-id").InnerTextAsync());

        // The picker offers this merchant's assets only.
        var addAsset = page.GetByRole(AriaRole.Form, new() { Name = "Add an asset" });
        var picker = addAsset.GetByLabel("Asset");
        await Expect(picker.Locator("option")).ToHaveCountAsync(3);
        await Expect(picker).Not.ToContainTextAsync("Not yours");
        await Expect(picker.Locator($"option[value='{foreign}']")).ToHaveCountAsync(0);

        await picker.SelectOptionAsync(round1.ToString());
        await addAsset.GetByRole(AriaRole.Button, new() { Name = "Add asset" }).ClickAsync();
        await Expect(Notice(page)).ToHaveTextAsync("Asset added: the package holds 1 asset.");
        await page.GetByRole(AriaRole.Form, new() { Name = "Add an asset" }).GetByLabel("Asset").SelectOptionAsync(round2.ToString());
        await page.GetByRole(AriaRole.Form, new() { Name = "Add an asset" }).GetByRole(AriaRole.Button, new() { Name = "Add asset" }).ClickAsync();
        await Expect(Notice(page)).ToHaveTextAsync("Asset added: the package holds 2 assets.");
        await Expect(Rows(page, "Assets in this package")).ToHaveCountAsync(2);
        // What is in the package is no longer offered.
        await Expect(page.GetByText("Every one of your assets is in this package.")).ToBeVisibleAsync();

        await page.GetByRole(AriaRole.Button, new() { Name = "Remove Round 1" }).ClickAsync();
        await Expect(Notice(page)).ToHaveTextAsync("Asset removed: the package holds 1 asset.");
        await Expect(Rows(page, "Assets in this package")).ToHaveCountAsync(1);
        await Expect(Rows(page, "Assets in this package")).ToContainTextAsync("Round 2");
        await Expect(page.GetByRole(AriaRole.Form, new() { Name = "Add an asset" }).GetByLabel("Asset").Locator("option")).ToHaveCountAsync(2);

        // A subscription with a trial.
        var add = page.GetByRole(AriaRole.Form, new() { Name = "Add price option" });
        await FillPrice(add, "subscription", "19.99", "eur", "1", "month", "Monthly", trialQuantity: "7", trialPeriod: "day");
        await add.GetByRole(AriaRole.Button, new() { Name = "Add price option" }).ClickAsync();
        await Expect(Notice(page)).ToHaveTextAsync("Price option added.");
        await Expect(PriceOption(page, "Monthly")).ToContainTextAsync("19.99 EUR · Subscription · 1 month · 7 days trial");

        // The public sees the package with its one asset and its price.
        using (var response = await _api.Http.GetAsync($"/items/packages/{id}"))
        {
            var package = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal(1, package.GetProperty("items").GetInt32());
            Assert.Equal("Monthly", package.GetProperty("access_fees")[0].GetProperty("description").GetString());
        }

        // Edit and deactivate the package.
        var details = page.GetByRole(AriaRole.Form, new() { Name = "Package details" });
        await details.GetByLabel("Title").FillAsync("Season pass 2026");
        await details.GetByRole(AriaRole.Button, new() { Name = "Save package" }).ClickAsync();
        await Expect(Notice(page)).ToHaveTextAsync("Package saved.");
        await page.GetByRole(AriaRole.Button, new() { Name = "Deactivate package" }).ClickAsync();
        await Expect(page.GetByTestId("package-status")).ToHaveTextAsync("Inactive");
        Assert.Equal(HttpStatusCode.NotFound, await PublicStatus($"/items/packages/{id}"));

        await page.GetByRole(AriaRole.Link, new() { Name = "← Packages" }).ClickAsync();
        var row = Rows(page, "Packages").Filter(new() { HasText = "Season pass 2026" });
        await Expect(row.GetByRole(AriaRole.Cell).Nth(2)).ToHaveTextAsync("1");
        await Expect(row.GetByRole(AriaRole.Cell).Nth(3)).ToHaveTextAsync("1");
        await Expect(row).ToContainTextAsync("Inactive");
    }

    [Fact]
    public async Task Another_merchants_assets_and_packages_are_not_found()
    {
        var ours = await Given.Merchant(fixture.Db);
        var theirs = await Given.Merchant(fixture.Db);
        var theirToken = await Token(theirs);
        var theirAsset = await CreateAsset(theirToken, "Their Final");
        var theirPackage = await CreatePackage(theirToken, "Their Season");
        var ourAsset = await CreateAsset(await Token(ours), "Our Final");

        var page = await OnContent(ours);
        await Expect(Rows(page, "Assets")).ToHaveCountAsync(1);
        await Expect(Rows(page, "Assets")).ToContainTextAsync("Our Final");

        // Asked with this admin's cookie (a browser shows its own error page for a bodiless 404).
        Assert.Equal(404, (await page.APIRequest.GetAsync($"/admin/content/assets/{theirAsset}")).Status);
        Assert.Equal(404, (await page.APIRequest.GetAsync($"/admin/content/packages/{theirPackage}")).Status);
        Assert.Equal(200, (await page.GotoAsync($"/admin/content/assets/{ourAsset}"))!.Status);
        Assert.DoesNotContain("Their", await page.ContentAsync());

        // A form of ours pointed at their asset (antiforgery token and all) is a 404 too, and changes nothing.
        var deactivate = page.Locator("form", new() { Has = page.GetByRole(AriaRole.Button, new() { Name = "Deactivate asset" }) });
        await deactivate.EvaluateAsync("(form, id) => form.action = form.action.replace(/assets\\/\\d+/, 'assets/' + id)", theirAsset);
        var response = await page.RunAndWaitForResponseAsync(
            () => deactivate.GetByRole(AriaRole.Button).ClickAsync(), r => r.Request.Method == "POST");
        Assert.Equal(404, response.Status);
        Assert.Equal(HttpStatusCode.OK, await PublicStatus($"/items/{theirAsset}"));
    }

    [Fact]
    public async Task The_asset_list_pages_through_many_assets()
    {
        var merchant = await Given.Merchant(fixture.Db);
        await using (var connection = await fixture.Db.OpenConnectionAsync())
            await connection.ExecuteAsync(
                """
                insert into access.items (merchant_id, title, item_type, created_at, updated_at)
                select @id, 'Episode ' || n, 'video', now(), now() from generate_series(1, 23) n
                """, new { id = merchant.Id });

        var page = await OnContent(merchant);
        await Expect(page.GetByTestId("asset-count")).ToHaveTextAsync("23 assets");
        await Expect(Rows(page, "Assets")).ToHaveCountAsync(20);
        await Expect(Rows(page, "Assets").First).ToContainTextAsync("Episode 23"); // newest first
        var pages = page.GetByRole(AriaRole.Navigation, new() { Name = "Pages" });
        await Expect(pages).ToContainTextAsync("Page 1 of 2");
        await pages.GetByRole(AriaRole.Link, new() { Name = "Next" }).ClickAsync();
        await Expect(pages).ToContainTextAsync("Page 2 of 2");
        await Expect(Rows(page, "Assets")).ToHaveCountAsync(3);
        await Expect(Rows(page, "Assets").Last).ToContainTextAsync("Episode 1");
    }
}
