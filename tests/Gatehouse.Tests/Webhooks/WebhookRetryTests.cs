using System.Text.Json;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Tests.Vouchers;
using Gatehouse.Webhooks;
using static Gatehouse.Tests.Webhooks.WebhookKit;

namespace Gatehouse.Tests.Webhooks;

/// <summary>
/// At-least-once delivery against receivers that fail: retries on the schedule (the test moves the clock), Retry-After,
/// the failed state and replays, endpoints disabled by a 410 or five days of failures, and secret rotation.
/// </summary>
public sealed class WebhookRetryTests(AppFixture app) : IClassFixture<AppFixture>
{
    public sealed record Row(long Id, long OutboxId, string Status, int Attempts, DateTimeOffset? NextAttemptAt, DateTimeOffset CreatedAt);

    public sealed record AttemptRow(long MessageId, int Attempt, DateTimeOffset At, int? StatusCode);

    private Task<List<Row>> Rows(long endpointId) => Query<Row>(app.Db,
        "select id, outbox_id, status, attempts, next_attempt_at, created_at from webhooks.messages where endpoint_id = @endpointId order by id",
        new { endpointId });

    private Task<List<AttemptRow>> Attempts(long endpointId) => Query<AttemptRow>(app.Db,
        """
        select a.message_id, a.attempt, a.at, a.status_code from webhooks.attempts a join webhooks.messages m on m.id = a.message_id
        where m.endpoint_id = @endpointId order by a.id
        """, new { endpointId });

    /// <summary>Runs the dispatcher and waits until the receiver has <paramref name="count"/> requests and the log has recorded them all.</summary>
    private async Task DispatchUntil(Receiver receiver, long endpointId, int count)
    {
        await Dispatch(app);
        await receiver.WaitFor(r => r.Count >= count);
        await WaitForCount(app.Db, "select count(*) from webhooks.attempts a join webhooks.messages m on m.id = a.message_id where m.endpoint_id = @endpointId",
            new { endpointId }, count);
        Assert.Equal(count, receiver.Requests.Count);
    }

    /// <summary>Moves the clock to the earliest retry of the endpoint's pending messages (if it is ahead) and runs the dispatcher.</summary>
    private async Task<bool> StepToNextRetry(long endpointId)
    {
        var next = (await Rows(endpointId)).Where(r => r.Status == "pending").Select(r => r.NextAttemptAt).Min();
        if (next is null) return false;
        if (next > app.Clock.GetUtcNow()) app.Clock.SetUtcNow(next.Value);
        await Dispatch(app);
        return true;
    }

    [Fact]
    public async Task A_receiver_failing_every_other_request_still_gets_every_event()
    {
        await using var receiver = await Receiver.Start();
        receiver.Answer = n => n % 2 == 0 ? 500 : 200;
        var shop = await VoucherShop.Open(app);
        var endpointId = (await CreateEndpoint(app, shop.Token, receiver.Url, types: "asset.access.granted")).GetProperty("id").GetInt64();
        var viewer = await Given.Consumer(app.Host, shop.Merchant);
        for (var i = 0; i < 30; i++) await Grant(app, shop, viewer.Id);
        var events = await Scalar<long>(app.Db, "select count(*) from kernel.outbox where merchant_id = @Id and type = 'asset.access.granted'", new { shop.Merchant.Id });
        Assert.Equal(30, events);

        // The clock moves to each retry as it falls due (5 s, then 5 min) until nothing is pending.
        var until = DateTime.UtcNow.AddSeconds(60);
        while ((await Rows(endpointId)).Any(r => r.Status != "delivered"))
        {
            Assert.True(DateTime.UtcNow < until, "Not everything was delivered within a minute");
            await receiver.Settle(TimeSpan.FromMilliseconds(200));
            if (!await StepToNextRetry(endpointId)) await Task.Delay(100);
        }

        var requests = receiver.Requests.ToList();
        var delivered = requests.Where(r => r.Succeeded).Select(r => r.WebhookId).ToHashSet();
        var outboxIds = await Query<long>(app.Db, "select id from kernel.outbox where merchant_id = @Id and type = 'asset.access.granted'", new { shop.Merchant.Id });
        Assert.Equal(outboxIds.Select(id => $"msg_{id}").ToHashSet(), delivered);
        Assert.Contains(requests, r => !r.Succeeded);
        // Every request is in the log, with what it was answered; a message delivered once stops there.
        var attempts = await Attempts(endpointId);
        Assert.Equal(requests.Count, attempts.Count);
        Assert.Equal(requests.Count(r => r.Status == 500), attempts.Count(a => a.StatusCode == 500));
        Assert.All((await Rows(endpointId)).GroupJoin(attempts, m => m.Id, a => a.MessageId, (m, a) => (m, a.ToList())), x =>
        {
            Assert.Equal(x.m.Attempts, x.Item2.Count);
            Assert.Equal(200, x.Item2[^1].StatusCode);
            Assert.All(x.Item2.SkipLast(1), a => Assert.Equal(500, a.StatusCode));
        });
        Assert.Empty(receiver.Overlaps);
    }

