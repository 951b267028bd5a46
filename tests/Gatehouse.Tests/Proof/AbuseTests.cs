using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Dapper;
using Gatehouse.Access;
using Gatehouse.Reports;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Tests.Payments;
using Gatehouse.Tests.Vouchers;
using Gatehouse.Vouchers;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Tests.Proof;

/// <summary>
/// Abuse: voucher code guessing is limited per viewer and per address (in the database, so across instances), password
/// guessing locks the account across instances, and every CSV download needs the merchant's token or admin session.
/// The guessing limits run at their defaults here: 10 unknown codes per viewer, 30 per address, in 10 minutes.
/// </summary>
public sealed class AbuseTests(AppFixture app) : IClassFixture<AppFixture>
{
    private sealed record Answer(int Status, JsonElement Body, string RetryAfter)
    {
        public string Message => Body.GetProperty("message").GetString()!;
    }

    private static async Task<Answer> Post(IAlbaHost host, string token, string address, string path, Dictionary<string, string> form,
        string? idempotencyKey = null)
    {
        var result = await host.Scenario(x =>
        {
            x.Post.FormData(form).ToUrl(path);
            x.WithBearerToken(token);
            x.ConfigureHttpContext(c => c.Connection.RemoteIpAddress = IPAddress.Parse(address));
            if (idempotencyKey is not null) x.WithRequestHeader("Idempotency-Key", idempotencyKey);
            x.IgnoreStatusCode();
        });
        return new Answer(result.Context.Response.StatusCode, JsonDocument.Parse(await result.ReadAsTextAsync()).RootElement.Clone(),
            result.Context.Response.Headers.RetryAfter.ToString());
    }

    private static Dictionary<string, string> Code(string code, long fee) => new() { ["voucher_code"] = code, ["access_fee_id"] = fee.ToString() };

    /// <summary>Every way a viewer submits a code, each with an unknown one: 402 "Unknown voucher code".</summary>
    private static async Task WrongCodes(IAlbaHost host, VoucherShop shop, TestConsumer viewer, string address, int count)
    {
        var paths = new[] { "/v2/vouchers/redeem", "/vouchers/discount", "/payments", "/v2/payments", "/subscriptions", "/v2/subscriptions" };
        for (var i = 0; i < count; i++)
        {
            var path = paths[i % paths.Length];
            var fee = path.Contains("subscriptions") ? shop.SubscriptionFee : shop.Fee;
            var form = path.Contains("payments") || path.Contains("subscriptions")
                ? PaymentShop.CardForm(fee, extra: new() { ["voucher_code"] = $"GUESS-{Guid.NewGuid():N}"[..14] })
                : Code($"GUESS-{Guid.NewGuid():N}"[..14], fee);
            var answer = await Post(host, viewer.AccessToken, address, path, form);
            Assert.True((answer.Status, answer.Message) == (402, "Unknown voucher code"), $"{path}: {answer.Status} {answer.Body}");
        }
    }

    private Task<long> Count(string sql, object args) => app.Db.Scalar<long>(sql, args);

