using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Dapper;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Tests.Payments;
using Gatehouse.Tests.Webhooks;
using Npgsql;

namespace Gatehouse.Tests.Proof;

/// <summary>
/// Two app processes (the built Release app, each with its own Coravel jobs on the real clock) started at once on one
/// empty database, so they also race on the migrations.
/// </summary>
public sealed class TwoProcessesFixture : IAsyncLifetime
{
    public string ConnectionString { get; private set; } = "";
    public NpgsqlDataSource Db { get; private set; } = null!;
    public AppProcess First { get; private set; } = null!;
    public AppProcess Second { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var name = TestDatabase.NameFor("two");
        await using (var admin = new NpgsqlConnection(TestDatabase.For("postgres")))
        {
            await admin.OpenAsync();
            await admin.ExecuteAsync($"create database {name}");
        }
        ConnectionString = TestDatabase.For(name);
        Db = NpgsqlDataSource.Create(ConnectionString);
        var settings = new Dictionary<string, string> { ["Webhooks:AllowPrivateTargets"] = "true" };
        var started = await Task.WhenAll(AppProcess.Start(ConnectionString, settings), AppProcess.Start(ConnectionString, settings));
        (First, Second) = (started[0], started[1]);
    }

    public async Task DisposeAsync()
    {
        if (First is not null) await First.DisposeAsync();
        if (Second is not null) await Second.DisposeAsync();
        await Db.DisposeAsync();
        await TestDatabase.DropAsync(ConnectionString);
    }
}

/// <summary>
/// Everything the background jobs and the usage limit promise, driven through both processes at once: no voucher use
/// beyond its limit, each bulk job applied once, one report per scheduled due time, each rebill charged once, every
/// webhook delivered.
/// </summary>
public sealed class TwoInstanceTests(TwoProcessesFixture two) : IClassFixture<TwoProcessesFixture>, IDisposable
{
    private readonly Api _first = new(two.First.BaseUrl);
    private readonly Api _second = new(two.Second.BaseUrl);

    public void Dispose()
    {
        _first.Dispose();
        _second.Dispose();
    }

    private Api Either(int i) => i % 2 == 0 ? _first : _second;

    private sealed record Viewer(long Id, string Token);

    private sealed record Shop(TestMerchant Merchant, string Token, long Item, long Fee, long MonthlyFee, List<Viewer> Viewers);

    /// <summary>A merchant with an asset, a ppv and a monthly price option, and viewers registered through both instances.</summary>
    private async Task<Shop> Open(int viewers)
    {
        var merchant = await Given.Merchant(two.Db);
        var token = await _first.MerchantToken(merchant);
        var item = await Id(_first, "/v2/items", token, new() { ["title"] = "Final", ["item_type"] = "video", ["content"] = "stream" });
        var fee = await Id(_second, $"/v2/items/{item}/access-fees", token, new()
            { ["access_type"] = "ppv", ["amount"] = "4.99", ["currency"] = "EUR", ["quantity"] = "2", ["period"] = "day", ["description"] = "Two days" });
        var monthly = await Id(_first, $"/v2/items/{item}/access-fees", token, new()
            { ["access_type"] = "subscription", ["amount"] = "9.99", ["currency"] = "EUR", ["quantity"] = "1", ["period"] = "month", ["description"] = "Monthly" });
        var registered = await Task.WhenAll(Enumerable.Range(0, viewers).Select(async i =>
        {
            var account = await Either(i).Send(HttpMethod.Post, "/accounts", null, new()
            {
                ["full_name"] = "Viewer", ["username"] = $"viewer{i}@mail.test", ["password"] = Given.Password, ["password_confirmation"] = Given.Password,
                ["client_id"] = merchant.Uuid.ToString(), ["type"] = "consumer",
            }, HttpStatusCode.Created);
            return new Viewer(account.GetProperty("account").GetProperty("id").GetInt64(), account.GetProperty("access_token").GetString()!);
        }));
        return new Shop(merchant, token, item, fee, monthly, registered.ToList());
    }

    private static async Task<long> Id(Api api, string path, string token, Dictionary<string, string> form) =>
        (await api.Send(HttpMethod.Post, path, token, form, HttpStatusCode.Created)).GetProperty("id").GetInt64();

