using System.Net;
using Gatehouse.Tests.Infrastructure;
using Npgsql;
using static Gatehouse.Tests.Webhooks.WebhookKit;

namespace Gatehouse.Tests.Webhooks;

/// <summary>
/// A dispatcher killed mid-delivery (the built app, a real process, SIGKILL) loses nothing: its claims run out and
/// another instance delivers every event, at least once. One stopped the ordinary way hands its work back at once.
/// </summary>
public sealed class CrashTests : IAsyncLifetime
{
    private string _connectionString = "";
    private NpgsqlDataSource _db = null!;

    // Short, so the dead process's claims expire within the test.
    private static readonly Dictionary<string, string> Settings = new()
    {
        ["Webhooks:AllowPrivateTargets"] = "true",
        ["Webhooks:TimeoutSeconds"] = "3",
        ["Webhooks:ClaimLeaseSeconds"] = "6",
    };

    public async Task InitializeAsync()
    {
        _connectionString = await TestDatabase.CreateAsync();
        _db = NpgsqlDataSource.Create(_connectionString);
    }

    public async Task DisposeAsync()
    {
        await _db.DisposeAsync();
        await TestDatabase.DropAsync(_connectionString);
    }

    private sealed record StatusCount(string Status, long Count);

    [Fact]
    public async Task An_instance_stopping_finishes_and_records_what_it_started_and_hands_back_the_rest()
    {
        await using var receiver = await Receiver.Start();
        receiver.Delay = _ => TimeSpan.FromSeconds(1);
        // A long lease: what the stopping instance hands back must go out at once, not when its claim runs out.
        var settings = new Dictionary<string, string?> { ["Webhooks:TimeoutSeconds"] = "5", ["Webhooks:ClaimLeaseSeconds"] = "120" };
        var merchant = await Given.Merchant(_db);
        const int count = 40;
        long endpointId;
        long[] outboxIds;
        await using (var host = await AppFixture.StartHost(b => AppFixture.Configure(b, _connectionString, TimeProvider.System, settings)))
        {
            var token = await Given.MerchantToken(host, merchant);
            var created = await host.Scenario(x =>
            {
                x.Post.FormData(new Dictionary<string, string> { ["url"] = receiver.Url, ["event_types"] = "asset.access.granted" }).ToUrl("/v2/webhooks");
                x.WithBearerToken(token);
                x.StatusCodeShouldBe(201);
            });
            endpointId = System.Text.Json.JsonDocument.Parse(await created.ReadAsTextAsync()).RootElement.GetProperty("id").GetInt64();
            outboxIds = await Burst(_db, merchant.Id, count, DateTimeOffset.UtcNow);
            await receiver.WaitFor(r => r.Count >= 4);
            await host.StopAsync();
        }

        // The requests on their way finished and are in the log; nothing is left claimed.
        var sent = receiver.Requests.Count;
        Assert.InRange(sent, 4, count - 1);
        var left = (await Query<StatusCount>(_db, "select status, count(*) as count from webhooks.messages where endpoint_id = @endpointId group by status",
            new { endpointId })).ToDictionary(s => s.Status, s => s.Count);
        Assert.Equal((sent, count - sent, 0L), (left.GetValueOrDefault("delivered"), left.GetValueOrDefault("pending"), left.GetValueOrDefault("delivering")));
        Assert.Equal(sent, await Scalar<long>(_db,
            "select count(*) from webhooks.attempts a join webhooks.messages m on m.id = a.message_id where m.endpoint_id = @endpointId", new { endpointId }));

        // The next instance sends the rest straight away, each once.
        receiver.Delay = _ => TimeSpan.Zero;
        await using (await AppFixture.StartHost(b => AppFixture.Configure(b, _connectionString, TimeProvider.System, settings)))
            await WaitForCount(_db, "select count(*) from webhooks.messages where endpoint_id = @endpointId and status = 'delivered'", new { endpointId }, count,
                seconds: 60);
        Assert.Equal(outboxIds.Select(id => $"msg_{id}").Order(), receiver.Requests.Select(r => r.WebhookId).Order());
    }

    [Fact]
    public async Task A_process_killed_while_delivering_a_burst_loses_no_event()
    {
        await using var receiver = await Receiver.Start();
        receiver.Delay = _ => TimeSpan.FromMilliseconds(800); // slow: the burst takes seconds
        var merchant = await Given.Merchant(_db);
        const int count = 48;
        long endpointId;
        long[] outboxIds;
        DateTimeOffset killedAt;

        var process = await AppProcess.Start(_connectionString, Settings);
        try
        {
            using var api = new Api(process.BaseUrl);
            var token = await api.MerchantToken(merchant);
            endpointId = (await api.Send(HttpMethod.Post, "/v2/webhooks", token,
                new() { ["url"] = receiver.Url + "/hooks", ["event_types"] = "asset.access.granted" }, HttpStatusCode.Created)).GetProperty("id").GetInt64();
            outboxIds = await Burst(_db, merchant.Id, count, DateTimeOffset.UtcNow);
            // The second wave is on its way (8 at a time): kill it mid-request.
            await receiver.WaitFor(r => r.Count >= 12, seconds: 60);
            killedAt = DateTimeOffset.UtcNow;
            await process.Kill();
        }
        finally
        {
            await process.DisposeAsync();
        }

        // What the dead process left: claims it held, messages not yet delivered.
        var left = (await Query<StatusCount>(_db, "select status, count(*) as count from webhooks.messages where endpoint_id = @endpointId group by status",
            new { endpointId })).ToDictionary(s => s.Status, s => s.Count);
        Assert.Equal(count, left.Values.Sum());
        Assert.True(left.GetValueOrDefault("delivering") > 0, $"Nothing was being delivered at the kill: {string.Join(", ", left)}");
        Assert.True(left.GetValueOrDefault("delivered") < count);
        var interrupted = await Query<long>(_db, "select outbox_id from webhooks.messages where endpoint_id = @endpointId and status = 'delivering'",
            new { endpointId });

        // Another instance (in memory, the real clock) takes the claims back when their lease ends and delivers the rest.
        receiver.Delay = _ => TimeSpan.Zero;
        await using (var host = await AppFixture.StartHost(b => AppFixture.Configure(b, _connectionString, TimeProvider.System,
                         Settings.ToDictionary(s => s.Key, s => (string?)s.Value))))
        {
            await WaitForCount(_db, "select count(*) from webhooks.messages where endpoint_id = @endpointId and status = 'delivered'", new { endpointId }, count,
                seconds: 60);
            await receiver.Settle(TimeSpan.FromMilliseconds(500));
        }

        var requests = receiver.Requests.ToList();
        Assert.Equal(outboxIds.Select(id => $"msg_{id}").ToHashSet(), requests.Select(r => r.WebhookId).ToHashSet());
        // What was on its way when the process died went again (at least once), from the new instance.
        Assert.All(interrupted, id => Assert.Contains(requests, r => r.WebhookId == $"msg_{id}" && r.At > killedAt));
        Assert.Empty(receiver.Overlaps);
    }
}