    [Fact]
    public async Task The_eleventh_unknown_code_of_a_viewer_is_429_even_when_it_is_right_until_the_window_ends()
    {
        var shop = await VoucherShop.Open(app);
        var viewer = await Given.Consumer(app.Host, shop.Merchant);
        var other = await Given.Consumer(app.Host, shop.Merchant);
        await shop.CreateVoucher(app, new() { ["discount"] = "100", ["code"] = "REAL-FREE" });
        await shop.CreateVoucher(app, new() { ["discount"] = "30", ["code"] = "REAL-THIRTY" });
        const string home = "198.51.100.1";

        // Right codes never count: a customer checking a price again and again is not limited.
        Assert.Equal(201, (await Post(app.Host, viewer.AccessToken, home, "/v2/vouchers/redeem", Code("REAL-FREE", shop.Fee))).Status);
        for (var i = 0; i < 15; i++)
            Assert.Equal(200, (await Post(app.Host, viewer.AccessToken, home, "/vouchers/discount", Code("real-thirty", shop.Fee))).Status);

        // Ten unknown codes through every door (redeem, discount price, the four checkout paths), then everything is a 429.
        var start = app.Clock.GetUtcNow();
        await WrongCodes(app.Host, shop, viewer, home, 10);
        Assert.Equal(10, await Count("select count(*) from vouchers.code_guesses where consumer_id = @Id", new { viewer.Id }));
        app.Clock.Advance(TimeSpan.FromMinutes(4));
        var limited = await Post(app.Host, viewer.AccessToken, home, "/v2/vouchers/redeem", Code("REAL-FREE", shop.OtherFee), "retry-me");
        Assert.Equal((429, "360"), (limited.Status, limited.RetryAfter));
        limited.Body.GetRawText().MatchSnapshot("limited");
        foreach (var (path, form) in new[]
                 {
                     ("/vouchers/discount", Code("REAL-THIRTY", shop.Fee)),
                     ("/payments", PaymentShop.CardForm(shop.Fee, extra: new() { ["voucher_code"] = "REAL-THIRTY" })),
                     ("/v2/subscriptions", PaymentShop.CardForm(shop.SubscriptionFee, extra: new() { ["voucher_code"] = "REAL-THIRTY" })),
                     ("/v2/vouchers/redeem", Code("ANOTHER-GUESS", shop.Fee)),
                 })
            Assert.Equal(429, (await Post(app.Host, viewer.AccessToken, home, path, form)).Status);
        // Refused attempts are not guesses: the wait does not grow.
        Assert.Equal(10, await Count("select count(*) from vouchers.code_guesses where consumer_id = @Id", new { viewer.Id }));
        // Buying without a code is not limited.
        Assert.Equal(200, (await Post(app.Host, viewer.AccessToken, home, "/payments", PaymentShop.CardForm(shop.OtherFee))).Status);

        // The limit is the viewer's wherever they are; another viewer elsewhere is unaffected, wrong codes and right.
        Assert.Equal(429, (await Post(app.Host, viewer.AccessToken, "203.0.113.9", "/v2/vouchers/redeem", Code("REAL-FREE", shop.OtherFee))).Status);
        await WrongCodes(app.Host, shop, other, "198.51.100.2", 3);
        Assert.Equal(201, (await Post(app.Host, other.AccessToken, "198.51.100.2", "/v2/vouchers/redeem", Code("REAL-FREE", shop.Fee))).Status);

        // Retry-After is exact: one second before the ten guesses leave the window it is still 429, then the code works,
        // and the idempotency key of the refused attempt was not spent on the 429.
        app.Clock.SetUtcNow(start + VoucherGuesses.Window - TimeSpan.FromSeconds(1));
        Assert.Equal("1", (await Post(app.Host, viewer.AccessToken, home, "/v2/vouchers/redeem", Code("REAL-FREE", shop.OtherFee))).RetryAfter);
        app.Clock.Advance(TimeSpan.FromSeconds(1));
        var redeemed = await Post(app.Host, viewer.AccessToken, home, "/v2/vouchers/redeem", Code("REAL-FREE", shop.OtherFee), "retry-me");
        Assert.Equal(201, redeemed.Status);
        Assert.Equal(402, (await Post(app.Host, viewer.AccessToken, home, "/v2/vouchers/redeem", Code("STILL-WRONG", shop.Fee))).Status);
    }

    [Fact]
    public async Task Thirty_unknown_codes_from_one_address_stop_every_viewer_there()
    {
        var shop = await VoucherShop.Open(app);
        await shop.CreateVoucher(app, new() { ["discount"] = "100", ["code"] = "REAL-FREE" });
        var viewers = new List<TestConsumer>();
        for (var i = 0; i < 5; i++) viewers.Add(await Given.Consumer(app.Host, shop.Merchant));
        const string cafe = "192.0.2.50";

        // Three viewers behind one address use up its 30 (each under their own 10).
        for (var i = 0; i < 3; i++) await WrongCodes(app.Host, shop, viewers[i], cafe, 10);
        var limited = await Post(app.Host, viewers[3].AccessToken, cafe, "/v2/vouchers/redeem", Code("REAL-FREE", shop.Fee));
        Assert.Equal((429, "Too many unknown voucher codes from your address; try again in 10 minutes", "600"),
            (limited.Status, limited.Message, limited.RetryAfter));
        // The same viewer from another address, and another viewer elsewhere, are not limited.
        Assert.Equal(201, (await Post(app.Host, viewers[3].AccessToken, "192.0.2.51", "/v2/vouchers/redeem", Code("REAL-FREE", shop.Fee))).Status);
        Assert.Equal(201, (await Post(app.Host, viewers[4].AccessToken, "192.0.2.52", "/v2/vouchers/redeem", Code("REAL-FREE", shop.Fee))).Status);
        // Another merchant's viewers behind the same address guess against their own merchant's count.
        var elsewhere = await VoucherShop.Open(app);
        await WrongCodes(app.Host, elsewhere, await Given.Consumer(app.Host, elsewhere.Merchant), cafe, 1);

        app.Clock.Advance(VoucherGuesses.Window);
        Assert.Equal(201, (await Post(app.Host, viewers[3].AccessToken, cafe, "/v2/vouchers/redeem", Code("REAL-FREE", shop.OtherFee))).Status);
    }