    [Fact]
    public async Task Retries_follow_the_schedule_then_the_message_fails_and_replays_deliver_it_with_the_same_webhook_id()
    {
        await using var receiver = await Receiver.Start();
        receiver.Answer = _ => 503;
        var shop = await VoucherShop.Open(app);
        var endpointId = (await CreateEndpoint(app, shop.Token, receiver.Url, types: "asset.access.granted")).GetProperty("id").GetInt64();
        var viewer = await Given.Consumer(app.Host, shop.Merchant);
        var firstAt = app.Clock.GetUtcNow();
        await Grant(app, shop, viewer.Id);
        await receiver.WaitFor(r => r.Count == 1);
        app.Clock.Advance(TimeSpan.FromSeconds(1)); // less than the first retry's 5 s less 20 %
        var since = app.Clock.GetUtcNow();
        await Grant(app, shop, viewer.Id);
        await Grant(app, shop, viewer.Id);
        await receiver.WaitFor(r => r.Count == 3);
        await WaitForCount(app.Db, "select count(*) from webhooks.messages where endpoint_id = @endpointId and attempts = 1", new { endpointId }, 3);

        for (var attempt = 1; attempt < WebhookDispatcher.Schedule.Length; attempt++)
        {
            var rows = await Rows(endpointId);
            var last = (await Attempts(endpointId)).GroupBy(a => a.MessageId).ToDictionary(g => g.Key, g => g.Last());
            foreach (var row in rows)
            {
                // Each retry is due its delay after the attempt that failed, give or take 20 %.
                Assert.Equal(("pending", attempt), (row.Status, row.Attempts));
                var delay = row.NextAttemptAt!.Value - last[row.Id].At;
                var expected = WebhookDispatcher.Schedule[attempt];
                Assert.InRange(delay, expected * 0.8 - TimeSpan.FromMilliseconds(1), expected * 1.2 + TimeSpan.FromMilliseconds(1));
            }
            // Nothing goes out before it is due.
            var earliest = rows.Min(r => r.NextAttemptAt!.Value);
            app.Clock.SetUtcNow(earliest - TimeSpan.FromSeconds(1));
            await Dispatch(app);
            await Task.Delay(200);
            Assert.Equal(attempt * 3, receiver.Requests.Count);
            // Each goes out once it is due.
            app.Clock.SetUtcNow(rows.Max(r => r.NextAttemptAt!.Value));
            await DispatchUntil(receiver, endpointId, (attempt + 1) * 3);
            var made = (await Attempts(endpointId)).Where(a => a.Attempt == attempt + 1).ToList();
            Assert.Equal(3, made.Count);
            Assert.All(made, a => Assert.True(a.At >= rows.Single(r => r.Id == a.MessageId).NextAttemptAt, "An attempt was made before it was due"));
        }

        // After the tenth attempt: failed, nothing more scheduled, every attempt logged.
        var failed = await Rows(endpointId);
        Assert.All(failed, r => Assert.Equal(("failed", 10, (DateTimeOffset?)null), (r.Status, r.Attempts, r.NextAttemptAt)));
        var log = await Attempts(endpointId);
        Assert.Equal(30, log.Count);
        Assert.All(failed, m => Assert.Equal(Enumerable.Range(1, 10), log.Where(a => a.MessageId == m.Id).Select(a => a.Attempt)));
        Assert.All(log, a => Assert.Equal(503, a.StatusCode));
        Assert.False(await StepToNextRetry(endpointId));
        app.Clock.Advance(TimeSpan.FromDays(2));
        await Dispatch(app);
        await Task.Delay(200);
        Assert.Equal(30, receiver.Requests.Count);
        // The schedule ran out after about three days.
        var spent = log.Max(a => a.At) - log.Min(a => a.At);
        var total = WebhookDispatcher.Schedule.Aggregate(TimeSpan.Zero, (a, b) => a + b);
        Assert.InRange(spent, total * 0.8, total * 1.2 + TimeSpan.FromMinutes(1));

        // Healthy again: the failed since the second event are sent again, with their webhook-ids; the first stays failed.
        receiver.Answer = _ => 200;
        var webhookIds = failed.ToDictionary(r => r.Id, r => $"msg_{r.OutboxId}");
        var replayed = await Send(app, shop.Token, x => x.Post.Url($"/v2/webhooks/{endpointId}/replay?since={Uri.EscapeDataString(since.ToString("o"))}"), 202);
        Assert.Equal(2, replayed.GetProperty("replayed").GetInt32());
        await receiver.WaitFor(r => r.Count == 32);
        await WaitForCount(app.Db, "select count(*) from webhooks.messages where endpoint_id = @endpointId and status = 'delivered'", new { endpointId }, 2);
        var first = failed[0];
        Assert.True(first.CreatedAt < since);
        Assert.Equal("failed", (await Message(app, shop.Token, first.Id)).GetProperty("status").GetString());
        Assert.Equal(webhookIds.Values.Skip(1).ToHashSet(), receiver.Requests.Where(r => r.Succeeded).Select(r => r.WebhookId).ToHashSet());
        Assert.Equal(firstAt.ToUnixTimeMilliseconds(), first.CreatedAt.ToUnixTimeMilliseconds());

        // The first one by one.
        await Send(app, shop.Token, x => x.Post.Url($"/v2/webhooks/messages/{first.Id}/replay"), 202);
        var last33 = (await receiver.WaitFor(r => r.Count == 33))[^1];
        Assert.Equal(webhookIds[first.Id], last33.WebhookId);
        await WaitForCount(app.Db, "select count(*) from webhooks.messages where endpoint_id = @endpointId and status = 'delivered'", new { endpointId }, 3);
        var detail = await Send(app, shop.Token, x => x.Get.Url($"/v2/webhooks/messages/{first.Id}"));
        Assert.Equal(11, detail.GetProperty("attempts").GetArrayLength());
        Assert.Equal(200, detail.GetProperty("attempts")[10].GetProperty("status_code").GetInt32());
        // Nothing failed is left to replay.
        Assert.Equal(0, (await Send(app, shop.Token, x => x.Post.Url($"/v2/webhooks/{endpointId}/replay?since=2000-01-01T00:00:00Z"), 202))
            .GetProperty("replayed").GetInt32());
        Assert.Empty(receiver.Overlaps);
    }

