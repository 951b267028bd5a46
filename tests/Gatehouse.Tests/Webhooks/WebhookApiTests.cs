using System.Text.Json;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Tests.Vouchers;
using static Gatehouse.Tests.Webhooks.WebhookKit;

namespace Gatehouse.Tests.Webhooks;

/// <summary>The webhooks API: endpoints, the delivery log and replays, what each answers, what it refuses, and one merchant never seeing another's.</summary>
public sealed class WebhookApiTests(AppFixture app) : IClassFixture<AppFixture>
{
    private const string Url = "https://hooks.example.com/gatehouse";

    [Fact]
    public async Task Endpoints_are_created_listed_read_changed_rotated_and_deleted()
    {
        var shop = await VoucherShop.Open(app);
        var created = await Send(app, shop.Token, x => x.Post.FormData(new Dictionary<string, string>
        {
            ["url"] = Url, ["event_types"] = "asset.access.granted, voucher.redeemed", ["description"] = "  CRM sync  ",
        }).ToUrl("/v2/webhooks"), 201);
        var secret = created.GetProperty("secret").GetString()!;
        Assert.Matches("^whsec_[A-Za-z0-9+/]{32}$", secret);
        Assert.Equal("standard", created.GetProperty("format").GetString());
        created.GetRawText().MatchSnapshot("created");
        var id = created.GetProperty("id").GetInt64();

        // JSON works too: a list of types, the InPlayer format, created disabled.
        var json = await Send(app, shop.Token, x => x.Post.Json(new
        {
            url = Url + "/inplayer", event_types = new[] { "subscribe.success", "payment.card.success" }, format = "inplayer", enabled = false,
        }).ToUrl("/v2/webhooks"), 201);
        json.GetRawText().MatchSnapshot("created_json");
        Assert.NotEqual(secret, json.GetProperty("secret").GetString());

        // The secret is shown once: never in the list nor on reading one.
        var list = await Send(app, shop.Token, x => x.Get.Url("/v2/webhooks"));
        Assert.Equal(2, list.GetArrayLength());
        Assert.All(list.EnumerateArray(), e => Assert.Equal(JsonValueKind.Null, e.GetProperty("secret").ValueKind));
        list.GetRawText().MatchSnapshot("list");
        (await Send(app, shop.Token, x => x.Get.Url($"/v2/webhooks/{id}"))).GetRawText().MatchSnapshot("one");

        // PATCH changes only what it is given; disabling says why; an empty list asks for every event type (a blank form field is "not given").
        var patched = await Send(app, shop.Token, x => x.Patch.Json(new { description = "CRM", event_types = Array.Empty<string>(), enabled = false })
            .ToUrl($"/v2/webhooks/{id}"));
        Assert.Equal((Url, 0, false, "Disabled by the merchant"), (patched.GetProperty("url").GetString(), patched.GetProperty("event_types").GetArrayLength(),
            patched.GetProperty("enabled").GetBoolean(), patched.GetProperty("disabled_reason").GetString()));
        patched.GetRawText().MatchSnapshot("patched");
        var enabled = await Send(app, shop.Token, x => x.Patch.Json(new { enabled = true, url = Url + "/v2" }).ToUrl($"/v2/webhooks/{id}"));
        Assert.Equal((true, JsonValueKind.Null, Url + "/v2"), (enabled.GetProperty("enabled").GetBoolean(), enabled.GetProperty("disabled_reason").ValueKind,
            enabled.GetProperty("url").GetString()));
        enabled.GetRawText().MatchSnapshot("enabled");

        // A new secret; the old one signs too for the overlap (24 h unless asked).
        var rotated = await Send(app, shop.Token, x => x.Post.FormData(new Dictionary<string, string> { ["overlap_hours"] = "2" })
            .ToUrl($"/v2/webhooks/{id}/rotate-secret"));
        var newSecret = rotated.GetProperty("secret").GetString()!;
        Assert.StartsWith("whsec_", newSecret);
        Assert.NotEqual(secret, newSecret);
        Assert.Equal(app.Clock.GetUtcNow().AddHours(2), rotated.GetProperty("previous_secret_expires_at").GetDateTimeOffset());
        rotated.GetRawText().MatchSnapshot("rotated");
        var byDefault = await Send(app, shop.Token, x => x.Post.Url($"/v2/webhooks/{id}/rotate-secret"));
        Assert.Equal(app.Clock.GetUtcNow().AddHours(24), byDefault.GetProperty("previous_secret_expires_at").GetDateTimeOffset());

        await app.Host.Scenario(x => { x.Delete.Url($"/v2/webhooks/{id}"); x.WithBearerToken(shop.Token); x.StatusCodeShouldBe(204); });
        (await Send(app, shop.Token, x => x.Get.Url($"/v2/webhooks/{id}"), 404)).GetRawText().MatchSnapshot("deleted");
        Assert.Equal(1, (await Send(app, shop.Token, x => x.Get.Url("/v2/webhooks"))).GetArrayLength());
    }