    [Fact]
    public async Task A_merchant_previewing_prices_is_not_limited()
    {
        var shop = await VoucherShop.Open(app);
        for (var i = 0; i < 12; i++)
            Assert.Equal(402, (await Post(app.Host, shop.Token, "192.0.2.60", "/vouchers/discount", Code($"NOPE-{i}", shop.Fee))).Status);
    }

    [Fact]
    public async Task Two_instances_on_one_database_share_the_count_and_concurrent_guesses_cannot_slip_past_it()
    {
        var shop = await VoucherShop.Open(app);
        await shop.CreateVoucher(app, new() { ["discount"] = "100", ["code"] = "REAL-FREE" });
        var viewer = await Given.Consumer(app.Host, shop.Merchant);
        var rusher = await Given.Consumer(app.Host, shop.Merchant);
        await using var second = await AppFixture.StartHost(b => AppFixture.Configure(b, app.ConnectionString, app.Clock, new Dictionary<string, string?>()));

        await WrongCodes(app.Host, shop, viewer, "198.51.100.20", 5);
        await WrongCodes(second, shop, viewer, "198.51.100.21", 5);
        Assert.Equal(429, (await Post(app.Host, viewer.AccessToken, "198.51.100.22", "/v2/vouchers/redeem", Code("REAL-FREE", shop.Fee))).Status);
        Assert.Equal(429, (await Post(second, viewer.AccessToken, "198.51.100.23", "/v2/vouchers/redeem", Code("REAL-FREE", shop.Fee))).Status);

        // 40 guesses at once through both instances: exactly 10 are looked at, the other 30 are refused.
        var rush = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => Task.Run(() =>
            Post(i % 2 == 0 ? app.Host : second, rusher.AccessToken, "198.51.100.30", "/v2/vouchers/redeem", Code($"RUSH-{i:D3}", shop.Fee)))));
        Assert.Equal((10, 30), (rush.Count(a => a.Status == 402), rush.Count(a => a.Status == 429)));
        Assert.Equal(10, await Count("select count(*) from vouchers.code_guesses where consumer_id = @Id", new { rusher.Id }));
    }

    private static Task<IScenarioResult> SignIn(IAlbaHost host, TestMerchant merchant, string email, string password, int status) =>
        PasswordSignIn.Post(host, merchant.Uuid.ToString(), email, password, status);

    [Fact]
    public async Task Eleven_wrong_passwords_lock_the_account_on_every_instance_even_at_once()
    {
        var merchant = await Given.Merchant(app.Db);
        var viewer = await Given.Consumer(app.Host, merchant);
        var rushed = await Given.Consumer(app.Host, merchant);
        await using var second = await AppFixture.StartHost(b => AppFixture.Configure(b, app.ConnectionString, app.Clock, new Dictionary<string, string?>()));

        for (var i = 0; i < 10; i++) await SignIn(i % 2 == 0 ? app.Host : second, merchant, viewer.Email, "wrong-password", 400);
        var locked = await SignIn(app.Host, merchant, viewer.Email, "wrong-password", 429);
        (await locked.ReadAsTextAsync()).MatchSnapshot("locked");
        // The right password too, on the other instance, until the 15 minutes are over.
        await SignIn(second, merchant, viewer.Email, viewer.Password, 429);
        app.Clock.Advance(TimeSpan.FromMinutes(15));
        await SignIn(second, merchant, viewer.Email, viewer.Password, 200);

        // 40 wrong passwords at once through both instances: no more than 10 are checked (each attempt counts itself
        // before its password is checked, so a burst may even lock the account sooner); one by one the rest of the 10.
        var statuses = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => Task.Run(async () =>
            (await (i % 2 == 0 ? app.Host : second).Scenario(x =>
            {
                x.Post.FormData(new Dictionary<string, string>
                {
                    ["grant_type"] = "password", ["client_id"] = merchant.Uuid.ToString(), ["username"] = rushed.Email, ["password"] = $"wrong-{i}",
                }).ToUrl("/accounts/authenticate");
                x.IgnoreStatusCode();
            })).Context.Response.StatusCode)));
        var checkedAtOnce = statuses.Count(s => s == 400);
        Assert.InRange(checkedAtOnce, 0, 10);
        Assert.Equal(40 - checkedAtOnce, statuses.Count(s => s == 429));
        for (var i = checkedAtOnce; i < 10; i++) await SignIn(i % 2 == 0 ? app.Host : second, merchant, rushed.Email, "wrong-again", 400);
        await SignIn(app.Host, merchant, rushed.Email, rushed.Password, 429);
        Assert.Equal(10, await Count("select count(*) from accounts.sign_in_failures where merchant_id = @Id and email = @Email",
            new { merchant.Id, rushed.Email }));
    }
}