    [Fact]
    public async Task A_message_is_dated_by_its_event_even_when_fanned_out_late()
    {
        // Events written while no dispatcher ran (an outage): the log and replay?since= go by when they happened.
        await using var receiver = await Receiver.Start();
        receiver.Answer = _ => 500;
        var shop = await VoucherShop.Open(app);
        var endpointId = (await CreateEndpoint(app, shop.Token, receiver.Url, types: "asset.access.granted")).GetProperty("id").GetInt64();
        var occurred = app.Clock.GetUtcNow().AddMinutes(1);
        app.Clock.Advance(TimeSpan.FromHours(2));
        await Burst(app.Db, shop.Merchant.Id, 2, occurred);
        await receiver.WaitFor(r => r.Count == 2);
        Assert.All(await Rows(endpointId), r => Assert.Equal(occurred.ToUnixTimeMilliseconds(), r.CreatedAt.ToUnixTimeMilliseconds()));
        Assert.All(await Messages(app, shop.Token, $"&endpoint_id={endpointId}"), m => Assert.Equal(occurred.ToUnixTimeMilliseconds(),
            m.GetProperty("created_at").GetDateTimeOffset().ToUnixTimeMilliseconds()));
    }

    [Fact]
    public async Task Retry_After_is_honoured_up_to_a_day()
    {
        await using var receiver = await Receiver.Start();
        receiver.Answer = n => n < 4 ? 429 : 200;
        receiver.AnswerHeaders = (n, _) => n switch
        {
            1 => new Dictionary<string, string> { ["Retry-After"] = "120" },
            2 => new Dictionary<string, string> { ["Retry-After"] = DateTimeOffset.UtcNow.AddMinutes(10).ToString("R") },
            3 => new Dictionary<string, string> { ["Retry-After"] = "999999" },
            _ => null,
        };
        var shop = await VoucherShop.Open(app);
        var endpointId = (await CreateEndpoint(app, shop.Token, receiver.Url, types: "asset.access.granted")).GetProperty("id").GetInt64();
        var viewer = await Given.Consumer(app.Host, shop.Merchant);
        await Grant(app, shop, viewer.Id);
        await receiver.WaitFor(r => r.Count == 1);

        async Task<TimeSpan> Waited(int attempts)
        {
            await WaitForCount(app.Db, "select count(*) from webhooks.messages where endpoint_id = @endpointId and attempts = @attempts and status = 'pending'",
                new { endpointId, attempts }, 1);
            var row = (await Rows(endpointId)).Single();
            return row.NextAttemptAt!.Value - (await Attempts(endpointId)).Last().At;
        }

        Assert.Equal(TimeSpan.FromSeconds(120), await Waited(1)); // no jitter: what the receiver asked
        app.Clock.Advance(TimeSpan.FromSeconds(119));
        await Dispatch(app);
        await Task.Delay(200);
        Assert.Single(receiver.Requests);
        app.Clock.Advance(TimeSpan.FromSeconds(1));
        await DispatchUntil(receiver, endpointId, 2);

        Assert.InRange(await Waited(2), TimeSpan.FromMinutes(10) - TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(10)); // an HTTP date
        Assert.True(await StepToNextRetry(endpointId));
        await receiver.WaitFor(r => r.Count == 3);

        Assert.Equal(TimeSpan.FromHours(24), await Waited(3)); // capped at a day
        Assert.True(await StepToNextRetry(endpointId));
        await receiver.WaitFor(r => r.Count == 4);
        await WaitForCount(app.Db, "select count(*) from webhooks.messages where endpoint_id = @endpointId and status = 'delivered'", new { endpointId }, 1);
        Assert.Equal(new[] { 429, 429, 429, 200 }, (await Attempts(endpointId)).Select(a => a.StatusCode ?? 0));
    }