    [Fact]
    public async Task The_event_types_are_listed()
    {
        var shop = await VoucherShop.Open(app);
        var types = await Send(app, shop.Token, x => x.Get.Url("/v2/webhooks/event-types"));
        Assert.Contains("asset.access.granted", types.EnumerateArray().Select(t => t.GetString()));
        types.GetRawText().MatchSnapshot();
    }

    [Fact]
    public async Task Bad_input_is_refused_field_by_field()
    {
        var shop = await VoucherShop.Open(app);
        Task<JsonElement> Create(Dictionary<string, string> form) => Send(app, shop.Token, x => x.Post.FormData(form).ToUrl("/v2/webhooks"), 400);

        (await Create(new() { ["format"] = "standard" })).GetRawText().MatchSnapshot("no_url");
        (await Create(new() { ["url"] = "ftp://hooks.example.com/x" })).GetRawText().MatchSnapshot("not_http");
        (await Create(new() { ["url"] = "hooks.example.com/x" })).GetRawText().MatchSnapshot("relative");
        (await Create(new() { ["url"] = "https://user:pass@hooks.example.com/x" })).GetRawText().MatchSnapshot("credentials");
        (await Create(new() { ["url"] = Url, ["event_types"] = "asset.access.granted,asset.stolen" })).GetRawText().MatchSnapshot("unknown_event_type");
        (await Create(new() { ["url"] = Url, ["format"] = "xml" })).GetRawText().MatchSnapshot("bad_format");
        (await Create(new() { ["url"] = "nope", ["format"] = "xml", ["event_types"] = "x", ["description"] = new string('d', 501) }))
            .GetRawText().MatchSnapshot("everything_wrong");
        Assert.Equal(0, (await Send(app, shop.Token, x => x.Get.Url("/v2/webhooks"))).GetArrayLength());

        var id = (await CreateEndpoint(app, shop.Token, Url)).GetProperty("id").GetInt64();
        (await Send(app, shop.Token, x => x.Patch.FormData(new Dictionary<string, string> { ["format"] = "soap", ["url"] = "mailto:a@b.c" })
            .ToUrl($"/v2/webhooks/{id}"), 400)).GetRawText().MatchSnapshot("patch");
        Assert.Equal(Url, (await Send(app, shop.Token, x => x.Get.Url($"/v2/webhooks/{id}"))).GetProperty("url").GetString());
        (await Send(app, shop.Token, x => x.Post.FormData(new Dictionary<string, string> { ["overlap_hours"] = "200" }).ToUrl($"/v2/webhooks/{id}/rotate-secret"), 400))
            .GetRawText().MatchSnapshot("overlap");
        (await Send(app, shop.Token, x => x.Post.Url($"/v2/webhooks/{id}/replay"), 400)).GetRawText().MatchSnapshot("replay_without_since");
        await Send(app, shop.Token, x => x.Post.Url($"/v2/webhooks/{id}/replay?since=yesterday"), 400);
        (await Send(app, shop.Token, x => x.Get.Url("/v2/webhooks/messages?status=lost"), 400)).GetRawText().MatchSnapshot("bad_status");
        (await Send(app, shop.Token, x => x.Get.Url("/v2/webhooks/999999999"), 404)).GetRawText().MatchSnapshot("unknown");

        // Merchants only.
        await app.Host.Scenario(x => { x.Get.Url("/v2/webhooks"); x.StatusCodeShouldBe(401); });
        var viewer = await Given.Consumer(app.Host, shop.Merchant);
        await app.Host.Scenario(x => { x.Get.Url("/v2/webhooks"); x.WithBearerToken(viewer.AccessToken); x.StatusCodeShouldBe(403); });
    }

