using System.Text.Json;
using Gatehouse.Tests.Infrastructure;
using Npgsql;
using static Gatehouse.Tests.Webhooks.WebhookKit;

namespace Gatehouse.Tests.Webhooks;

/// <summary>
/// Two instances on one database, on the real clock, with a claim lease shorter than a burst takes to deliver: every
/// message goes out, never twice at the same time, and each request is one attempt in the log.
/// </summary>
public sealed class TwoDispatcherTests : IAsyncLifetime
{
    private string _connectionString = "";
    private IAlbaHost _first = null!;
    private IAlbaHost _second = null!;
    private NpgsqlDataSource _db = null!;

    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["Webhooks:TimeoutSeconds"] = "3",
        ["Webhooks:ClaimLeaseSeconds"] = "6",
    };

    public async Task InitializeAsync()
    {
        _connectionString = await TestDatabase.CreateAsync();
        _first = await AppFixture.StartHost(b => AppFixture.Configure(b, _connectionString, TimeProvider.System, Settings));
        _second = await AppFixture.StartHost(b => AppFixture.Configure(b, _connectionString, TimeProvider.System, Settings));
        _db = NpgsqlDataSource.Create(_connectionString);
    }

    public async Task DisposeAsync()
    {
        await _first.DisposeAsync();
        await _second.DisposeAsync();
        await _db.DisposeAsync();
        await TestDatabase.DropAsync(_connectionString);
    }

    /// <summary>Many quick requests; few slow ones, so a claim holds more than can be sent within its lease.</summary>
    [Theory]
    [InlineData(150, 400)]
    [InlineData(1000, 120)]
    public async Task Two_dispatchers_deliver_a_burst_each_message_once_and_never_twice_at_the_same_time(int answerMs, int count)
    {
        await using var receiver = await Receiver.Start();
        receiver.Delay = _ => TimeSpan.FromMilliseconds(answerMs);
        var merchant = await Given.Merchant(_db);
        var token = await Given.MerchantToken(_first, merchant);
        var created = await _first.Scenario(x =>
        {
            x.Post.FormData(new Dictionary<string, string> { ["url"] = receiver.Url, ["event_types"] = "asset.access.granted" }).ToUrl("/v2/webhooks");
            x.WithBearerToken(token);
            x.StatusCodeShouldBe(201);
        });
        var endpointId = JsonDocument.Parse(await created.ReadAsTextAsync()).RootElement.GetProperty("id").GetInt64();

        // 8 at a time per dispatcher: either burst takes longer than the 6 s lease.
        var outboxIds = await Burst(_db, merchant.Id, count, DateTimeOffset.UtcNow);
        await WaitForCount(_db, "select count(*) from webhooks.messages where endpoint_id = @endpointId and status = 'delivered'", new { endpointId }, count,
            seconds: 90);
        await receiver.Settle(TimeSpan.FromSeconds(1));

        var requests = receiver.Requests.ToList();
        Assert.Empty(receiver.Overlaps);
        Assert.Equal(outboxIds.Select(id => $"msg_{id}").Order(), requests.Select(r => r.WebhookId).Order());
        // One row in the attempt log per request, and every message delivered at its first attempt.
        Assert.Equal(count, await Scalar<long>(_db,
            "select count(*) from webhooks.attempts a join webhooks.messages m on m.id = a.message_id where m.endpoint_id = @endpointId", new { endpointId }));
        Assert.Equal(count, await Scalar<long>(_db,
            "select count(*) from webhooks.messages where endpoint_id = @endpointId and attempts = 1 and status = 'delivered'", new { endpointId }));
        Assert.Equal(0, await Scalar<long>(_db,
            "select count(*) from webhooks.attempts a join webhooks.messages m on m.id = a.message_id where m.endpoint_id = @endpointId and a.status_code <> 200",
            new { endpointId }));
    }
}
