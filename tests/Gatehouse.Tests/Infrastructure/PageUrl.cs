using Microsoft.Playwright;

namespace Gatehouse.Tests.Infrastructure;

/// <summary>
/// Waiting for a page's address, instead of Playwright's WaitForURLAsync. When the address already matches, that call
/// checks the page's load state and only then subscribes to its change, on another thread than the one delivering the
/// driver's events, so the "load" it waits for can arrive in between and be lost (microsoft/playwright-dotnet#3364):
/// the test then waits out its timeout on a page that has long loaded. Polling the address has no such gap; the steps
/// after it find their elements through locators, which wait for the new document themselves.
/// </summary>
public static class PageUrl
{
    public static async Task WaitForUrl(this IPage page, Func<string, bool> matches, int timeoutMs = 30_000)
    {
        var until = DateTime.UtcNow.AddMilliseconds(timeoutMs);
        while (!matches(page.Url))
        {
            if (DateTime.UtcNow > until) throw new TimeoutException($"The page stayed at {page.Url} for {timeoutMs} ms");
            await Task.Delay(25);
        }
    }
}
