using Dapper;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Tests.Vouchers;
using static Gatehouse.Tests.Webhooks.WebhookKit;

namespace Gatehouse.Tests.Webhooks;

/// <summary>The app as production runs it: webhooks to private or loopback addresses refused.</summary>
public sealed class StrictTargetsFixture : AppFixture
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Webhooks:AllowPrivateTargets"] = "false" };
}

/// <summary>Endpoints on internal addresses are refused when saved, and a delivery never connects to one.</summary>
public sealed class PrivateTargetTests(StrictTargetsFixture app) : IClassFixture<StrictTargetsFixture>
{
    [Theory]
    [InlineData("http://127.0.0.1:8080/hooks")]
    [InlineData("http://localhost/hooks")]
    [InlineData("http://10.1.2.3/hooks")]
    [InlineData("http://172.20.0.5/hooks")]
    [InlineData("https://192.168.1.10/hooks")]
    [InlineData("http://169.254.169.254/latest/meta-data")]
    [InlineData("http://100.64.0.1/")]
    [InlineData("http://0.0.0.0:5000/")]
    [InlineData("http://[::1]/hooks")]
    [InlineData("http://[fd00::1]/hooks")]
    [InlineData("http://[fe80::1]/hooks")]
    [InlineData("http://[::ffff:10.0.0.1]/hooks")]
    [InlineData("http://2130706433/hooks")]
    [InlineData("http://0x7f000001/hooks")]
    [InlineData("http://127.1/hooks")]
    public async Task A_private_or_loopback_target_is_refused(string url)
    {
        var shop = await VoucherShop.Open(app);
        var refused = await CreateEndpoint(app, shop.Token, url, status: 400);
        Assert.Equal("points to a private or loopback address, which this server does not deliver to",
            refused.GetProperty("errors").GetProperty("url").GetString());
        Assert.Equal(0, (await Send(app, shop.Token, x => x.Get.Url("/v2/webhooks"))).GetArrayLength());
    }

    [Fact]
    public async Task A_public_target_is_accepted_and_cannot_be_moved_inward()
    {
        var shop = await VoucherShop.Open(app);
        var endpoint = await CreateEndpoint(app, shop.Token, "https://hooks.example.com/gatehouse");
        var id = endpoint.GetProperty("id").GetInt64();
        (await Send(app, shop.Token, x => x.Patch.FormData(new Dictionary<string, string> { ["url"] = "http://192.168.0.1/" }).ToUrl($"/v2/webhooks/{id}"), 400))
            .GetRawText().MatchSnapshot("moved_inward");
        Assert.Equal("https://hooks.example.com/gatehouse", (await Send(app, shop.Token, x => x.Get.Url($"/v2/webhooks/{id}"))).GetProperty("url").GetString());
    }

    [Fact]
    public async Task A_delivery_never_connects_to_a_loopback_address()
    {
        // A URL saved while private targets were allowed (or a name that now resolves inward): the connection is refused.
        await using var receiver = await Receiver.Start();
        var shop = await VoucherShop.Open(app);
        var id = (await CreateEndpoint(app, shop.Token, "https://hooks.example.com/gatehouse")).GetProperty("id").GetInt64();
        var inward = receiver.Url.Replace("127.0.0.1", "localhost") + "/hooks";
        await using (var connection = await app.Db.OpenConnectionAsync())
            await connection.ExecuteAsync("update webhooks.endpoints set url = @inward where id = @id", new { inward, id });
        await Given.Consumer(app.Host, shop.Merchant);
        await WaitForCount(app.Db, "select count(*) from webhooks.attempts a join webhooks.messages m on m.id = a.message_id where m.endpoint_id = @id",
            new { id }, 1);
        var attempt = (await Query<(int? StatusCode, string Error)>(app.Db,
            "select a.status_code, a.error from webhooks.attempts a join webhooks.messages m on m.id = a.message_id where m.endpoint_id = @id", new { id })).Single();
        Assert.Null(attempt.StatusCode);
        Assert.Contains("resolves to a private or loopback address", attempt.Error);
        Assert.Empty(receiver.Requests);
        Assert.Equal("pending", (await Messages(app, shop.Token)).Single().GetProperty("status").GetString());
    }
}
