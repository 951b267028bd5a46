using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Web;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Tests.Vouchers;
using Gatehouse.Webhooks;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Gatehouse.Tests.Webhooks;

/// <summary>
/// The admin's Webhooks section in a real browser, with deliveries to a real local receiver: adding an endpoint (its secret
/// shown once), the delivery log and its filters, a message's attempts and Replay, Replay failed since, rotating the
/// secret, editing, disabling and enabling, deleting, and another merchant's endpoints and messages staying out of reach.
/// Events come from the merchant's back end through the API (a viewer created, access granted).
/// </summary>
public sealed class WebhooksBrowserTests(BrowserFixture fixture) : IClassFixture<BrowserFixture>, IDisposable
{
    private readonly Api _api = new(fixture.BaseUrl);

    public void Dispose() => _api.Dispose();

    private DateTimeOffset Now => fixture.Clock.GetUtcNow();

    private static string Utc(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + " UTC";

    // ---- The merchant's back end, through the API ----

    private sealed record Shop(TestMerchant Merchant, string Token, long Item);

    private async Task<Shop> OpenShop(string name = "Webhooks Media")
    {
        var merchant = await Given.Merchant(fixture.Db, name);
        var token = await _api.MerchantToken(merchant);
        var item = (await _api.Send(HttpMethod.Post, "/v2/items", token, new() { ["title"] = "Cup Final", ["item_type"] = "video" },
            HttpStatusCode.Created)).GetProperty("id").GetInt64();
        return new Shop(merchant, token, item);
    }

    /// <summary>A viewer made by the merchant (the event customer.registered); returns their id.</summary>
    private async Task<long> Customer(Shop shop, string email) =>
        (await _api.Send(HttpMethod.Post, "/v2/accounts/customers", shop.Token, new() { ["email"] = email }, HttpStatusCode.Created))
        .GetProperty("id").GetInt64();

    /// <summary>Access granted to the viewer (the event asset.access.granted).</summary>
    private Task Grant(Shop shop, long viewer) =>
        _api.Send(HttpMethod.Post, "/items/access", shop.Token, new()
        {
            ["item_id"] = shop.Item.ToString(CultureInfo.InvariantCulture), ["consumer_id"] = viewer.ToString(CultureInfo.InvariantCulture),
            ["expires_at"] = Now.AddDays(3).ToString("o"),
        }, HttpStatusCode.Created);

    /// <summary>An endpoint added by the back end; returns its id and secret.</summary>
    private async Task<(long Id, string Secret)> Endpoint(Shop shop, string url, string types = "", string format = "standard")
    {
        var endpoint = await _api.Send(HttpMethod.Post, "/v2/webhooks", shop.Token,
            new() { ["url"] = url, ["event_types"] = types, ["format"] = format }, HttpStatusCode.Created);
        return (endpoint.GetProperty("id").GetInt64(), endpoint.GetProperty("secret").GetString()!);
    }

    /// <summary>The delivery log as the API answers it.</summary>
    private async Task<JsonElement[]> Messages(Shop shop, string query = "") =>
        (await _api.Send(HttpMethod.Get, "/v2/webhooks/messages?limit=100" + query, shop.Token, null, HttpStatusCode.OK))
        .GetProperty("collection").EnumerateArray().ToArray();

    /// <summary>Waits until the log (through the API) satisfies <paramref name="condition"/>: the dispatcher records an attempt
    /// just after the receiver has seen it.</summary>
    private async Task<JsonElement[]> WaitForMessages(Shop shop, Func<JsonElement[], bool> condition, string query = "", int seconds = 30)
    {
        var until = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var messages = await Messages(shop, query);
            if (condition(messages)) return messages;
            if (DateTime.UtcNow > until)
                throw new TimeoutException("The delivery log never got there: " + string.Join("; ", messages.Select(m => m.GetRawText())));
            await Task.Delay(100);
        }
    }

    private static bool All(JsonElement[] messages, int count, string status, int? attempts = null) =>
        messages.Length == count && messages.All(m => m.GetProperty("status").GetString() == status
                                                      && (attempts is null || m.GetProperty("attempts").GetInt32() == attempts));

