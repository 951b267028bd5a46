using Microsoft.Playwright;

namespace Gatehouse.Tests.Infrastructure;

/// <summary>The app on Kestrel plus the system Chromium (/usr/bin/chromium) driven by Playwright.</summary>
public class BrowserFixture : ServerFixture
{
    private IPlaywright _playwright = null!;
    public IBrowser Browser { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            // This machine has no network but loopback: keep Chromium from reaching out.
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
        });
    }

    /// <summary>A fresh browser context (no cookies) and page on the app.</summary>
    public async Task<IPage> NewPage()
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = BaseUrl });
        // Playwright's own default: on 2 cores running many test classes at once, a click's page load took over 15 s now and then.
        context.SetDefaultTimeout(30_000);
        return await context.NewPageAsync();
    }

    /// <summary>A page signed in through the real login form.</summary>
    public async Task<IPage> SignedIn(TestMerchant merchant)
    {
        var page = await NewPage();
        await page.GotoAsync("/admin/login");
        await page.GetByLabel("Email").FillAsync(merchant.AdminEmail);
        await page.GetByLabel("Password").FillAsync(merchant.AdminPassword);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        // Signing in hashes the password (deliberately slow): with other suites on the 2 cores it once took over 30 s.
        // A refusal shows on the login page: fail with its words rather than wait out the timeout.
        var signedIn = page.WaitForUrl(url => new Uri(url).AbsolutePath == "/admin", 90_000);
        var refused = page.Locator(".flash.error").WaitForAsync(new() { Timeout = 90_000 });
        if (await Task.WhenAny(signedIn, refused) == refused && refused.IsCompletedSuccessfully)
            throw new InvalidOperationException($"Sign-in refused at {page.Url}: {await page.Locator(".flash.error").InnerTextAsync()}");
        await signedIn;
        return page;
    }

    public override async Task DisposeAsync()
    {
        await Browser.DisposeAsync();
        _playwright.Dispose();
        await base.DisposeAsync();
    }
}