    [Fact]
    public async Task A_410_disables_the_endpoint_its_events_are_held_and_enabling_it_sends_them()
    {
        await using var receiver = await Receiver.Start();
        receiver.Answer = n => n == 1 ? 410 : 200;
        var shop = await VoucherShop.Open(app);
        var endpointId = (await CreateEndpoint(app, shop.Token, receiver.Url, types: "asset.access.granted")).GetProperty("id").GetInt64();
        var viewer = await Given.Consumer(app.Host, shop.Merchant);
        await Grant(app, shop, viewer.Id);
        await receiver.WaitFor(r => r.Count == 1);
        await WaitForCount(app.Db, "select count(*) from webhooks.endpoints where id = @endpointId and not enabled", new { endpointId }, 1);

        var endpoint = await Send(app, shop.Token, x => x.Get.Url($"/v2/webhooks/{endpointId}"));
        Assert.Equal((false, "The endpoint answered 410 Gone"), (endpoint.GetProperty("enabled").GetBoolean(), endpoint.GetProperty("disabled_reason").GetString()));
        // Later events are kept, held, and not sent, however long it waits.
        await Grant(app, shop, viewer.Id);
        await Grant(app, shop, viewer.Id);
        await WaitForCount(app.Db, "select count(*) from webhooks.messages where endpoint_id = @endpointId and status = 'held'", new { endpointId }, 3);
        app.Clock.Advance(TimeSpan.FromDays(1));
        await Dispatch(app);
        await Task.Delay(300);
        Assert.Single(receiver.Requests);
        Assert.Equal(3, (await Messages(app, shop.Token, $"&endpoint_id={endpointId}&status=held")).Count);

        var enabled = await Send(app, shop.Token, x => x.Patch.FormData(new Dictionary<string, string> { ["enabled"] = "true" }).ToUrl($"/v2/webhooks/{endpointId}"));
        Assert.Equal((true, JsonValueKind.Null), (enabled.GetProperty("enabled").GetBoolean(), enabled.GetProperty("disabled_reason").ValueKind));
        var requests = await receiver.WaitFor(r => r.Count == 4);
        await WaitForCount(app.Db, "select count(*) from webhooks.messages where endpoint_id = @endpointId and status = 'delivered'", new { endpointId }, 3);
        // The one answered 410 went again, with its webhook-id.
        Assert.Equal(3, requests.Skip(1).Select(r => r.WebhookId).Distinct().Count());
        Assert.Contains(requests[0].WebhookId, requests.Skip(1).Select(r => r.WebhookId));
    }