public sealed class TightSignInFixture : AppFixture
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["RateLimits:SignInPerMinute"] = "5" };
}

/// <summary>Sign-in calls per client address (RateLimits:SignInPerMinute, in memory, per instance): the limiter answers 429 in the error shape.</summary>
public sealed class SignInAddressLimitTests(TightSignInFixture app) : IClassFixture<TightSignInFixture>
{
    private Task<IScenarioResult> Attempt(string address, int status) =>
        PasswordSignIn.Post(app.Host, Guid.NewGuid().ToString(), "someone@mail.test", "guess-guess", status, address);

    [Fact]
    public async Task The_sixth_attempt_from_one_address_in_a_minute_is_429_and_other_addresses_go_on()
    {
        for (var i = 0; i < 5; i++) await Attempt("198.51.100.70", 400);
        var limited = await Attempt("198.51.100.70", 429);
        Assert.InRange(int.Parse(limited.Context.Response.Headers.RetryAfter.ToString()), 1, 60);
        var body = JsonDocument.Parse(await limited.ReadAsTextAsync()).RootElement;
        Assert.Equal((429, "Too many requests, retry later"), (body.GetProperty("code").GetInt32(), body.GetProperty("message").GetString()));
        await Attempt("198.51.100.71", 400);
    }
}

public sealed class AddressFailuresFixture : AppFixture
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["RateLimits:SignInPerMinute"] = "0", ["RateLimits:SignInFailuresPerAddress"] = "5",
    };
}

/// <summary>
/// Failed sign-ins per client address (RateLimits:SignInFailuresPerAddress, here 5 in 15 minutes), counted in the
/// database across every account and instance: past the limit the address is refused with 429, even with a right
/// password, while other addresses go on.
/// </summary>
public sealed class SignInAddressFailureTests(AddressFailuresFixture app) : IClassFixture<AddressFailuresFixture>
{
    private static Task<IScenarioResult> SignIn(IAlbaHost host, TestMerchant merchant, string address, string email, string password, int status) =>
        PasswordSignIn.Post(host, merchant.Uuid.ToString(), email, password, status, address);

    [Fact]
    public async Task Failures_on_any_accounts_stop_the_address_on_every_instance_for_15_minutes()
    {
        var merchant = await Given.Merchant(app.Db);
        var viewers = new List<TestConsumer>();
        for (var i = 0; i < 6; i++) viewers.Add(await Given.Consumer(app.Host, merchant));
        await using var second = await AppFixture.StartHost(b => AppFixture.Configure(b, app.ConnectionString, app.Clock,
            new Dictionary<string, string?> { ["RateLimits:SignInPerMinute"] = "0", ["RateLimits:SignInFailuresPerAddress"] = "5" }));

        // One wrong password on each of five accounts, through both instances: no account is locked, the address is.
        for (var i = 0; i < 5; i++) await SignIn(i % 2 == 0 ? app.Host : second, merchant, "198.51.100.60", viewers[i].Email, "wrong-password", 400);
        var refused = await SignIn(second, merchant, "198.51.100.60", viewers[5].Email, viewers[5].Password, 429);
        var body = JsonDocument.Parse(await refused.ReadAsTextAsync()).RootElement;
        Assert.Equal((429, "Too many failed sign-in attempts from your address; try again in 15 minutes"),
            (body.GetProperty("code").GetInt32(), body.GetProperty("message").GetString()));
        await SignIn(app.Host, merchant, "198.51.100.60", viewers[0].Email, viewers[0].Password, 429);

        // Another address signs the same viewers in; the refused attempts were not kept, so the window ends on time.
        await SignIn(app.Host, merchant, "198.51.100.61", viewers[5].Email, viewers[5].Password, 200);
        Assert.Equal(5, await app.Db.Scalar<long>("select count(*) from accounts.sign_in_failures where address = '198.51.100.60'"));
        app.Clock.Advance(TimeSpan.FromMinutes(15));
        await SignIn(second, merchant, "198.51.100.60", viewers[5].Email, viewers[5].Password, 200);
    }