    /// <summary>The README's Standard Webhooks check, as a receiver writes it: does any of the header's signatures match?</summary>
    private static bool SignedWith(string secret, Receiver.Request request)
    {
        var key = Convert.FromBase64String(secret["whsec_".Length..]);
        var signed = Encoding.UTF8.GetBytes($"{request.Header("webhook-id")}.{request.Header("webhook-timestamp")}.").Concat(request.Body).ToArray();
        var expected = "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, signed));
        return request.Header("webhook-signature").Split(' ')
            .Any(s => CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(s), Encoding.ASCII.GetBytes(expected)));
    }

    // ---- The admin, in the browser ----

    private async Task<IPage> OnWebhooks(TestMerchant merchant)
    {
        var page = await VouchersBrowserTests.SignedIn(fixture, merchant);
        await page.GetByRole(AriaRole.Navigation, new() { Name = "Main" })
            .GetByRole(AriaRole.Link, new() { Name = "Webhooks", Exact = true }).ClickAsync();
        await Expect(page).ToHaveURLAsync(fixture.BaseUrl + "/admin/webhooks");
        return page;
    }

    private async Task<IPage> OnEndpoint(TestMerchant merchant, long id)
    {
        var page = await OnWebhooks(merchant);
        await Rows(page, "Endpoints").First.GetByRole(AriaRole.Link).ClickAsync();
        await Expect(page).ToHaveURLAsync($"{fixture.BaseUrl}/admin/webhooks/{id}");
        return page;
    }

    private static async Task ToLog(IPage page)
    {
        await page.GetByRole(AriaRole.Navigation, new() { Name = "Webhooks section" }).GetByRole(AriaRole.Link, new() { Name = "Delivery log" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Table, new() { Name = "Delivery log" })).ToBeVisibleAsync();
    }

    /// <summary>Sets the log's filters (an empty value: all) and submits them.</summary>
    private static async Task Filter(IPage page, string eventType = "", string status = "", string endpoint = "")
    {
        var filters = page.GetByRole(AriaRole.Search, new() { Name = "Filter the delivery log" });
        await filters.GetByLabel("Event type").SelectOptionAsync(eventType);
        await filters.GetByLabel("Status").SelectOptionAsync(status);
        await filters.GetByLabel("Endpoint").SelectOptionAsync(endpoint);
        await filters.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();
    }

    private static ILocator Rows(IPage page, string table) =>
        page.GetByRole(AriaRole.Table, new() { Name = table }).Locator("tbody").GetByRole(AriaRole.Row);

    private static ILocator Section(IPage page, string heading) =>
        page.Locator("section.card").Filter(new() { Has = page.GetByRole(AriaRole.Heading, new() { Name = heading, Exact = true }) });

    private static Task Click(ILocator scope, string button) =>
        scope.GetByRole(AriaRole.Button, new() { Name = button, Exact = true }).ClickAsync();

    private static ILocator Notice(IPage page) => page.GetByRole(AriaRole.Status);

    /// <summary>A row's cells as patterns, each matched whole (the cell's surrounding whitespace aside).</summary>
    private static Regex[] Cells(params string[] patterns) => patterns.Select(p => new Regex($@"^\s*(?:{p})\s*$")).ToArray();

    private static string Lit(string text) => Regex.Escape(text);

    private const string Time = @"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC";

    private static ILocator Refusal(IPage page) => page.GetByRole(AriaRole.Alert);

    [Fact]
    public async Task Adding_an_endpoint_refuses_a_bad_url_then_shows_the_secret_once()
    {
        await using var receiver = await Receiver.Start();
        var shop = await OpenShop();
        var page = await OnWebhooks(shop.Merchant);
        await Expect(page.GetByTestId("endpoint-count")).ToHaveTextAsync("0 endpoints");
        await Expect(Rows(page, "Endpoints")).ToContainTextAsync("No endpoints yet.");

        await page.GetByRole(AriaRole.Link, new() { Name = "Add endpoint" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(fixture.BaseUrl + "/admin/webhooks/new");
        var form = page.GetByRole(AriaRole.Form, new() { Name = "Add endpoint" });
        await form.GetByLabel("URL").FillAsync("ftp://files.example.com/hooks");
        await form.GetByLabel("Description").FillAsync("Our CRM");
        await form.GetByRole(AriaRole.Checkbox, new() { Name = "asset.access.granted", Exact = true }).CheckAsync();
        await form.GetByRole(AriaRole.Checkbox, new() { Name = "customer.registered", Exact = true }).CheckAsync();
        await Click(form, "Add endpoint");

        // Refused next to the field, everything else kept as typed; nothing was added.
        await Expect(Refusal(page)).ToHaveTextAsync("Url: must be an absolute http or https URL");
        await Expect(form.Locator(".field-error").First).ToHaveTextAsync("must be an absolute http or https URL");
        await Expect(form.GetByLabel("URL")).ToHaveValueAsync("ftp://files.example.com/hooks");
        await Expect(form.GetByLabel("Description")).ToHaveValueAsync("Our CRM");
        await Expect(form.GetByRole(AriaRole.Checkbox, new() { Name = "asset.access.granted", Exact = true })).ToBeCheckedAsync();
        await Expect(form.GetByRole(AriaRole.Checkbox, new() { Name = "voucher.redeemed", Exact = true })).Not.ToBeCheckedAsync();
        Assert.Empty((await _api.Send(HttpMethod.Get, "/v2/webhooks", shop.Token, null, HttpStatusCode.OK)).EnumerateArray());
        await VouchersBrowserTests.Shot(page, "webhooks-new-refused");

        await form.GetByLabel("URL").FillAsync(receiver.Url + "/crm");
        await Click(form, "Add endpoint");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Endpoint added" })).ToBeVisibleAsync();
        await Expect(Notice(page)).ToContainTextAsync($"Endpoint {receiver.Url}/crm added");
        var shown = page.GetByTestId("endpoint-secret");
        await Expect(shown).ToHaveTextAsync(new Regex(@"^whsec_[A-Za-z0-9+/=]{32}$"));
        await Expect(page.GetByRole(AriaRole.Main)).ToContainTextAsync("Copy it now: it will not be shown again.");
        var secret = await shown.InnerTextAsync();
        await VouchersBrowserTests.Shot(page, "webhooks-new-secret");

        // The secret shown is the one deliveries are signed with.
        var viewer = await Customer(shop, "fan@mail.test");
        await Grant(shop, viewer);
        var requests = await receiver.WaitFor(r => r.Count >= 2);
        Assert.Equal(["asset.access.granted", "customer.registered"],
            requests.Select(r => JsonDocument.Parse(r.Body).RootElement.GetProperty("type").GetString()).Order());
        Assert.All(requests, r => Assert.True(SignedWith(secret, r)));
        Assert.All(requests, r => Assert.Equal("/crm", r.Path));

        // Listed, and never shown again: not on the list, not on the endpoint's page.
        await page.GetByRole(AriaRole.Link, new() { Name = "Back to endpoints" }).ClickAsync();
        await Expect(page.GetByTestId("endpoint-count")).ToHaveTextAsync("1 endpoint");
        await Expect(Rows(page, "Endpoints").GetByRole(AriaRole.Cell)).ToHaveTextAsync(
            Cells(Lit(receiver.Url + "/crm") + @"\s*Our CRM", "Standard Webhooks", Lit("customer.registered, asset.access.granted"), "Enabled", "—"));
        Assert.DoesNotContain(secret, await page.ContentAsync());
        await VouchersBrowserTests.Shot(page, "webhooks-list");
        await Rows(page, "Endpoints").GetByRole(AriaRole.Link).ClickAsync();
        await Expect(page.GetByTestId("endpoint-url")).ToHaveTextAsync(receiver.Url + "/crm");
        await Expect(page.GetByTestId("endpoint-secret")).ToHaveCountAsync(0);
        Assert.DoesNotContain(secret, await page.ContentAsync());
    }

    [Fact]
    public async Task Deliveries_show_in_the_log_which_filters_by_status_event_type_and_endpoint()
    {
        await using var healthy = await Receiver.Start();
        await using var failing = await Receiver.Start();
        failing.Answer = _ => 500;
        var shop = await OpenShop();
        var (good, _) = await Endpoint(shop, healthy.Url + "/good");
        var (bad, _) = await Endpoint(shop, failing.Url + "/bad");
        var viewer = await Customer(shop, "fan@mail.test");
        await Grant(shop, viewer);

        // Each event to each endpoint: delivered to the healthy one, failed once (and due again) at the other.
        var delivered = await healthy.WaitFor(r => r.Count >= 2);
        await failing.WaitFor(r => r.Count >= 2);
        await WaitForMessages(shop, m => All(m, 2, "delivered"), $"&endpoint_id={good}");
        await WaitForMessages(shop, m => All(m, 2, "pending", attempts: 1), $"&endpoint_id={bad}");

        var page = await OnWebhooks(shop.Merchant);
        await ToLog(page);
        await Expect(page).ToHaveURLAsync(fixture.BaseUrl + "/admin/webhooks/messages");
        await Expect(page.GetByTestId("message-count")).ToHaveTextAsync("4 messages, newest first");
        await Expect(Rows(page, "Delivery log")).ToHaveCountAsync(4);
        await VouchersBrowserTests.Shot(page, "webhooks-log");

        await Filter(page, status: "delivered");
        await Expect(page).ToHaveURLAsync(new Regex("status=delivered"));
        await Expect(Rows(page, "Delivery log")).ToHaveCountAsync(2);
        // Newest first: the grant came after the registration.
        await Expect(Rows(page, "Delivery log").Nth(0).GetByRole(AriaRole.Cell)).ToHaveTextAsync(
            Cells(Lit(Utc(Now)), Lit("asset.access.granted"), Lit(healthy.Url + "/good"), "Delivered", "1", "200", "—"));
        await Expect(Rows(page, "Delivery log").Nth(1).GetByRole(AriaRole.Cell).Nth(1)).ToHaveTextAsync("customer.registered");

        await Filter(page, eventType: "asset.access.granted", status: "delivered");
        await Expect(Rows(page, "Delivery log")).ToHaveCountAsync(1);
        await Expect(page.GetByTestId("message-count")).ToHaveTextAsync("1 message, newest first");
        await Expect(page.GetByLabel("Event type")).ToHaveValueAsync("asset.access.granted");
        await Expect(page.GetByLabel("Status")).ToHaveValueAsync("delivered");

        await Filter(page, status: "pending");
        await Expect(Rows(page, "Delivery log")).ToHaveCountAsync(2);
        await Expect(Rows(page, "Delivery log").First.GetByRole(AriaRole.Cell)).ToHaveTextAsync(
            Cells(Lit(Utc(Now)), Lit("asset.access.granted"), Lit(failing.Url + "/bad"), "Pending", "1", "500", Time));

        await Filter(page, status: "failed");
        await Expect(Rows(page, "Delivery log")).ToHaveTextAsync(["No messages match."]);

        await Filter(page, endpoint: bad.ToString(CultureInfo.InvariantCulture));
        await Expect(Rows(page, "Delivery log")).ToHaveCountAsync(2);
        await Expect(Rows(page, "Delivery log")).ToContainTextAsync([failing.Url + "/bad", failing.Url + "/bad"]);
        await page.GetByRole(AriaRole.Link, new() { Name = "Clear" }).ClickAsync();
        await Expect(Rows(page, "Delivery log")).ToHaveCountAsync(4);

        // The delivered grant: its webhook-id is the one the receiver got, its payload and its one attempt.
        await Filter(page, eventType: "asset.access.granted", endpoint: good.ToString(CultureInfo.InvariantCulture));
        await Rows(page, "Delivery log").GetByRole(AriaRole.Link).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex(@"/admin/webhooks/messages/\d+$"));
        var grant = delivered.Single(r => JsonDocument.Parse(r.Body).RootElement.GetProperty("type").GetString() == "asset.access.granted");
        await Expect(page.GetByTestId("webhook-id")).ToHaveTextAsync(grant.Header("webhook-id"));
        await Expect(page.GetByTestId("message-event")).ToHaveTextAsync("asset.access.granted");
        await Expect(page.GetByTestId("message-status")).ToHaveTextAsync("Delivered");
        await Expect(page.GetByTestId("payload")).ToContainTextAsync($"\"consumer_id\": {viewer}");
        await Expect(page.GetByTestId("payload")).ToContainTextAsync($"\"item_id\": {shop.Item}");
        await Expect(Rows(page, "Attempts").GetByRole(AriaRole.Cell)).ToHaveTextAsync(Cells("1", Lit(Utc(Now)), "200", @"\d+ ms", "ok", ""));
        await VouchersBrowserTests.Shot(page, "webhooks-message-delivered");

        // A failing one: its attempt's answer, and queued again (no Replay while it is).
        await page.GoBackAsync();
        await Filter(page, eventType: "customer.registered", endpoint: bad.ToString(CultureInfo.InvariantCulture));
        await Rows(page, "Delivery log").GetByRole(AriaRole.Link).ClickAsync();
        await Expect(page.GetByTestId("message-status")).ToHaveTextAsync("Pending");
        await Expect(page.GetByTestId("next-attempt")).ToHaveTextAsync(new Regex("^" + Time + "$"));
        await Expect(Rows(page, "Attempts").GetByRole(AriaRole.Cell)).ToHaveTextAsync(Cells("1", Lit(Utc(Now)), "500", @"\d+ ms", "no thanks", ""));
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Replay" })).ToHaveCountAsync(0);
        await Expect(page.GetByTestId("payload")).ToContainTextAsync("\"email\": \"fan@mail.test\"");
    }

    [Fact]
    public async Task The_log_pages_newest_first()
    {
        await using var receiver = await Receiver.Start();
        var shop = await OpenShop();
        await Endpoint(shop, receiver.Url, "customer.registered");
        for (var i = 1; i <= 27; i++) await Customer(shop, $"viewer{i}@mail.test");
        await WaitForMessages(shop, m => All(m, 27, "delivered"));

        var page = await OnWebhooks(shop.Merchant);
        await ToLog(page);
        await Expect(page.GetByTestId("message-count")).ToHaveTextAsync("27 messages, newest first");
        await Expect(Rows(page, "Delivery log")).ToHaveCountAsync(25);
        var pager = page.GetByRole(AriaRole.Navigation, new() { Name = "Pages" });
        await Expect(pager).ToContainTextAsync("Page 1 of 2");
        await Rows(page, "Delivery log").First.GetByRole(AriaRole.Link).ClickAsync();
        await Expect(page.GetByTestId("payload")).ToContainTextAsync("\"email\": \"viewer27@mail.test\"");
        await page.GoBackAsync();

        await pager.GetByRole(AriaRole.Link, new() { Name = "Next" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("page=2"));
        await Expect(pager).ToContainTextAsync("Page 2 of 2");
        await Expect(Rows(page, "Delivery log")).ToHaveCountAsync(2);
        await Rows(page, "Delivery log").Last.GetByRole(AriaRole.Link).ClickAsync();
        await Expect(page.GetByTestId("payload")).ToContainTextAsync("\"email\": \"viewer1@mail.test\"");
    }

    [Fact]
    public async Task A_failed_message_shows_every_attempt_and_is_delivered_when_replayed()
    {
        await using var receiver = await Receiver.Start();
        var healthy = false;
        receiver.Answer = _ => Volatile.Read(ref healthy) ? 200 : 500;
        var shop = await OpenShop();
        var (endpoint, _) = await Endpoint(shop, receiver.Url + "/replay", "asset.access.granted");
        var firstAt = Now;
        await Grant(shop, await Customer(shop, "first@mail.test"));
        await Grant(shop, await Customer(shop, "second@mail.test"));

        // Every attempt of the schedule fails; the clock is moved to each retry (the longest jitter) once the last is recorded.
        var query = $"&endpoint_id={endpoint}";
        for (var attempt = 1; attempt <= WebhookDispatcher.Schedule.Length; attempt++)
        {
            var last = attempt == WebhookDispatcher.Schedule.Length;
            await WaitForMessages(shop, m => All(m, 2, last ? "failed" : "pending", attempt), query);
            if (!last) fixture.Clock.Advance(WebhookDispatcher.Schedule[attempt] * 1.2 + TimeSpan.FromSeconds(1));
        }
        Assert.Equal(20, receiver.Requests.Count(r => r.Path == "/replay"));

        // Signed in now: the clock moved days on.
        var page = await OnWebhooks(shop.Merchant);
        await Expect(Rows(page, "Endpoints").GetByRole(AriaRole.Cell).Last).ToHaveTextAsync(Utc(firstAt));
        await ToLog(page);
        await Filter(page, status: "failed");
        await Expect(Rows(page, "Delivery log")).ToHaveCountAsync(2);
        await Expect(Rows(page, "Delivery log").First.GetByRole(AriaRole.Cell)).ToHaveTextAsync(
            [Utc(firstAt), "asset.access.granted", receiver.Url + "/replay", "Failed", "10", "500", "—"]);

        await Rows(page, "Delivery log").Last.GetByRole(AriaRole.Link).ClickAsync();
        var webhookId = await page.GetByTestId("webhook-id").InnerTextAsync();
        await Expect(page.GetByTestId("message-status")).ToHaveTextAsync("Failed");
        await Expect(page.GetByTestId("message-attempts")).ToHaveTextAsync("10");
        var attempts = Rows(page, "Attempts");
        await Expect(attempts).ToHaveCountAsync(10);
        for (var i = 0; i < 10; i++)
            await Expect(attempts.Nth(i).GetByRole(AriaRole.Cell)).ToHaveTextAsync(Cells($"{i + 1}", Time, "500", @"\d+ ms", "no thanks", ""));
        await Expect(attempts.First.GetByRole(AriaRole.Cell).Nth(1)).ToHaveTextAsync(Utc(firstAt));
        await VouchersBrowserTests.Shot(page, "webhooks-message-failed");

        // Healthy again: Replay sends it once more, with the same webhook-id.
        Volatile.Write(ref healthy, true);
        await Click(page.GetByRole(AriaRole.Form, new() { Name = "Replay message" }), "Replay");
        await Expect(Notice(page)).ToHaveTextAsync($"Message {webhookId} queued to be sent again, with the same webhook-id.");
        var replayed = await receiver.WaitFor(r => r.Count(x => x.Path == "/replay") >= 21);
        Assert.Equal(webhookId, replayed.Last(x => x.Path == "/replay").Header("webhook-id"));
        await WaitForMessages(shop, m => m.Count(x => x.GetProperty("status").GetString() == "delivered") == 1, query);
        await page.GotoAsync(page.Url);
        await Expect(page.GetByTestId("message-status")).ToHaveTextAsync("Delivered");
        await Expect(attempts).ToHaveCountAsync(11);
        await Expect(attempts.Last.GetByRole(AriaRole.Cell)).ToHaveTextAsync(Cells("1", Lit(Utc(Now)), "200", @"\d+ ms", "ok", ""));

        // The other one, by "Replay failed since": none since yesterday (the form's default), one since just before it.
        await page.GetByRole(AriaRole.Link, new() { Name = receiver.Url + "/replay" }).ClickAsync();
        var replay = page.GetByRole(AriaRole.Form, new() { Name = "Replay failed messages" });
        await Expect(replay.GetByLabel("Failed since (UTC)")).ToHaveValueAsync(Now.AddDays(-1).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm", CultureInfo.InvariantCulture));
        await Click(replay, "Replay failed");
        await Expect(Notice(page)).ToHaveTextAsync($"No failed messages since {Now.AddDays(-1).UtcDateTime:yyyy-MM-dd HH:mm}:00 UTC: nothing to send again.");
        var since = firstAt.AddMinutes(-1);
        await replay.GetByLabel("Failed since (UTC)").FillAsync(since.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm", CultureInfo.InvariantCulture));
        await Click(replay, "Replay failed");
        await Expect(Notice(page)).ToHaveTextAsync($"1 failed message since {since.UtcDateTime:yyyy-MM-dd HH:mm}:00 UTC sent again.");
        await VouchersBrowserTests.Shot(page, "webhooks-endpoint-replayed");
        await receiver.WaitFor(r => r.Count(x => x.Path == "/replay") >= 22);
        await WaitForMessages(shop, m => All(m, 2, "delivered"), query);

        await ToLog(page);
        await Filter(page, status: "failed");
        await Expect(Rows(page, "Delivery log")).ToHaveTextAsync(["No messages match."]);
        await Filter(page, status: "delivered");
        await Expect(Rows(page, "Delivery log")).ToHaveCountAsync(2);
        // Delivered again, the endpoint is no longer failing.
        await page.GetByRole(AriaRole.Navigation, new() { Name = "Webhooks section" }).GetByRole(AriaRole.Link, new() { Name = "Endpoints" }).ClickAsync();
        await Expect(Rows(page, "Endpoints").GetByRole(AriaRole.Cell).Last).ToHaveTextAsync("—");
    }

    [Fact]
    public async Task A_bad_replay_time_is_refused_next_to_its_field()
    {
        await using var receiver = await Receiver.Start();
        var shop = await OpenShop();
        var (endpoint, _) = await Endpoint(shop, receiver.Url);
        var page = await OnEndpoint(shop.Merchant, endpoint);
        var replay = page.GetByRole(AriaRole.Form, new() { Name = "Replay failed messages" });
        await replay.GetByLabel("Failed since (UTC)").FillAsync("");
        await Click(replay, "Replay failed");
        await Expect(Section(page, "Replay failed messages").GetByRole(AriaRole.Alert))
            .ToHaveTextAsync("Since: is required: the date and time (UTC) from which failed messages are sent again");
    }

    [Fact]
    public async Task Rotating_the_secret_asks_first_and_deliveries_then_carry_both_signatures()
    {
        await using var receiver = await Receiver.Start();
        var shop = await OpenShop();
        var viewer = await Customer(shop, "fan@mail.test");
        var (endpoint, oldSecret) = await Endpoint(shop, receiver.Url, "asset.access.granted");
        var page = await OnEndpoint(shop.Merchant, endpoint);
        await Expect(page.GetByTestId("previous-secret")).ToHaveCountAsync(0);

        var confirm = page.GetByRole(AriaRole.Button, new() { Name = "Yes, rotate!" });
        await Expect(confirm).Not.ToBeVisibleAsync();
        await page.GetByText("Rotate secret", new() { Exact = true }).ClickAsync();
        await Expect(confirm).ToBeVisibleAsync();
        var rotate = page.GetByRole(AriaRole.Form, new() { Name = "Rotate secret" });
        await Expect(rotate.GetByLabel("The old secret also signs for")).ToHaveValueAsync("24");
        await VouchersBrowserTests.Shot(page, "webhooks-rotate-confirm");
        await confirm.ClickAsync();

        var until = Now.AddHours(24);
        await Expect(Notice(page)).ToHaveTextAsync($"Secret rotated. Until {Utc(until)} every delivery is signed with both the new and the old secret.");
        await Expect(page.GetByTestId("endpoint-secret")).ToHaveTextAsync(new Regex(@"^whsec_[A-Za-z0-9+/=]{32}$"));
        await Expect(page.GetByRole(AriaRole.Main)).ToContainTextAsync("Copy it now: it will not be shown again.");
        await Expect(page.GetByTestId("previous-secret")).ToHaveTextAsync($"Also signs until {Utc(until)}");
        var newSecret = await page.GetByTestId("endpoint-secret").InnerTextAsync();
        Assert.NotEqual(oldSecret, newSecret);
        await VouchersBrowserTests.Shot(page, "webhooks-rotated");

        // During the overlap, two signatures: one by each secret.
        await Grant(shop, viewer);
        var request = (await receiver.WaitFor(r => r.Count >= 1)).Single();
        Assert.Equal(2, request.Header("webhook-signature").Split(' ').Length);
        Assert.True(SignedWith(newSecret, request));
        Assert.True(SignedWith(oldSecret, request));

        // Shown once: a fresh visit has no secret.
        await page.GotoAsync($"/admin/webhooks/{endpoint}");
        await Expect(page.GetByTestId("endpoint-secret")).ToHaveCountAsync(0);
        Assert.DoesNotContain(newSecret, await page.ContentAsync());

        // With no overlap the old secret stops at once.
        await page.GetByText("Rotate secret", new() { Exact = true }).ClickAsync();
        await rotate.GetByLabel("The old secret also signs for").SelectOptionAsync("0");
        await confirm.ClickAsync();
        await Expect(Notice(page)).ToHaveTextAsync("Secret rotated. The old secret no longer signs deliveries.");
        await Expect(page.GetByTestId("previous-secret")).ToHaveCountAsync(0);
        var third = await page.GetByTestId("endpoint-secret").InnerTextAsync();
        await Grant(shop, viewer);
        request = (await receiver.WaitFor(r => r.Count >= 2))[1];
        Assert.Single(request.Header("webhook-signature").Split(' '));
        Assert.True(SignedWith(third, request));
        Assert.False(SignedWith(newSecret, request));
    }

    [Fact]
    public async Task An_endpoint_is_edited_then_disabled_holding_its_events_and_enabled_sending_them()
    {
        await using var receiver = await Receiver.Start();
        var shop = await OpenShop();
        var viewer = await Customer(shop, "fan@mail.test");
        var (endpoint, secret) = await Endpoint(shop, receiver.Url + "/before");
        var page = await OnEndpoint(shop.Merchant, endpoint);
        var edit = page.GetByRole(AriaRole.Form, new() { Name = "Edit endpoint" });
        await Expect(edit.GetByLabel("URL")).ToHaveValueAsync(receiver.Url + "/before");
        await Expect(edit.GetByRole(AriaRole.Radio, new() { Name = "Standard Webhooks" })).ToBeCheckedAsync();
        await Expect(page.GetByTestId("endpoint-events")).ToHaveTextAsync("All events");

        // A bad URL is refused in the Edit section, as typed; nothing changes.
        await edit.GetByLabel("URL").FillAsync("not a url");
        await Click(edit, "Save endpoint");
        await Expect(Section(page, "Edit").GetByRole(AriaRole.Alert)).ToHaveTextAsync("Url: must be an absolute http or https URL");
        await Expect(edit.GetByLabel("URL")).ToHaveValueAsync("not a url");
        await Expect(page.GetByTestId("endpoint-url")).ToHaveTextAsync(receiver.Url + "/before");

        await edit.GetByLabel("URL").FillAsync(receiver.Url + "/after");
        await edit.GetByLabel("Description").FillAsync("Legacy receiver");
        await edit.GetByRole(AriaRole.Radio, new() { Name = "InPlayer" }).CheckAsync();
        await edit.GetByRole(AriaRole.Checkbox, new() { Name = "asset.access.granted", Exact = true }).CheckAsync();
        await Click(edit, "Save endpoint");
        await Expect(Section(page, "Edit").GetByRole(AriaRole.Status)).ToHaveTextAsync("Endpoint saved.");
        await Expect(page.GetByTestId("endpoint-url")).ToHaveTextAsync(receiver.Url + "/after");
        await Expect(page.GetByTestId("endpoint-format")).ToHaveTextAsync("InPlayer");
        await Expect(page.GetByTestId("endpoint-events")).ToHaveTextAsync("asset.access.granted");
        await Expect(edit.GetByRole(AriaRole.Radio, new() { Name = "InPlayer" })).ToBeCheckedAsync();
        await Expect(edit.GetByRole(AriaRole.Checkbox, new() { Name = "asset.access.granted", Exact = true })).ToBeCheckedAsync();
        await Expect(edit.GetByRole(AriaRole.Checkbox, new() { Name = "customer.registered", Exact = true })).Not.ToBeCheckedAsync();

        await Click(page.Locator("#status"), "Disable endpoint");
        await Expect(Section(page, "Disabled").GetByRole(AriaRole.Status)).ToHaveTextAsync(
            "Endpoint disabled: its events are held until you enable it again.");
        await Expect(page.GetByTestId("endpoint-status")).ToHaveTextAsync("Disabled: Disabled by the merchant");
        await VouchersBrowserTests.Shot(page, "webhooks-endpoint-disabled");
        await page.GetByRole(AriaRole.Link, new() { Name = "← Endpoints" }).ClickAsync();
        await Expect(Rows(page, "Endpoints").GetByRole(AriaRole.Cell).Nth(3)).ToHaveTextAsync(new Regex(@"^\s*Disabled\s*Disabled by the merchant\s*$"));

        // Held while disabled: in the log, not at the receiver.
        await Grant(shop, viewer);
        await WaitForMessages(shop, m => m.Count(x => x.GetProperty("status").GetString() == "held") == 1, $"&endpoint_id={endpoint}");
        await ToLog(page);
        await Filter(page, status: "held");
        await Expect(Rows(page, "Delivery log").GetByRole(AriaRole.Cell).Nth(3)).ToHaveTextAsync("Held");
        Assert.DoesNotContain(receiver.Requests, r => r.Path == "/after");

        await page.GetByRole(AriaRole.Navigation, new() { Name = "Webhooks section" }).GetByRole(AriaRole.Link, new() { Name = "Endpoints" }).ClickAsync();
        await Rows(page, "Endpoints").GetByRole(AriaRole.Link).ClickAsync();
        await Click(page.Locator("#status"), "Enable endpoint");
        await Expect(Section(page, "Enabled").GetByRole(AriaRole.Status)).ToHaveTextAsync(
            "Endpoint enabled: events held while it was disabled are being sent.");
        await Expect(page.GetByTestId("endpoint-status")).ToHaveTextAsync("Enabled");

        // Sent on enabling, in InPlayer's format, to the new URL.
        var sent = (await receiver.WaitFor(r => r.Any(x => x.Path == "/after"))).Single(x => x.Path == "/after");
        var form = HttpUtility.ParseQueryString(sent.Text);
        Assert.Equal(("asset.access.granted", viewer.ToString(CultureInfo.InvariantCulture)), (form["type"], form["resource[consumer_id]"]));
        Assert.Equal("sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), sent.Body)),
            sent.Header("x-inplayer-signature"));
        await WaitForMessages(shop, m => m.Count(x => x.GetProperty("status").GetString() == "delivered"
                                                    && x.GetProperty("event_type").GetString() == "asset.access.granted") == 1, $"&endpoint_id={endpoint}");
        await page.GetByRole(AriaRole.Link, new() { Name = "This endpoint's deliveries" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex($"endpoint_id={endpoint}"));
        await Filter(page, eventType: "asset.access.granted", endpoint: endpoint.ToString(CultureInfo.InvariantCulture));
        await Expect(Rows(page, "Delivery log").GetByRole(AriaRole.Cell).Nth(3)).ToHaveTextAsync("Delivered");
    }

    [Fact]
    public async Task Deleting_an_endpoint_asks_first()
    {
        await using var receiver = await Receiver.Start();
        var shop = await OpenShop();
        var (endpoint, _) = await Endpoint(shop, receiver.Url + "/gone");
        var page = await OnEndpoint(shop.Merchant, endpoint);

        var confirm = page.GetByRole(AriaRole.Button, new() { Name = "Yes, delete!" });
        await Expect(confirm).Not.ToBeVisibleAsync();
        await page.GetByText("Delete endpoint", new() { Exact = true }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Form, new() { Name = "Delete endpoint" })).ToContainTextAsync($"Delete the endpoint {receiver.Url}/gone?");
        await confirm.ClickAsync();

        await Expect(page).ToHaveURLAsync(fixture.BaseUrl + "/admin/webhooks");
        await Expect(Notice(page)).ToHaveTextAsync($"Endpoint {receiver.Url}/gone deleted, with its delivery log.");
        await Expect(page.GetByTestId("endpoint-count")).ToHaveTextAsync("0 endpoints");
        await _api.Send(HttpMethod.Get, $"/v2/webhooks/{endpoint}", shop.Token, null, HttpStatusCode.NotFound);
        Assert.Equal(404, (await page.APIRequest.GetAsync($"/admin/webhooks/{endpoint}")).Status);

        // Nothing is sent to it any more.
        await Customer(shop, "late@mail.test");
        await Task.Delay(1500);
        Assert.Empty(receiver.Requests);
    }

    [Fact]
    public async Task Another_merchants_endpoints_and_messages_are_not_found()
    {
        await using var receiver = await Receiver.Start();
        var ours = await OpenShop("Our Media");
        var theirs = await OpenShop("Their Media");
        var (theirEndpoint, _) = await Endpoint(theirs, receiver.Url + "/theirs");
        await Customer(theirs, "their-fan@mail.test");
        var theirMessage = (await WaitForMessages(theirs, m => All(m, 1, "delivered")))[0].GetProperty("id").GetInt64();
        var (ourEndpoint, _) = await Endpoint(ours, receiver.Url + "/ours");

        var page = await OnWebhooks(ours.Merchant);
        await Expect(Rows(page, "Endpoints")).ToHaveCountAsync(1);
        await Expect(Rows(page, "Endpoints")).ToContainTextAsync(receiver.Url + "/ours");
        await ToLog(page);
        await Expect(page.GetByTestId("message-count")).ToHaveTextAsync("0 messages, newest first");
        Assert.DoesNotContain("/theirs", await page.ContentAsync());

        // Asked with this admin's cookie (a browser shows its own error page for a bodiless 404).
        Assert.Equal(404, (await page.APIRequest.GetAsync($"/admin/webhooks/{theirEndpoint}")).Status);
        Assert.Equal(404, (await page.APIRequest.GetAsync($"/admin/webhooks/messages/{theirMessage}")).Status);
        await page.GotoAsync($"/admin/webhooks/messages?endpoint_id={theirEndpoint}");
        await Expect(Rows(page, "Delivery log")).ToHaveTextAsync(["No messages match."]);

        // A form of ours pointed at their endpoint (antiforgery token and all) is a 404 too, and deletes nothing.
        await page.GotoAsync($"/admin/webhooks/{ourEndpoint}");
        var delete = page.Locator("form[aria-label='Delete endpoint']");
        await delete.EvaluateAsync("(form, id) => form.action = form.action.replace(/webhooks\\/\\d+/, 'webhooks/' + id)", theirEndpoint);
        await page.GetByText("Delete endpoint", new() { Exact = true }).ClickAsync();
        var response = await page.RunAndWaitForResponseAsync(() => Click(delete, "Yes, delete!"), r => r.Request.Method == "POST");
        Assert.Equal(404, response.Status);
        await _api.Send(HttpMethod.Get, $"/v2/webhooks/{theirEndpoint}", theirs.Token, null, HttpStatusCode.OK);

        // Their admin sees theirs.
        var theirPage = await OnWebhooks(theirs.Merchant);
        await Expect(Rows(theirPage, "Endpoints")).ToContainTextAsync(receiver.Url + "/theirs");
        await theirPage.GotoAsync($"/admin/webhooks/messages/{theirMessage}");
        await Expect(theirPage.GetByTestId("message-status")).ToHaveTextAsync("Delivered");
        Assert.Equal(404, (await theirPage.APIRequest.GetAsync($"/admin/webhooks/{ourEndpoint}")).Status);
    }
}