    [Fact]
    public async Task Disabling_an_endpoint_holds_its_retries_and_nothing_goes_to_it_until_it_is_enabled()
    {
        await using var receiver = await Receiver.Start();
        receiver.Answer = _ => 500;
        var shop = await VoucherShop.Open(app);
        var endpointId = (await CreateEndpoint(app, shop.Token, receiver.Url, types: "asset.access.granted")).GetProperty("id").GetInt64();
        var viewer = await Given.Consumer(app.Host, shop.Merchant);
        for (var i = 0; i < 3; i++) await Grant(app, shop, viewer.Id);
        await receiver.WaitFor(r => r.Count == 3);
        await WaitForCount(app.Db, "select count(*) from webhooks.messages where endpoint_id = @endpointId and status = 'pending' and attempts = 1",
            new { endpointId }, 3);

        var disabled = await Send(app, shop.Token, x => x.Patch.FormData(new Dictionary<string, string> { ["enabled"] = "false" }).ToUrl($"/v2/webhooks/{endpointId}"));
        Assert.Equal("Disabled by the merchant", disabled.GetProperty("disabled_reason").GetString());
        var held = await Messages(app, shop.Token, $"&endpoint_id={endpointId}&status=held");
        Assert.Equal(3, held.Count);
        Assert.All(held, m => Assert.Equal(JsonValueKind.Null, m.GetProperty("next_attempt_at").ValueKind));

        // What a delivery that raced with the PATCH could leave: one due again, one claimed by a dispatcher that died.
        var (raced, abandoned) = (held[0].GetProperty("id").GetInt64(), held[1].GetProperty("id").GetInt64());
        await Query<int>(app.Db, """
            update webhooks.messages set status = 'pending', next_attempt_at = @now where id = @raced;
            update webhooks.messages set status = 'delivering', claimed_until = @now - interval '1 minute' where id = @abandoned;
            select 1
            """, new { raced, abandoned, now = app.Clock.GetUtcNow() });
        app.Clock.Advance(TimeSpan.FromHours(1));
        await Dispatch(app);
        await Task.Delay(300);
        Assert.Equal(3, receiver.Requests.Count);
        Assert.Equal("pending", (await Message(app, shop.Token, raced)).GetProperty("status").GetString());
        Assert.Equal("held", (await Message(app, shop.Token, abandoned)).GetProperty("status").GetString());

        receiver.Answer = _ => 200;
        await Send(app, shop.Token, x => x.Patch.FormData(new Dictionary<string, string> { ["enabled"] = "true" }).ToUrl($"/v2/webhooks/{endpointId}"));
        await WaitForCount(app.Db, "select count(*) from webhooks.messages where endpoint_id = @endpointId and status = 'delivered'", new { endpointId }, 3);
        Assert.Equal(3, receiver.Requests.Skip(3).Select(r => r.WebhookId).Distinct().Count());
    }

    [Fact]
    public async Task Deleting_an_endpoint_while_it_is_being_delivered_to_does_not_hold_up_the_others()
    {
        await using var receiver = await Receiver.Start();
        var release = new TaskCompletionSource();
        // The doomed endpoint's request stays open until the test has deleted it; the other is answered at once.
        receiver.Hold = r => r.Path == "/doomed" ? release.Task : Task.CompletedTask;
        var shop = await VoucherShop.Open(app);
        var doomed = (await CreateEndpoint(app, shop.Token, receiver.Url + "/doomed", types: "asset.access.granted")).GetProperty("id").GetInt64();
        var kept = (await CreateEndpoint(app, shop.Token, receiver.Url + "/kept", types: "asset.access.granted")).GetProperty("id").GetInt64();
        var viewer = await Given.Consumer(app.Host, shop.Merchant);
        await Grant(app, shop, viewer.Id);
        await receiver.WaitFor(r => r.Any(x => x.Path == "/doomed") && r.Any(x => x.Path == "/kept"));
        await app.Host.Scenario(x => { x.Delete.Url($"/v2/webhooks/{doomed}"); x.WithBearerToken(shop.Token); x.StatusCodeShouldBe(204); });
        release.SetResult();

        // The other endpoint's delivery is recorded, not left claimed to be sent again when the lease ends.
        await WaitForCount(app.Db, "select count(*) from webhooks.messages where endpoint_id = @kept and status = 'delivered'", new { kept }, 1, seconds: 10);
        Assert.Equal(1, await Scalar<long>(app.Db,
            "select count(*) from webhooks.attempts a join webhooks.messages m on m.id = a.message_id where m.endpoint_id = @kept", new { kept }));
        Assert.Equal(0, await Scalar<long>(app.Db, "select count(*) from webhooks.messages where endpoint_id = @doomed", new { doomed }));
        app.Clock.Advance(TimeSpan.FromHours(1));
        await Dispatch(app);
        await Task.Delay(300);
        Assert.Single(receiver.Requests, r => r.Path == "/kept");
    }