    [Fact]
    public async Task The_admin_login_page_says_the_address_is_stopped()
    {
        var merchant = await Given.Merchant(app.Db);
        using var browser = AdminBrowser.Open(app.Host, "198.51.100.62");

        for (var i = 0; i < 5; i++) Assert.Equal(HttpStatusCode.BadRequest, (await browser.Login(merchant.AdminEmail, "wrong-password")).Status);
        var (status, stopped) = await browser.Login(merchant.AdminEmail, merchant.AdminPassword);
        Assert.Equal(HttpStatusCode.TooManyRequests, status);
        Assert.Contains("Too many failed sign-in attempts from your address. Try again in 15 minutes.", stopped);
    }
}

public sealed class ProxiedSignInFixture : AppFixture
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["RateLimits:SignInPerMinute"] = "5", ["Proxies:Trusted"] = "10.0.0.0/8, 192.0.2.7",
    };
}

/// <summary>
/// Behind a load balancer (Proxies:Trusted), the per-address limits count the client that X-Forwarded-For names, not
/// the balancer; from an address not trusted the header is ignored, so a client cannot choose its own address.
/// </summary>
public sealed class TrustedProxyTests(ProxiedSignInFixture app) : IClassFixture<ProxiedSignInFixture>
{
    private Task<IScenarioResult> Attempt(string from, string? forwardedFor, int status) =>
        PasswordSignIn.Post(app.Host, Guid.NewGuid().ToString(), "someone@mail.test", "guess-guess", status, from, forwardedFor);

    [Fact]
    public async Task Clients_behind_trusted_proxies_are_counted_apart_and_the_same_client_alike_through_any_of_them()
    {
        for (var i = 0; i < 5; i++) await Attempt("10.1.2.3", "198.51.100.90", 400);
        await Attempt("10.1.2.3", "198.51.100.90", 429);
        await Attempt("10.200.0.1", "198.51.100.91", 400); // another client through the same balancer goes on
        await Attempt("192.0.2.7", "198.51.100.90", 429); // the first client through the other trusted proxy is still limited
        await Attempt("10.1.2.3", null, 400); // the balancer's own calls count as its address
    }

    [Fact]
    public async Task A_client_not_behind_a_trusted_proxy_cannot_choose_its_address_with_the_header()
    {
        for (var i = 0; i < 5; i++) await Attempt("203.0.113.50", $"198.51.100.{100 + i}", 400);
        await Attempt("203.0.113.50", "198.51.100.199", 429);
    }

    [Fact]
    public async Task Addresses_a_client_wrote_before_the_trusted_proxys_own_are_ignored()
    {
        // The balancer appends the address it saw; whatever the client sent is to its left and is not believed.
        for (var i = 0; i < 5; i++) await Attempt("10.9.9.9", $"203.0.113.{i + 1}, 198.51.100.150", 400);
        await Attempt("10.9.9.9", "203.0.113.77, 198.51.100.150", 429);
    }

    [Theory]
    [InlineData("10.0.0.0/8", "10.0.0.0/8")]
    [InlineData(" 192.0.2.7 , 2001:db8::/32", "192.0.2.7/32,2001:db8::/32")]
    [InlineData("", "")]
    public void The_setting_lists_addresses_and_networks(string setting, string expected) =>
        Assert.Equal(expected, string.Join(",", Gatehouse.Kernel.TrustedProxies.Parse(setting)));

    [Fact]
    public void A_bad_entry_stops_start_up_with_its_name() =>
        Assert.Contains("'proxy.local'", Assert.Throws<InvalidOperationException>(() => Gatehouse.Kernel.TrustedProxies.Parse("10.0.0.0/8,proxy.local")).Message);
}

