using Gatehouse.Tests.Infrastructure;

namespace Gatehouse.Tests.Kernel;

public sealed class TightRateLimitFixture : AppFixture
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["RateLimits:SignInPerMinute"] = "3",
    };
}

/// <summary>Sign-in calls are limited per client address, answered 429 in the error shape with Retry-After.</summary>
public sealed class RateLimitTests(TightRateLimitFixture app) : IClassFixture<TightRateLimitFixture>
{
    [Fact]
    public async Task The_fourth_sign_in_within_a_minute_is_429()
    {
        var form = new Dictionary<string, string> { ["grant_type"] = "password" };
        for (var i = 0; i < 3; i++)
            await app.Host.Scenario(x => { x.Post.FormData(form).ToUrl("/accounts/authenticate"); x.StatusCodeShouldBe(400); });

        var limited = await app.Host.Scenario(x =>
        {
            x.Post.FormData(form).ToUrl("/accounts/authenticate");
            x.StatusCodeShouldBe(429);
        });
        Assert.True(int.Parse(limited.Context.Response.Headers.RetryAfter.ToString()) > 0);
        await limited.MatchSnapshot();

        // Registration shares the sign-in budget; reading an account does not.
        await app.Host.Scenario(x => { x.Post.FormData(form).ToUrl("/accounts"); x.StatusCodeShouldBe(429); });
        await app.Host.Scenario(x => { x.Get.Url("/health"); x.StatusCodeShouldBe(200); });
    }
}

/// <summary>The admin login page: loading it is free, attempts count, and a limited admin gets a page, not JSON.</summary>
public sealed class AdminRateLimitTests(TightRateLimitFixture app) : IClassFixture<TightRateLimitFixture>
{
    [Fact]
    public async Task Page_loads_are_free_and_the_fourth_attempt_is_an_html_429()
    {
        for (var i = 0; i < 5; i++) await app.Host.Scenario(x => x.Get.Url("/admin/login"));
        var form = new Dictionary<string, string> { ["Email"] = "nobody@merchant.test", ["Password"] = "wrong-password" };
        for (var i = 0; i < 3; i++)
            await app.Host.Scenario(x => { x.Post.FormData(form).ToUrl("/admin/login"); x.StatusCodeShouldBe(400); });

        var limited = await app.Host.Scenario(x => { x.Post.FormData(form).ToUrl("/admin/login"); x.StatusCodeShouldBe(429); });
        Assert.StartsWith("text/html", limited.Context.Response.ContentType);
        Assert.Contains("Too many sign-in attempts", await limited.ReadAsTextAsync());
    }
}
