using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Gatehouse.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Gatehouse.Tests.Accounts;

/// <summary>The admin Settings page in a real browser: the merchant's client_id, its API secret and rotating it.</summary>
public sealed class SettingsBrowserTests(BrowserFixture fixture) : IClassFixture<BrowserFixture>
{
    private async Task<IPage> OnSettings(TestMerchant merchant)
    {
        var page = await fixture.SignedIn(merchant);
        await page.GetByRole(AriaRole.Navigation, new() { Name = "Main" })
            .GetByRole(AriaRole.Link, new() { Name = "Settings" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(fixture.BaseUrl + "/admin/settings");
        return page;
    }

    private static async Task<string> RevealSecret(IPage page)
    {
        var secret = page.GetByTestId("api-secret");
        await Expect(secret).Not.ToBeVisibleAsync();
        await page.GetByText("Reveal secret").ClickAsync();
        await Expect(secret).ToBeVisibleAsync();
        await Expect(secret).ToHaveTextAsync(new Regex(@"^\s*gh_sk_[0-9a-f]+\s*$"));
        return (await secret.InnerTextAsync()).Trim();
    }

    private async Task<HttpResponseMessage> ClientCredentials(Guid clientId, string secret)
    {
        using var http = new HttpClient { BaseAddress = new Uri(fixture.BaseUrl) };
        return await http.PostAsync("/accounts/authenticate", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials", ["client_id"] = clientId.ToString(), ["client_secret"] = secret,
        }));
    }

    private async Task ShouldAuthenticate(Guid clientId, string secret)
    {
        using var response = await ClientCredentials(clientId, secret);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.False(string.IsNullOrEmpty(body.GetProperty("access_token").GetString()));
    }

    private async Task ShouldBeRefused(Guid clientId, string secret)
    {
        using var response = await ClientCredentials(clientId, secret);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("Invalid client credentials", body.GetProperty("message").GetString());
    }

    [Fact]
    public async Task Shows_the_merchant_uuid_and_reveals_the_api_secret()
    {
        var merchant = await Given.Merchant(fixture.Db, name: "Settings Media");
        var page = await OnSettings(merchant);

        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Settings", Exact = true })).ToBeVisibleAsync();
        await Expect(page.GetByTestId("merchant-uuid")).ToHaveTextAsync(merchant.Uuid.ToString());
        await Expect(page.GetByRole(AriaRole.Main)).ToContainTextAsync("Settings Media");
        await Expect(page.GetByRole(AriaRole.Main)).ToContainTextAsync("Last rotated: never");

        Assert.Equal(merchant.Secret, await RevealSecret(page));
        await ShouldAuthenticate(merchant.Uuid, merchant.Secret);
    }

    [Fact]
    public async Task Rotating_the_secret_asks_first_then_the_old_secret_stops_working_and_the_new_one_works()
    {
        var merchant = await Given.Merchant(fixture.Db);
        var page = await OnSettings(merchant);

        var confirm = page.GetByRole(AriaRole.Button, new() { Name = "Yes, rotate!" });
        await Expect(confirm).Not.ToBeVisibleAsync();
        await page.GetByText("Rotate secret", new() { Exact = true }).ClickAsync();
        await Expect(confirm).ToBeVisibleAsync();
        await confirm.ClickAsync();

        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("The API client secret was rotated.");
        await Expect(page).ToHaveURLAsync(new Regex("/admin/settings"));
        await Expect(page.GetByTestId("merchant-uuid")).ToHaveTextAsync(merchant.Uuid.ToString());
        await Expect(page.GetByRole(AriaRole.Main)).Not.ToContainTextAsync("Last rotated: never");

        var newSecret = await RevealSecret(page);
        Assert.NotEqual(merchant.Secret, newSecret);

        await ShouldBeRefused(merchant.Uuid, merchant.Secret);
        await ShouldAuthenticate(merchant.Uuid, newSecret);

        // The new secret is what the page keeps showing after a fresh visit.
        await page.GotoAsync("/admin/settings");
        await Expect(page.GetByRole(AriaRole.Status)).ToHaveCountAsync(0);
        Assert.Equal(newSecret, await RevealSecret(page));
    }

    [Fact]
    public async Task An_admin_sees_only_their_own_merchant()
    {
        var ours = await Given.Merchant(fixture.Db, name: "Our Media");
        var theirs = await Given.Merchant(fixture.Db, name: "Their Media");

        var page = await OnSettings(ours);
        await Expect(page.GetByTestId("merchant-uuid")).ToHaveTextAsync(ours.Uuid.ToString());
        Assert.Equal(ours.Secret, await RevealSecret(page));
        var html = await page.ContentAsync();
        Assert.DoesNotContain(theirs.Uuid.ToString(), html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(theirs.Secret, html);
        Assert.DoesNotContain("Their Media", html);

        // Rotating ours leaves theirs alone, and their admin still sees only theirs.
        await page.GetByText("Rotate secret", new() { Exact = true }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Yes, rotate!" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToBeVisibleAsync();
        var ourNewSecret = await RevealSecret(page);

        var theirPage = await OnSettings(theirs);
        await Expect(theirPage.GetByTestId("merchant-uuid")).ToHaveTextAsync(theirs.Uuid.ToString());
        Assert.Equal(theirs.Secret, await RevealSecret(theirPage));
        var theirHtml = await theirPage.ContentAsync();
        Assert.DoesNotContain(ours.Uuid.ToString(), theirHtml, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(ourNewSecret, theirHtml);
        Assert.DoesNotContain(ours.Secret, theirHtml);
        await ShouldAuthenticate(theirs.Uuid, theirs.Secret);

        // A client_id never works with another merchant's secret.
        await ShouldBeRefused(theirs.Uuid, ourNewSecret);
        await ShouldBeRefused(ours.Uuid, theirs.Secret);
    }
}