/// <summary>
/// Every file a merchant downloads (report CSVs, bulk job results and templates, voucher codes) needs the merchant's
/// token: none is a 401, a viewer's a 403, another merchant's a 404; on the admin, the download links send a
/// signed-out browser (or one with only a bearer token) to the login page.
/// </summary>
public sealed class DownloadAccessTests(AppFixture app) : IClassFixture<AppFixture>
{
    private sealed record Files(VoucherShop Shop, TestConsumer Viewer, long Report, long BulkJob, long Voucher);

    private async Task<Files> Seed()
    {
        var shop = await VoucherShop.Open(app);
        var viewer = await Given.Consumer(app.Host, shop.Merchant);
        var voucher = (await shop.CreateVoucher(app, new() { ["discount"] = "50", ["code"] = "HALF-OFF" })).GetProperty("id").GetInt64();
        var report = (await VoucherShop.Send(app, shop.Token, x => x.Post.FormData(new Dictionary<string, string>
        {
            ["type"] = "payments", ["from"] = "2020-01-01", ["to"] = "2040-01-01",
        }).ToUrl("/v2/reports"), 202)).GetProperty("id").GetInt64();
        await app.Host.Services.GetRequiredService<RunReports>().Invoke();

        using var client = app.Host.Server.CreateClient();
        using var content = new MultipartFormDataContent { { new StringContent("grant"), "action" } };
        var file = new ByteArrayContent(Encoding.UTF8.GetBytes($"user_id,item_id,starts_at,expires_at\n{viewer.Id},{shop.Item},{app.Clock.GetUtcNow():yyyy-MM-ddTHH:mm:ssZ},2040-01-01T00:00:00Z\n"));
        file.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
        content.Add(file, "file", "grant.csv");
        using var upload = new HttpRequestMessage(HttpMethod.Post, "/v2/access/bulk") { Content = content };
        upload.Headers.Authorization = new AuthenticationHeaderValue("Bearer", shop.Token);
        var job = JsonDocument.Parse(await (await client.SendAsync(upload)).Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetInt64();
        await app.Host.Services.GetRequiredService<RunBulkJobs>().Invoke();

        // Both finished, so the merchant's own downloads below are the files themselves.
        var until = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var reportStatus = (await VoucherShop.Send(app, shop.Token, x => x.Get.Url($"/v2/reports/{report}"))).GetProperty("status").GetString();
            var jobStatus = (await VoucherShop.Send(app, shop.Token, x => x.Get.Url($"/v2/access/bulk/{job}"))).GetProperty("status").GetString();
            if (reportStatus == "ready" && jobStatus == "completed") break;
            Assert.True(DateTime.UtcNow < until, $"the report is {reportStatus}, the bulk job {jobStatus}");
            await Task.Delay(100);
        }
        return new Files(shop, viewer, report, job, voucher);
    }

    private static string[] ApiDownloads(Files f) =>
    [
        $"/v2/reports/{f.Report}/download",
        $"/v2/access/bulk/{f.BulkJob}/results",
        "/v2/access/bulk/template?action=grant",
        $"/v2/vouchers/{f.Voucher}/codes",
    ];

    [Fact]
    public async Task Every_api_download_needs_the_merchants_own_token()
    {
        var files = await Seed();
        var stranger = await Given.MerchantToken(app.Host, await Given.Merchant(app.Db));
        foreach (var path in ApiDownloads(files))
        {
            foreach (var (token, status) in new[] { ((string?)null, 401), (files.Viewer.AccessToken, 403), ("not-a-token", 401) })
            {
                var refused = await app.Host.Scenario(x =>
                {
                    x.Get.Url(path);
                    if (token is not null) x.WithBearerToken(token);
                    x.StatusCodeShouldBe(status);
                });
                var body = JsonDocument.Parse(await refused.ReadAsTextAsync()).RootElement;
                Assert.Equal(status, body.GetProperty("code").GetInt32());
                Assert.DoesNotContain("text/csv", refused.Context.Response.ContentType ?? "");
            }
            // Another merchant sees none of this merchant's files (the template is the same for everyone).
            if (!path.Contains("template"))
                await app.Host.Scenario(x => { x.Get.Url(path); x.WithBearerToken(stranger); x.StatusCodeShouldBe(404); });
            var own = await app.Host.Scenario(x => { x.Get.Url(path); x.WithBearerToken(files.Shop.Token); x.StatusCodeShouldBe(200); });
            Assert.StartsWith("text/csv", own.Context.Response.ContentType);
        }
    }