    [Fact]
    public async Task The_delivery_log_shows_messages_with_their_attempts_and_replays_them()
    {
        await using var receiver = await Receiver.Start();
        var shop = await VoucherShop.Open(app);
        var endpoint = await CreateEndpoint(app, shop.Token, receiver.Url + "/hooks", types: "asset.access.granted");
        var endpointId = endpoint.GetProperty("id").GetInt64();
        var other = await CreateEndpoint(app, shop.Token, receiver.Url + "/other", types: "customer.registered");
        var otherId = other.GetProperty("id").GetInt64();
        var viewer = await Given.Consumer(app.Host, shop.Merchant);
        await Grant(app, shop, viewer.Id);
        await receiver.WaitFor(r => r.Count == 2);
        // The receiver has its requests before the dispatcher records them: wait for the record, then read the log.
        await WaitForCount(app.Db, "select count(*) from webhooks.messages where merchant_id = @merchantId and status = 'delivered'", new { merchantId = shop.Merchant.Id }, 2);

        var all = await Send(app, shop.Token, x => x.Get.Url("/v2/webhooks/messages"));
        Assert.Equal(2, all.GetProperty("total").GetInt32());
        Stable(all, receiver.Url).MatchSnapshot("list");
        // Filtered by endpoint, status and event type.
        var granted = await Messages(app, shop.Token, $"&endpoint_id={endpointId}");
        Assert.Equal("asset.access.granted", Assert.Single(granted).GetProperty("event_type").GetString());
        Assert.Equal(endpointId, granted[0].GetProperty("endpoint_id").GetInt64());
        Assert.Equal(otherId, Assert.Single(await Messages(app, shop.Token, "&event_type=customer.registered")).GetProperty("endpoint_id").GetInt64());
        Assert.Equal(2, (await Messages(app, shop.Token, "&status=delivered")).Count);
        Assert.Empty(await Messages(app, shop.Token, "&status=failed"));
        Assert.Empty(await Messages(app, shop.Token, $"&endpoint_id={otherId}&event_type=asset.access.granted"));

        var messageId = granted[0].GetProperty("id").GetInt64();
        var detail = await Send(app, shop.Token, x => x.Get.Url($"/v2/webhooks/messages/{messageId}"));
        var attempt = Assert.Single(detail.GetProperty("attempts").EnumerateArray());
        Assert.Equal((200, "ok"), (attempt.GetProperty("status_code").GetInt32(), attempt.GetProperty("response_excerpt").GetString()));
        Assert.Equal($"msg_{await Scalar<long>(app.Db, "select outbox_id from webhooks.messages where id = @messageId", new { messageId })}",
            detail.GetProperty("message").GetProperty("webhook_id").GetString());
        Stable(detail, receiver.Url).MatchSnapshot("detail");

        // A delivered message sent again: the same webhook-id, a new attempt in the log.
        var replayed = await Send(app, shop.Token, x => x.Post.Url($"/v2/webhooks/messages/{messageId}/replay"), 202);
        replayed.GetRawText().MatchSnapshot("replayed");
        var requests = await receiver.WaitFor(r => r.Count == 3);
        Assert.Equal(requests.First(r => r.Path == "/hooks").WebhookId, requests[2].WebhookId);
        await WaitForCount(app.Db, "select count(*) from webhooks.attempts where message_id = @messageId", new { messageId }, 2);
        Assert.Equal("delivered", (await Message(app, shop.Token, messageId)).GetProperty("status").GetString());

        // Failed messages since a time: none yet.
        (await Send(app, shop.Token, x => x.Post.Url($"/v2/webhooks/{endpointId}/replay?since={Uri.EscapeDataString(app.Clock.GetUtcNow().AddHours(-1).ToString("o"))}"), 202))
            .GetRawText().MatchSnapshot("replayed_none");

        // Not while it is disabled: enabling it sends what it held.
        await Send(app, shop.Token, x => x.Patch.FormData(new Dictionary<string, string> { ["enabled"] = "false" }).ToUrl($"/v2/webhooks/{endpointId}"));
        (await Send(app, shop.Token, x => x.Post.Url($"/v2/webhooks/messages/{messageId}/replay"), 409)).GetRawText().MatchSnapshot("replay_disabled");
        await Send(app, shop.Token, x => x.Post.Url($"/v2/webhooks/{endpointId}/replay?since=2020-01-01T00:00:00Z"), 409);
    }