    private static async Task<(int Status, string Body)> Raw(Api api, HttpMethod method, string path, string token, HttpContent? content = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await api.Http.SendAsync(request);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private Task<long> Count(string sql, object? args = null) => two.Db.Scalar<long>(sql, args);

    private async Task<List<T>> Query<T>(string sql, object? args = null)
    {
        await using var connection = await two.Db.OpenConnectionAsync();
        return (await connection.QueryAsync<T>(sql, args)).ToList();
    }

    /// <summary>Polls until <paramref name="done"/> holds, or fails saying what it waited for.</summary>
    private static async Task WaitUntil(Func<Task<bool>> done, int seconds, string what)
    {
        var until = DateTime.UtcNow.AddSeconds(seconds);
        while (!await done())
        {
            Assert.True(DateTime.UtcNow < until, $"{what} did not happen within {seconds} s");
            await Task.Delay(200);
        }
    }

    [Fact]
    public async Task Five_hundred_redemptions_at_once_through_both_processes_take_exactly_the_fifty_uses_of_the_limit()
    {
        var shop = await Open(viewers: 10);
        var voucher = await Id(_first, "/v2/vouchers", shop.Token, new()
        {
            ["name"] = "Rush", ["voucher_type"] = "access", ["code"] = "RUSH-FIFTY", ["usage_limit"] = "50", ["access_period_quantity"] = "1",
            ["access_period_unit"] = "day", ["start_date"] = DateTimeOffset.UtcNow.AddDays(-1).ToString("o"),
        });

        var answers = await Task.WhenAll(Enumerable.Range(0, 500).Select(i => Task.Run(() =>
            Raw(Either(i), HttpMethod.Post, "/v2/vouchers/redeem", shop.Viewers[i % shop.Viewers.Count].Token,
                new FormUrlEncodedContent(new Dictionary<string, string> { ["voucher_code"] = "rush-fifty", ["access_fee_id"] = shop.Fee.ToString() })))));

        Assert.Equal(50, answers.Count(a => a.Status == 201));
        var refused = answers.Where(a => a.Status != 201).ToList();
        Assert.Equal(450, refused.Count);
        Assert.All(refused, a =>
        {
            Assert.Equal(402, a.Status);
            var error = JsonDocument.Parse(a.Body).RootElement;
            Assert.Equal((402, "This voucher has been used up"), (error.GetProperty("code").GetInt32(), error.GetProperty("message").GetString()));
        });
        var args = new { shop.Merchant.Id, voucher };
        Assert.Equal(50, await Count("select usage_counter from vouchers.vouchers where id = @voucher", args));
        Assert.Equal(50, await Count("select count(*) from vouchers.redemptions where voucher_id = @voucher", args));
        Assert.Equal(50, await Count("select count(distinct pass_id) from vouchers.redemptions where voucher_id = @voucher", args));
        Assert.Equal(50, await Count("select count(*) from access.passes where merchant_id = @Id and type = 'access-voucher'", args));
        Assert.Equal(50, await Count("select count(*) from kernel.outbox where merchant_id = @Id and type = 'voucher.redeemed'", args));
    }

    [Fact]
    public async Task Bulk_jobs_uploaded_to_both_processes_at_once_are_each_applied_once()
    {
        var shop = await Open(viewers: 10);
        var items = new List<long>();
        for (var i = 0; i < 35; i++) items.Add(await Id(Either(i), "/v2/items", shop.Token, new() { ["title"] = $"Asset {i}", ["item_type"] = "video" }));
        var starts = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ");
        var expires = DateTimeOffset.UtcNow.AddDays(30).ToString("yyyy-MM-ddTHH:mm:ssZ");
        // Seven files of 50 rows, each on its own five assets; the last one is sent to both processes at the same moment.
        var files = Enumerable.Range(0, 7).Select(f =>
        {
            var csv = new StringBuilder("user_id,item_id,starts_at,expires_at\n");
            foreach (var item in items.Skip(f * 5).Take(5))
                foreach (var viewer in shop.Viewers)
                    csv.Append($"{viewer.Id},{item},{starts},{expires}\n");
            return Encoding.UTF8.GetBytes(csv.ToString());
        }).ToList();
        Task<(int Status, string Body)> Upload(Api api, byte[] file, int n)
        {
            var content = new MultipartFormDataContent { { new StringContent("grant"), "action" } };
            var part = new ByteArrayContent(file);
            part.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
            content.Add(part, "file", $"grant-{n}.csv");
            return Raw(api, HttpMethod.Post, "/v2/access/bulk", shop.Token, content);
        }

        var uploads = await Task.WhenAll(files.Select((file, n) => Upload(Either(n), file, n)).Append(Upload(_second, files[6], 7)));
        var accepted = uploads.Where(u => u.Status == 202).Select(u => JsonDocument.Parse(u.Body).RootElement.GetProperty("id").GetInt64()).ToList();
        Assert.Equal(7, accepted.Count);
        var conflict = Assert.Single(uploads, u => u.Status != 202);
        Assert.Equal(409, conflict.Status);

        var args = new { shop.Merchant.Id };
        await WaitUntil(async () => await Count("select count(*) from access.bulk_jobs where merchant_id = @Id and status = 'completed'", args) == 7,
            60, "seven completed bulk jobs");
        foreach (var id in accepted)
        {
            var job = await Either((int)id).Send(HttpMethod.Get, $"/v2/access/bulk/{id}", shop.Token, null, HttpStatusCode.OK);
            Assert.Equal(("completed", 50, 50, 0, 0), (job.GetProperty("status").GetString(), job.GetProperty("total_rows").GetInt32(),
                job.GetProperty("applied_rows").GetInt32(), job.GetProperty("skipped_rows").GetInt32(), job.GetProperty("error_rows").GetInt32()));
        }
        Assert.Equal(350, await Count("select count(*) from access.passes where merchant_id = @Id and source = 'bulk'", args));
        Assert.Equal(350, await Count("select count(distinct (consumer_id, item_id)) from access.passes where merchant_id = @Id and source = 'bulk'", args));
        // The audit of a bulk grant is its job: each job granted its own 50 passes, and a pass's changes name the job's upload.
        var perJob = await Query<(long Job, long Passes)>(
            "select source_id, count(*) from access.passes where merchant_id = @Id and source = 'bulk' group by source_id", args);
        Assert.Equal(accepted.Order(), perJob.Select(j => j.Job).Order());
        Assert.All(perJob, j => Assert.Equal(50, j.Passes));
        var pass = await Count("select min(id) from access.passes where merchant_id = @Id and source = 'bulk'", args);
        var changes = await _second.Send(HttpMethod.Get, $"/v2/access/{pass}/changes", shop.Token, null, HttpStatusCode.OK);
        Assert.Equal("granted", Assert.Single(changes.EnumerateArray()).GetProperty("action").GetString());
        Assert.Equal(350, await Count("select count(*) from kernel.outbox where merchant_id = @Id and type = 'asset.access.granted'", args));
        Assert.Equal(7, await Count("select count(*) from kernel.outbox where merchant_id = @Id and type = 'bulk.job.completed'", args));
    }

    private sealed record ScheduleRuns(long Id, int Runs, long Reports, long Ready, long Due);

    [Fact]
    public async Task Schedules_due_now_get_one_report_per_due_time_whichever_process_runs_them()
    {
        var shop = await Open(viewers: 0);
        // Due a few seconds from now: both processes' RunSchedules (every 10 s, not in step) find them due.
        var runAt = DateTimeOffset.UtcNow.AddSeconds(3).ToString("O");
        for (var i = 0; i < 6; i++)
        {
            var form = new Dictionary<string, string> { ["name"] = $"Schedule {i}", ["type"] = i % 3 == 0 ? "access" : "payments", ["run_at"] = runAt };
            if (i % 2 == 0) (form["kind"], form["data_from"], form["data_to"]) = ("once", "2020-01-01", "2030-01-01");
            else (form["kind"], form["repeat_every"], form["repeat_unit"], form["data_last"], form["data_unit"]) = ("recurring", "1", "day", "1", "day");
            await Either(i).Send(HttpMethod.Post, "/v2/reports/schedules", shop.Token, form, HttpStatusCode.Created);
        }

        var args = new { shop.Merchant.Id };
        await WaitUntil(async () => await Count("select count(*) from reports.reports where merchant_id = @Id and status = 'ready'", args) >= 6,
            60, "six scheduled reports");
        // Both processes tick at least once more: nothing is queued again.
        await Task.Delay(TimeSpan.FromSeconds(11));

        var schedules = await Query<ScheduleRuns>(
            """
            select s.id, s.runs, count(r.id) as reports, count(r.id) filter (where r.status = 'ready') as ready, count(distinct r.due_at) as due
            from reports.schedules s left join reports.reports r on r.schedule_id = s.id
            where s.merchant_id = @Id group by s.id
            """, args);
        Assert.Equal(6, schedules.Count);
        Assert.All(schedules, s => Assert.Equal((1, 1L, 1L, 1L), (s.Runs, s.Reports, s.Ready, s.Due)));
        Assert.Equal(6, await Count("select count(*) from kernel.outbox where merchant_id = @Id and type = 'report.ready'", args));
        Assert.Equal(6, await Count("select count(distinct payload->>'report_id') from kernel.outbox where merchant_id = @Id and type = 'report.ready'", args));
    }

    [Fact]
    public async Task Due_rebills_are_charged_once_each_with_both_processes_rebill_jobs_running()
    {
        var shop = await Open(viewers: 12);
        await Task.WhenAll(shop.Viewers.Select((viewer, i) => Either(i).Send(HttpMethod.Post, "/v2/subscriptions", viewer.Token,
            PaymentShop.CardForm(shop.MonthlyFee, extra: new() { ["access_fee_id"] = shop.MonthlyFee.ToString() }), HttpStatusCode.OK)));
        var args = new { shop.Merchant.Id };
        Assert.Equal(12, await Count("select count(*) from payments.subscriptions where merchant_id = @Id and status = 'active'", args));

        // All due now: both processes' rebill jobs (every 5 s) find them.
        await using (var connection = await two.Db.OpenConnectionAsync())
            await connection.ExecuteAsync("update payments.subscriptions set next_rebill_at = now() - interval '1 second' where merchant_id = @Id", args);
        await WaitUntil(async () => await Count(
                "select count(*) from payments.payments where merchant_id = @Id and action_type = 'rebill' and status = 'succeeded'", args) >= 12,
            30, "twelve rebills");
        // Both processes tick at least once more: nothing is charged again.
        await Task.Delay(TimeSpan.FromSeconds(6));

        Assert.Equal(12, await Count("select count(*) from payments.payments where merchant_id = @Id and action_type = 'rebill'", args));
        Assert.Equal(12, await Count(
            "select count(distinct subscription_id) from payments.payments where merchant_id = @Id and action_type = 'rebill' and cycle = 1 and attempt = 1", args));
        // The gateway's own books: two charges per card, the subscribe and the one rebill.
        Assert.Equal(12, await Count(
            "select count(*) from payments.test_gateway_charges g join payments.payments p on p.reference = g.reference where p.merchant_id = @Id and p.action_type = 'rebill'", args));
        Assert.Equal(0, await Count(
            "select count(*) from (select card_token from payments.test_gateway_charges where merchant_id = @Id group by card_token having count(*) <> 2) c", args));
        Assert.Equal(12, await Count(
            "select count(*) from payments.subscriptions where merchant_id = @Id and cycle = 1 and pending_payment_id is null and next_rebill_at > now() + interval '25 days'", args));
    }

    [Fact]
    public async Task Every_event_produced_through_both_processes_is_delivered()
    {
        await using var receiver = await Receiver.Start();
        var merchant = await Given.Merchant(two.Db);
        var token = await _first.MerchantToken(merchant);
        await _second.Send(HttpMethod.Post, "/v2/webhooks", token, new() { ["url"] = receiver.Url + "/hooks" }, HttpStatusCode.Created);
        var item = await Id(_first, "/v2/items", token, new() { ["title"] = "Final", ["item_type"] = "video" });

        // Viewers registering and merchant grants, through both at once: customer.registered and asset.access.granted.
        await Task.WhenAll(Enumerable.Range(0, 40).Select(async i =>
        {
            var account = await Either(i).Send(HttpMethod.Post, "/v2/accounts/customers", token, new() { ["email"] = $"fan{i}@mail.test" },
                HttpStatusCode.Created);
            var id = account.GetProperty("id").GetInt64();
            await Either(i + 1).Send(HttpMethod.Post, "/items/access", token, new()
            {
                ["item_id"] = item.ToString(), ["consumer_id"] = id.ToString(), ["expires_at"] = DateTimeOffset.UtcNow.AddDays(3).ToString("o"),
            }, HttpStatusCode.Created);
        }));

        var events = await Query<long>("select id from kernel.outbox where merchant_id = @Id", new { merchant.Id });
        Assert.Equal(80, events.Count);
        var expected = events.Select(id => $"msg_{id}").ToHashSet();
        await receiver.WaitFor(r => r.Select(x => x.WebhookId).ToHashSet().IsSupersetOf(expected), seconds: 30);
        await receiver.Settle(TimeSpan.FromMilliseconds(500));
        Assert.Equal(expected, receiver.Requests.Select(r => r.WebhookId).ToHashSet());
        Assert.Equal(80, await Count(
            "select count(*) from webhooks.messages m join webhooks.endpoints e on e.id = m.endpoint_id where e.merchant_id = @Id and m.status = 'delivered'",
            new { merchant.Id }));
    }
}