    [Fact]
    public async Task An_endpoint_failing_for_five_days_is_disabled_and_its_events_are_delivered_after_it_is_enabled()
    {
        await using var receiver = await Receiver.Start();
        receiver.Answer = _ => 500;
        var shop = await VoucherShop.Open(app);
        var endpointId = (await CreateEndpoint(app, shop.Token, receiver.Url, types: "asset.access.granted")).GetProperty("id").GetInt64();
        var viewer = await Given.Consumer(app.Host, shop.Merchant);
        var start = app.Clock.GetUtcNow();
        await Grant(app, shop, viewer.Id);
        await receiver.WaitFor(r => r.Count == 1);
        await WaitForCount(app.Db, "select count(*) from webhooks.endpoints where id = @endpointId and failing_since is not null", new { endpointId }, 1);
        Assert.Equal(start.ToUnixTimeMilliseconds(),
            (await Send(app, shop.Token, x => x.Get.Url($"/v2/webhooks/{endpointId}"))).GetProperty("failing_since").GetDateTimeOffset().ToUnixTimeMilliseconds());

        // Four days of failures (the first message runs out of retries): still enabled.
        while (app.Clock.GetUtcNow() < start.AddDays(4) && await StepToNextRetry(endpointId))
            await receiver.Settle(TimeSpan.FromMilliseconds(150));
        await WaitForCount(app.Db, "select count(*) from webhooks.messages where endpoint_id = @endpointId and status = 'failed'", new { endpointId }, 1);
        app.Clock.SetUtcNow(start.AddDays(4));
        await Grant(app, shop, viewer.Id);
        await receiver.WaitFor(r => r.Count == 11);
        await Task.Delay(200);
        Assert.True((await Send(app, shop.Token, x => x.Get.Url($"/v2/webhooks/{endpointId}"))).GetProperty("enabled").GetBoolean());

        // Past five days, the next failure disables it; what is waiting and what comes later is held.
        app.Clock.SetUtcNow(start.AddDays(5).AddMinutes(1));
        await Grant(app, shop, viewer.Id);
        await WaitForCount(app.Db, "select count(*) from webhooks.endpoints where id = @endpointId and not enabled", new { endpointId }, 1);
        var endpoint = await Send(app, shop.Token, x => x.Get.Url($"/v2/webhooks/{endpointId}"));
        Assert.Equal("Every delivery failed for 5 days", endpoint.GetProperty("disabled_reason").GetString());
        await Grant(app, shop, viewer.Id);
        await WaitForCount(app.Db, "select count(*) from webhooks.messages where endpoint_id = @endpointId and status = 'held'", new { endpointId }, 3);
        var sent = receiver.Requests.Count;
        app.Clock.Advance(TimeSpan.FromDays(1));
        await Dispatch(app);
        await Task.Delay(300);
        Assert.Equal(sent, receiver.Requests.Count);

        // Fixed and enabled: the held go out; the one that had failed is replayed.
        receiver.Answer = _ => 200;
        await Send(app, shop.Token, x => x.Patch.FormData(new Dictionary<string, string> { ["enabled"] = "true" }).ToUrl($"/v2/webhooks/{endpointId}"));
        await WaitForCount(app.Db, "select count(*) from webhooks.messages where endpoint_id = @endpointId and status = 'delivered'", new { endpointId }, 3);
        var enabled = await Send(app, shop.Token, x => x.Get.Url($"/v2/webhooks/{endpointId}"));
        Assert.Equal((true, JsonValueKind.Null), (enabled.GetProperty("enabled").GetBoolean(), enabled.GetProperty("failing_since").ValueKind));
        Assert.Equal(1, (await Send(app, shop.Token, x => x.Post.Url($"/v2/webhooks/{endpointId}/replay?since={Uri.EscapeDataString(start.ToString("o"))}"), 202))
            .GetProperty("replayed").GetInt32());
        await WaitForCount(app.Db, "select count(*) from webhooks.messages where endpoint_id = @endpointId and status = 'delivered'", new { endpointId }, 4);
        var outboxIds = await Query<long>(app.Db, "select id from kernel.outbox where merchant_id = @Id and type = 'asset.access.granted'", new { shop.Merchant.Id });
        Assert.Equal(4, outboxIds.Count);
        Assert.Equal(outboxIds.Select(id => $"msg_{id}").ToHashSet(), receiver.Requests.Where(r => r.Succeeded).Select(r => r.WebhookId).ToHashSet());
    }