    [Fact]
    public async Task One_merchant_never_reaches_another_merchants_endpoints_or_messages()
    {
        await using var receiver = await Receiver.Start();
        var mine = await VoucherShop.Open(app);
        var theirs = await VoucherShop.Open(app);
        var endpoint = (await CreateEndpoint(app, theirs.Token, receiver.Url)).GetProperty("id").GetInt64();
        await Given.Consumer(app.Host, theirs.Merchant);
        await receiver.WaitFor(r => r.Count == 1);
        var message = (await Messages(app, theirs.Token)).Single().GetProperty("id").GetInt64();

        await Send(app, mine.Token, x => x.Get.Url($"/v2/webhooks/{endpoint}"), 404);
        await Send(app, mine.Token, x => x.Patch.FormData(new Dictionary<string, string> { ["enabled"] = "false" }).ToUrl($"/v2/webhooks/{endpoint}"), 404);
        await Send(app, mine.Token, x => x.Post.Url($"/v2/webhooks/{endpoint}/rotate-secret"), 404);
        await Send(app, mine.Token, x => x.Post.Url($"/v2/webhooks/{endpoint}/replay?since=2020-01-01T00:00:00Z"), 404);
        await Send(app, mine.Token, x => x.Delete.Url($"/v2/webhooks/{endpoint}"), 404);
        (await Send(app, mine.Token, x => x.Get.Url($"/v2/webhooks/messages/{message}"), 404)).GetRawText().MatchSnapshot("message");
        await Send(app, mine.Token, x => x.Post.Url($"/v2/webhooks/messages/{message}/replay"), 404);
        Assert.Empty(await Messages(app, mine.Token, $"&endpoint_id={endpoint}"));
        Assert.Empty(await Messages(app, mine.Token));
        Assert.Equal(0, (await Send(app, mine.Token, x => x.Get.Url("/v2/webhooks"))).GetArrayLength());

        // Theirs is untouched: still enabled, one message, one delivery.
        var still = await Send(app, theirs.Token, x => x.Get.Url($"/v2/webhooks/{endpoint}"));
        Assert.True(still.GetProperty("enabled").GetBoolean());
        Assert.Equal(JsonValueKind.Null, still.GetProperty("previous_secret_expires_at").ValueKind);
        Assert.Single(await Messages(app, theirs.Token));
        await Task.Delay(300);
        Assert.Single(receiver.Requests);
    }
}
