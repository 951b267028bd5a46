using System.Text.RegularExpressions;
using Gatehouse.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Gatehouse.Tests.Admin;

/// <summary>The admin shell in a real browser: sign-in, the layout's navigation, sign-out and the login form's defences.</summary>
public sealed class AdminShellBrowserTests(BrowserFixture fixture) : IClassFixture<BrowserFixture>
{
    /// <summary>Any URL on the login page, with or without a query string.</summary>
    private static readonly Regex OnLoginPage = new(@"/admin/login(\?.*)?$");

    private string Url(string path) => fixture.BaseUrl + path;

    private static async Task SignIn(IPage page, string email, string password)
    {
        await page.GetByLabel("Email").FillAsync(email);
        await page.GetByLabel("Password").FillAsync(password);
        // Wait for the form's answer, so that a page showing the same message again is not mistaken for the new one.
        await page.RunAndWaitForResponseAsync(
            () => page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync(),
            r => r.Request.Method == "POST" && new Uri(r.Url).AbsolutePath == "/admin/login");
    }

    [Theory]
    [InlineData("/admin")]
    [InlineData("/admin/settings")]
    public async Task Signed_out_visitors_are_sent_to_the_login_page(string path)
    {
        var page = await fixture.NewPage();

        await page.GotoAsync(path);

        await Expect(page).ToHaveURLAsync(OnLoginPage);
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Sign in to Gatehouse" })).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Navigation, new() { Name = "Main" })).ToHaveCountAsync(0);
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Sign out" })).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task A_wrong_password_shows_an_error_and_stays_on_the_login_page()
    {
        var merchant = await Given.Merchant(fixture.Db);
        var page = await fixture.NewPage();
        await page.GotoAsync("/admin/login");

        await SignIn(page, merchant.AdminEmail, "not-the-password");

        await Expect(page.GetByRole(AriaRole.Alert)).ToHaveTextAsync("Wrong email or password.");
        await Expect(page).ToHaveURLAsync(OnLoginPage);
        await Expect(page.GetByLabel("Password")).ToBeEmptyAsync();
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Sign out" })).ToHaveCountAsync(0);

        // Still signed out.
        await page.GotoAsync("/admin");
        await Expect(page).ToHaveURLAsync(OnLoginPage);
    }

    [Fact]
    public async Task An_unknown_email_shows_the_same_error()
    {
        var page = await fixture.NewPage();
        await page.GotoAsync("/admin/login");

        await SignIn(page, $"nobody-{Guid.NewGuid():N}@merchant.test", Given.Password);

        await Expect(page.GetByRole(AriaRole.Alert)).ToHaveTextAsync("Wrong email or password.");
        await Expect(page).ToHaveURLAsync(OnLoginPage);
    }

    [Fact]
    public async Task Signs_in_to_the_dashboard_navigates_and_signs_out()
    {
        var merchant = await Given.Merchant(fixture.Db, name: "Shell Media");
        var page = await fixture.NewPage();
        await page.GotoAsync("/admin/login");

        await SignIn(page, merchant.AdminEmail, merchant.AdminPassword);

        await Expect(page).ToHaveURLAsync(Url("/admin"));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Welcome, Test Admin" })).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Main)).ToContainTextAsync(merchant.Uuid.ToString());
        await Expect(page.GetByRole(AriaRole.Main)).ToContainTextAsync(fixture.BaseUrl);

        var nav = page.GetByRole(AriaRole.Navigation, new() { Name = "Main" });
        await Expect(nav.GetByRole(AriaRole.Link, new() { Name = "Dashboard" })).ToHaveClassAsync(new Regex(@"\bactive\b"));
        var settings = nav.GetByRole(AriaRole.Link, new() { Name = "Settings" });
        await Expect(settings).ToBeVisibleAsync();

        await settings.ClickAsync();
        await Expect(page).ToHaveURLAsync(Url("/admin/settings"));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Settings", Exact = true })).ToBeVisibleAsync();
        await Expect(settings).ToHaveClassAsync(new Regex(@"\bactive\b"));

        await nav.GetByRole(AriaRole.Link, new() { Name = "Dashboard" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(Url("/admin"));

        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(Url("/admin/login"));
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Sign in" })).ToBeVisibleAsync();

        await page.GotoAsync("/admin");
        await Expect(page).ToHaveURLAsync(OnLoginPage);
        await page.GotoAsync("/admin/settings");
        await Expect(page).ToHaveURLAsync(OnLoginPage);
    }

    [Theory]
    [InlineData("/admin/settings")]
    [InlineData("/Admin/Settings")] // routes are case-insensitive, and so is the cookie handler's ReturnUrl
    public async Task Signing_in_returns_to_the_page_first_asked_for(string path)
    {
        var merchant = await Given.Merchant(fixture.Db);
        var page = await fixture.NewPage();

        await page.GotoAsync(path);
        await Expect(page).ToHaveURLAsync(OnLoginPage);
        await SignIn(page, merchant.AdminEmail, merchant.AdminPassword);

        await Expect(page).ToHaveURLAsync(Url(path));
        await Expect(page.GetByTestId("merchant-uuid")).ToHaveTextAsync(merchant.Uuid.ToString());
    }

    [Fact]
    public async Task The_return_url_survives_a_wrong_password()
    {
        var merchant = await Given.Merchant(fixture.Db);
        var page = await fixture.NewPage();

        await page.GotoAsync("/admin/settings");
        await SignIn(page, merchant.AdminEmail, "not-the-password");
        await Expect(page.GetByRole(AriaRole.Alert)).ToHaveTextAsync("Wrong email or password.");
        await SignIn(page, merchant.AdminEmail, merchant.AdminPassword);

        await Expect(page).ToHaveURLAsync(Url("/admin/settings"));
    }

    [Theory]
    [InlineData("https://evil.example/phish")]
    [InlineData("//evil.example/phish")]
    [InlineData(@"/\evil.example/phish")]
    [InlineData("/scalar")]
    public async Task A_return_url_outside_the_admin_is_not_followed(string returnUrl)
    {
        var merchant = await Given.Merchant(fixture.Db);
        var page = await fixture.NewPage();

        await page.GotoAsync("/admin/login?ReturnUrl=" + Uri.EscapeDataString(returnUrl));
        await SignIn(page, merchant.AdminEmail, merchant.AdminPassword);

        await Expect(page).ToHaveURLAsync(Url("/admin"));
        await Expect(page.GetByRole(AriaRole.Main)).ToContainTextAsync(merchant.Uuid.ToString());
    }

    [Fact]
    public async Task The_login_form_requires_its_antiforgery_token()
    {
        var merchant = await Given.Merchant(fixture.Db);
        var page = await fixture.NewPage();
        await page.GotoAsync("/admin/login");

        var form = page.Locator("form", new() { Has = page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }) });
        var token = form.Locator("input[name='__RequestVerificationToken']");
        await Expect(token).ToHaveCountAsync(1);
        await Expect(token).ToHaveValueAsync(new Regex(".+"));

        // The context's request API shares the browser's cookies, so this has the antiforgery cookie but no form token.
        var noOptions = new APIRequestContextOptions
        {
            Form = FormData(page, merchant.AdminEmail, merchant.AdminPassword),
            MaxRedirects = 0,
        };
        var refused = await page.APIRequest.PostAsync("/admin/login", noOptions);
        Assert.Equal(400, refused.Status);
        Assert.DoesNotContain(refused.Headers, h => h.Key == "set-cookie" && h.Value.Contains("gatehouse_admin="));

        await page.GotoAsync("/admin");
        await Expect(page).ToHaveURLAsync(OnLoginPage);

        // The very same request with the form's token is accepted.
        var withToken = FormData(page, merchant.AdminEmail, merchant.AdminPassword);
        withToken.Set("__RequestVerificationToken", await token.InputValueAsync());
        var accepted = await page.APIRequest.PostAsync("/admin/login", new() { Form = withToken, MaxRedirects = 0 });
        Assert.Equal(302, accepted.Status);
        Assert.Equal("/admin", accepted.Headers["location"]);
    }

    [Fact]
    public async Task Ten_wrong_passwords_lock_the_account_even_against_the_right_one()
    {
        var merchant = await Given.Merchant(fixture.Db);
        var page = await fixture.NewPage();
        await page.GotoAsync("/admin/login");

        for (var i = 0; i < 10; i++)
        {
            await SignIn(page, merchant.AdminEmail, $"wrong-password-{i}");
            await Expect(page.GetByRole(AriaRole.Alert)).ToHaveTextAsync("Wrong email or password.");
        }
        await SignIn(page, merchant.AdminEmail, merchant.AdminPassword);

        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("Too many failed sign-in attempts");
        await Expect(page).ToHaveURLAsync(OnLoginPage);
        await page.GotoAsync("/admin");
        await Expect(page).ToHaveURLAsync(OnLoginPage);
    }

    private static IFormData FormData(IPage page, string email, string password) =>
        page.APIRequest.CreateFormData().Set("Email", email).Set("Password", password);
}