    [Fact]
    public async Task During_a_secret_rotation_both_secrets_sign_and_after_it_only_the_new_one()
    {
        await using var receiver = await Receiver.Start();
        var shop = await VoucherShop.Open(app);
        var standard = await CreateEndpoint(app, shop.Token, receiver.Url + "/standard", types: "asset.access.granted");
        var inplayer = await CreateEndpoint(app, shop.Token, receiver.Url + "/inplayer", "inplayer", types: "asset.access.granted");
        var oldSecrets = (standard.GetProperty("secret").GetString()!, inplayer.GetProperty("secret").GetString()!);
        var viewer = await Given.Consumer(app.Host, shop.Merchant);

        async Task<(Receiver.Request Standard, Receiver.Request InPlayer)> Deliver()
        {
            var before = receiver.Requests.Count;
            await Grant(app, shop, viewer.Id);
            var requests = (await receiver.WaitFor(r => r.Count == before + 2)).Skip(before).ToList();
            return (requests.Single(r => r.Path == "/standard"), requests.Single(r => r.Path == "/inplayer"));
        }

        var plain = await Deliver();
        Assert.Equal((1, 1), (Signatures.StandardCount(plain.Standard), Signatures.InPlayerValues(plain.InPlayer).Length));
        Assert.True(Signatures.Standard(oldSecrets.Item1, plain.Standard));
        Assert.True(Signatures.InPlayer(oldSecrets.Item2, plain.InPlayer));

        async Task<string> Rotate(JsonElement endpoint) => (await Send(app, shop.Token, x => x.Post.FormData(new Dictionary<string, string> { ["overlap_hours"] = "1" })
            .ToUrl($"/v2/webhooks/{endpoint.GetProperty("id")}/rotate-secret"))).GetProperty("secret").GetString()!;
        var newSecrets = (await Rotate(standard), await Rotate(inplayer));

        // During the overlap: two signatures, one per secret, each verifying on its own.
        app.Clock.Advance(TimeSpan.FromMinutes(59));
        var overlap = await Deliver();
        Assert.Equal((2, 2), (Signatures.StandardCount(overlap.Standard), Signatures.InPlayerValues(overlap.InPlayer).Length));
        Assert.True(Signatures.Standard(oldSecrets.Item1, overlap.Standard));
        Assert.True(Signatures.Standard(newSecrets.Item1, overlap.Standard));
        Assert.True(Signatures.InPlayer(oldSecrets.Item2, overlap.InPlayer));
        Assert.True(Signatures.InPlayer(newSecrets.Item2, overlap.InPlayer));

        // After it: only the new secret signs.
        app.Clock.Advance(TimeSpan.FromMinutes(2));
        var after = await Deliver();
        Assert.Equal((1, 1), (Signatures.StandardCount(after.Standard), Signatures.InPlayerValues(after.InPlayer).Length));
        Assert.True(Signatures.Standard(newSecrets.Item1, after.Standard));
        Assert.False(Signatures.Standard(oldSecrets.Item1, after.Standard));
        Assert.True(Signatures.InPlayer(newSecrets.Item2, after.InPlayer));
        Assert.False(Signatures.InPlayer(oldSecrets.Item2, after.InPlayer));
    }
}
