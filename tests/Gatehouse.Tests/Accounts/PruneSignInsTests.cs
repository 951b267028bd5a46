using Dapper;
using Gatehouse.Accounts;
using Gatehouse.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Tests.Accounts;

public sealed class PruneSignInsTests(AppFixture app) : IClassFixture<AppFixture>
{
    [Fact]
    public async Task Old_failures_and_long_ended_sessions_are_forgotten_and_live_ones_kept()
    {
        var merchant = await Given.Merchant(app.Db);
        var loggedOut = await Given.Consumer(app.Host, merchant);
        var active = await Given.Consumer(app.Host, merchant);
        await app.Host.Scenario(x => { x.Get.Url("/accounts/logout"); x.WithBearerToken(loggedOut.AccessToken); });
        await app.Host.Scenario(x =>
        {
            x.Post.FormData(new Dictionary<string, string>
            {
                ["grant_type"] = "password", ["client_id"] = merchant.Uuid.ToString(), ["username"] = active.Email, ["password"] = "wrong-password",
            }).ToUrl("/accounts/authenticate");
            x.StatusCodeShouldBe(400);
        });

        async Task<(int Failures, int Sessions)> Count()
        {
            await using var connection = await app.Db.OpenConnectionAsync();
            return (await connection.ExecuteScalarAsync<int>("select count(*) from accounts.sign_in_failures where merchant_id = @Id", new { merchant.Id }),
                    await connection.ExecuteScalarAsync<int>("select count(*) from accounts.sessions where merchant_id = @Id", new { merchant.Id }));
        }

        var job = app.Host.Services.GetRequiredService<PruneSignIns>();
        await job.Invoke();
        Assert.Equal((1, 2), await Count()); // nothing is old enough yet

        app.Clock.Advance(TimeSpan.FromMinutes(16));
        await job.Invoke();
        Assert.Equal((0, 2), await Count()); // the failure is past the lockout window

        app.Clock.Advance(TimeSpan.FromDays(30));
        await job.Invoke();
        Assert.Equal((0, 1), await Count()); // the logged-out session is gone; the live one stays
        await app.Host.Scenario(x => { x.Get.Url("/accounts"); x.WithBearerToken(active.AccessToken); x.StatusCodeShouldBe(401); }); // 30 days on, expired anyway
    }
}