    [Fact]
    public async Task The_admin_download_links_send_a_signed_out_browser_to_the_login_page()
    {
        var files = await Seed();
        string[] links =
        [
            $"/admin/reports/{files.Report}/download",
            $"/admin/access/bulk?handler=Results&id={files.BulkJob}",
            "/admin/access/bulk?handler=Template&action=grant",
            $"/admin/promotions/{files.Voucher}?handler=Codes",
            $"/admin/promotions/{files.Voucher}?handler=EmailsTemplate",
        ];
        foreach (var link in links)
            foreach (var token in new[] { null, files.Viewer.AccessToken, files.Shop.Token })
            {
                var result = await app.Host.Scenario(x =>
                {
                    x.Get.Url(link);
                    if (token is not null) x.WithBearerToken(token);
                    x.StatusCodeShouldBe(302);
                });
                Assert.Matches(new Regex(@"/admin/login\?ReturnUrl="), result.Context.Response.Headers.Location.ToString());
            }

        // Signed in as the merchant's admin, each link is the file.
        using var admin = await AdminBrowser.SignIn(app.Host, files.Shop.Merchant);
        foreach (var link in links)
        {
            using var response = await admin.Client.GetAsync(link);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{link}: {(int)response.StatusCode}");
            Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        }
        // Another merchant's admin gets none of them but the templates.
        using var stranger = await AdminBrowser.SignIn(app.Host, await Given.Merchant(app.Db));
        foreach (var link in links.Where(l => !l.Contains("Template")))
            Assert.Equal(HttpStatusCode.NotFound, (await stranger.Client.GetAsync(link)).StatusCode);
    }
}

/// <summary>An HttpClient on the in-memory server that keeps cookies, signed in to the admin as a merchant's admin user.</summary>
/// <summary>A password sign-in through the API, optionally from a client address and with an X-Forwarded-For header.</summary>
internal static class PasswordSignIn
{
    public static Task<IScenarioResult> Post(IAlbaHost host, string clientId, string email, string password, int status,
        string? address = null, string? forwardedFor = null) => host.Scenario(x =>
    {
        x.Post.FormData(new Dictionary<string, string>
        {
            ["grant_type"] = "password", ["client_id"] = clientId, ["username"] = email, ["password"] = password,
        }).ToUrl("/accounts/authenticate");
        if (address is not null) x.ConfigureHttpContext(c => c.Connection.RemoteIpAddress = IPAddress.Parse(address));
        if (forwardedFor is not null) x.WithRequestHeader("X-Forwarded-For", forwardedFor);
        x.StatusCodeShouldBe(status);
    });
}

internal sealed class AdminBrowser : IDisposable
{
    public HttpClient Client { get; }

    private AdminBrowser(HttpClient client) => Client = client;

    /// <summary>A signed-out browser, from the given client address if any.</summary>
    public static AdminBrowser Open(IAlbaHost host, string? address = null) =>
        new(new HttpClient(new CookieHandler(host.Server.CreateHandler(c =>
        {
            if (address is not null) c.Connection.RemoteIpAddress = IPAddress.Parse(address);
        }))) { BaseAddress = new Uri("http://localhost") });

    public static async Task<AdminBrowser> SignIn(IAlbaHost host, TestMerchant merchant)
    {
        var browser = Open(host);
        var (status, _) = await browser.Login(merchant.AdminEmail, merchant.AdminPassword);
        Assert.True(status == HttpStatusCode.Redirect, $"admin sign-in: {(int)status}");
        return browser;
    }

    /// <summary>Fills in and posts the login form; answers the status and the page.</summary>
    public async Task<(HttpStatusCode Status, string Page)> Login(string email, string password)
    {
        var page = await Client.GetStringAsync("/admin/login");
        var token = Regex.Match(page, "name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"").Groups[1].Value;
        using var response = await Client.PostAsync("/admin/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["Email"] = email, ["Password"] = password, ["__RequestVerificationToken"] = token,
        }));
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    public void Dispose() => Client.Dispose();

    private sealed class CookieHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        private readonly CookieContainer _cookies = new();

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var header = _cookies.GetCookieHeader(request.RequestUri!);
            if (header.Length > 0) request.Headers.Add("Cookie", header);
            var response = await base.SendAsync(request, cancellationToken);
            if (response.Headers.TryGetValues("Set-Cookie", out var values))
                foreach (var value in values) _cookies.SetCookies(request.RequestUri!, value);
            return response;
        }
    }
}
