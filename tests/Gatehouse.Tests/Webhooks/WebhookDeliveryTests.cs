using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Web;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Tests.Vouchers;

namespace Gatehouse.Tests.Webhooks;

/// <summary>Deliveries to a real local receiver: both formats and their signatures, verified the way the README tells receivers to.</summary>
public sealed class WebhookDeliveryTests(AppFixture app) : IClassFixture<AppFixture>
{
    private Task<JsonElement> Send(string token, Action<Scenario> request, int status = 200) => VoucherShop.Send(app, token, request, status);

    private async Task<JsonElement> Endpoint(VoucherShop shop, string url, string format = "standard", string? types = null) =>
        await Send(shop.Token, x => x.Post.FormData(new Dictionary<string, string> { ["url"] = url, ["format"] = format,
            ["event_types"] = types ?? "" }).ToUrl("/v2/webhooks"), 201);

    private async Task Grant(VoucherShop shop, long viewer) =>
        await Send(shop.Token, x => x.Post.FormData(new Dictionary<string, string> { ["item_id"] = shop.Item.ToString(), ["consumer_id"] = viewer.ToString(),
            ["expires_at"] = app.Clock.GetUtcNow().AddDays(3).ToString("o") }).ToUrl("/items/access"), 201);

    // The README's two functions, as a receiver copies them.

    // Standard Webhooks (format "standard"): headers webhook-id, webhook-timestamp, webhook-signature ("v1,<base64> v1,<base64>").
    static bool VerifyStandard(string secret, string id, string timestamp, byte[] body, string signatures)
    {
        if (Math.Abs(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - long.Parse(timestamp)) > 300) return false; // replayed or stale
        var key = Convert.FromBase64String(secret["whsec_".Length..]);
        var expected = "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{id}.{timestamp}.").Concat(body).ToArray()));
        return signatures.Split(' ').Any(s => CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(s), Encoding.ASCII.GetBytes(expected)));
    }

    // InPlayer's format (format "inplayer"): a form body and X-InPlayer-Signature: sha256=<hex> (one header per secret during a rotation).
    static bool VerifyInPlayer(string secret, byte[] body, IEnumerable<string> signatureHeaders)
    {
        var expected = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));
        return signatureHeaders.SelectMany(h => h.Split(',')).Any(s => s.Trim() == expected);
    }

    [Fact]
    public async Task A_grant_is_delivered_signed_the_Standard_Webhooks_way()
    {
        await using var receiver = await Receiver.Start();
        var shop = await VoucherShop.Open(app);
        var endpoint = await Endpoint(shop, receiver.Url + "/hooks", types: "asset.access.granted");
        var secret = endpoint.GetProperty("secret").GetString()!;
        Assert.StartsWith("whsec_", secret);
        var viewer = await Given.Consumer(app.Host, shop.Merchant);
        await Grant(shop, viewer.Id);

        var request = (await receiver.WaitFor(r => r.Count >= 1)).Single();
        Assert.Equal("/hooks", request.Path);
        Assert.True(VerifyStandard(secret, request.Header("webhook-id"), request.Header("webhook-timestamp"), request.Body, request.Header("webhook-signature")));
        Assert.False(VerifyStandard("whsec_" + Convert.ToBase64String(new byte[24]), request.Header("webhook-id"), request.Header("webhook-timestamp"),
            request.Body, request.Header("webhook-signature")));
        using var body = JsonDocument.Parse(request.Body);
        Assert.Equal("asset.access.granted", body.RootElement.GetProperty("type").GetString());
        Assert.Equal(viewer.Id, body.RootElement.GetProperty("data").GetProperty("consumer_id").GetInt64());
        Assert.StartsWith("msg_", request.Header("webhook-id"));
    }

    [Fact]
    public async Task The_InPlayer_format_is_a_signed_form()
    {
        await using var receiver = await Receiver.Start();
        var shop = await VoucherShop.Open(app);
        var endpoint = await Endpoint(shop, receiver.Url, "inplayer");
        var secret = endpoint.GetProperty("secret").GetString()!;
        var viewer = await Given.Consumer(app.Host, shop.Merchant);
        await Grant(shop, viewer.Id);

        // Every event type by default: the viewer's registration, then the grant.
        var requests = await receiver.WaitFor(r => r.Count >= 2);
        Assert.Equal("customer.registered", HttpUtility.ParseQueryString(requests[0].Text)["type"]);
        var request = requests[1];
        Assert.Equal("application/x-www-form-urlencoded", request.Header("content-type"));
        Assert.True(VerifyInPlayer(secret, request.Body, [request.Header("x-inplayer-signature")]));
        var form = HttpUtility.ParseQueryString(request.Text);
        Assert.Equal(("asset.access.granted", viewer.Id.ToString(), shop.Item.ToString()), (form["type"], form["resource[consumer_id]"], form["resource[item_id]"]));
    }

    [Fact]
    public async Task The_log_filters_by_endpoint_id_and_event_type()
    {
        await using var receiver = await Receiver.Start();
        var shop = await VoucherShop.Open(app);
        var all = (await Endpoint(shop, receiver.Url + "/all")).GetProperty("id").GetInt64();
        var grants = (await Endpoint(shop, receiver.Url + "/grants", types: "asset.access.granted")).GetProperty("id").GetInt64();
        var viewer = await Given.Consumer(app.Host, shop.Merchant);
        await Grant(shop, viewer.Id);
        await receiver.WaitFor(r => r.Count >= 3);

        async Task<string[]> Log(string query) =>
            (await Send(shop.Token, x => x.Get.Url("/v2/webhooks/messages?" + query))).GetProperty("collection").EnumerateArray()
            .Select(m => $"{m.GetProperty("endpoint_id").GetInt64()} {m.GetProperty("event_type").GetString()}").ToArray();

        Assert.Equal(3, (await Log("")).Length);
        Assert.Equal([$"{all} asset.access.granted", $"{all} customer.registered"], await Log($"endpoint_id={all}"));
        Assert.Equal([$"{grants} asset.access.granted"], await Log($"endpoint_id={grants}"));
        Assert.Equal([$"{all} customer.registered"], await Log("event_type=customer.registered"));
        Assert.Equal([$"{grants} asset.access.granted"], await Log($"event_type=asset.access.granted&endpoint_id={grants}"));
    }
}
