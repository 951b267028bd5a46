using Gatehouse.Tests.Infrastructure;
using Gatehouse.Tests.Vouchers;
using static Gatehouse.Tests.Webhooks.WebhookKit;

namespace Gatehouse.Tests.Webhooks;

/// <summary>Requests time out after Webhooks:TimeoutSeconds (1 s here).</summary>
public sealed class ShortTimeoutFixture : AppFixture
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Webhooks:TimeoutSeconds"] = "1" };
}

public sealed class TimeoutTests(ShortTimeoutFixture app) : IClassFixture<ShortTimeoutFixture>
{
    [Fact]
    public async Task A_receiver_that_does_not_answer_in_time_is_a_failed_attempt_retried_later()
    {
        await using var receiver = await Receiver.Start();
        var never = new TaskCompletionSource();
        receiver.Hold = r => r.Number == 1 ? never.Task.WaitAsync(TimeSpan.FromSeconds(10)) : Task.CompletedTask;
        var shop = await VoucherShop.Open(app);
        var endpointId = (await CreateEndpoint(app, shop.Token, receiver.Url, types: "asset.access.granted")).GetProperty("id").GetInt64();
        var viewer = await Given.Consumer(app.Host, shop.Merchant);
        await Grant(app, shop, viewer.Id);

        await WaitForCount(app.Db, "select count(*) from webhooks.messages where endpoint_id = @endpointId and status = 'pending' and attempts = 1",
            new { endpointId }, 1);
        var message = (await Messages(app, shop.Token, $"&endpoint_id={endpointId}")).Single();
        Assert.Equal("No answer within 1 s", message.GetProperty("last_error").GetString());
        var detail = await Send(app, shop.Token, x => x.Get.Url($"/v2/webhooks/messages/{message.GetProperty("id")}"));
        var attempt = detail.GetProperty("attempts")[0];
        Assert.Equal(System.Text.Json.JsonValueKind.Null, attempt.GetProperty("status_code").ValueKind);
        Assert.InRange(attempt.GetProperty("latency_ms").GetInt32(), 900, 5000);

        // The retry is answered: delivered, with the same webhook-id.
        app.Clock.Advance(TimeSpan.FromSeconds(7));
        await Dispatch(app);
        var requests = await receiver.WaitFor(r => r.Count == 2);
        Assert.Equal(requests[0].WebhookId, requests[1].WebhookId);
        await WaitForCount(app.Db, "select count(*) from webhooks.messages where endpoint_id = @endpointId and status = 'delivered'", new { endpointId }, 1);
        never.TrySetResult();
    }
}
