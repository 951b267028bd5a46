using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Dapper;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Tests.Payments;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace Gatehouse.Tests.Proof;

/// <summary>An answer as it came over HTTP: status, body text and content type.</summary>
public sealed record Answer(int Status, string Body, string? ContentType, bool Replayed)
{
    public JsonElement Json => JsonDocument.Parse(Body).RootElement.Clone();
}

/// <summary>
/// Two merchants for the tenant isolation tests, built through the API as their back ends and paywalls call it (over any
/// HttpClient: the in-memory host's, or a real port's for the browser). Merchant A has one of everything: assets, a package,
/// ppv and subscription price options, two viewers, passes (granted, bought, redeemed, bulk), a discount voucher with rules and
/// a code batch, an access voucher, a gift voucher, a payment and a subscription through the test gateway, an endpoint that
/// received its messages and a disabled one holding them, a bulk job, a report and a schedule. Merchant B has its own token,
/// viewer, asset, package, voucher and endpoint.
/// Every private string of A contains <see cref="Secret"/> and every string of its public catalog <see cref="Catalog"/>, so a
/// response that shows any row of A is caught by looking for them (and for the tokens and codes A was given, in <see cref="ASecrets"/>).
/// </summary>
public sealed class TenantWorld
{
    public const string Secret = "alphasecret";
    public const string Catalog = "alphatitle";

    public sealed record Viewer(long Id, string Email, string Password, string Token, string RefreshToken);

    public sealed class MerchantA
    {
        public required TestMerchant Merchant { get; init; }
        public required string Token { get; init; }
        public required long Item { get; init; }
        public required long OtherItem { get; init; }
        public required long ThirdItem { get; init; }
        public required long Package { get; init; }
        public required long PpvFee { get; init; }
        public required long OtherFee { get; init; }
        public required long ThirdFee { get; init; }
        public required long PackageFee { get; init; }
        public required long SubscriptionFee { get; init; }
        public required Viewer V1 { get; init; }
        public required Viewer V2 { get; init; }
        public required long GrantedPass { get; init; }
        public required long PaidPass { get; init; }
        public required long VoucherPass { get; init; }
        public required long Voucher { get; init; }
        public required string VoucherCode { get; init; }
        public required long Rule { get; init; }
        public required long AccessVoucher { get; init; }
        public required string AccessVoucherCode { get; init; }
        public required long Batch { get; init; }
        public required long Gift { get; init; }
        public required long Payment { get; init; }
        public required long Subscription { get; init; }
        public required string CancelToken { get; init; }
        public required long Endpoint { get; init; }
        public required long HeldEndpoint { get; init; }
        public required long DeliveredMessage { get; init; }
        public required long HeldMessage { get; init; }
        public required long BulkJob { get; init; }
        public required long Report { get; init; }
        public required long Schedule { get; init; }
    }

    public sealed class MerchantB
    {
        public required TestMerchant Merchant { get; init; }
        public required string Token { get; init; }
        public required long Item { get; init; }
        public required long Fee { get; init; }
        public required long Package { get; init; }
        public required long Voucher { get; init; }
        public required string VoucherCode { get; init; }
        public required long Rule { get; init; }
        public required long Endpoint { get; init; }
        public required Viewer Viewer { get; init; }
    }

    public required MerchantA A { get; init; }
    public required MerchantB B { get; init; }

    /// <summary>What A was given that carries no marker: its uuid, tokens, gift code, transaction token, signing secrets.</summary>
    public required IReadOnlyList<string> ASecrets { get; init; }

    /// <summary>The strings of A that no answer to B may show (public catalog reads may show the catalog's).</summary>
    public IEnumerable<string> Leaks(string body, bool publicCatalog = false)
    {
        if (body.Contains(Secret, StringComparison.OrdinalIgnoreCase)) yield return Secret;
        if (!publicCatalog && body.Contains(Catalog, StringComparison.OrdinalIgnoreCase)) yield return Catalog;
        if (!publicCatalog && body.Contains(A.Merchant.Uuid.ToString(), StringComparison.OrdinalIgnoreCase)) yield return "A's uuid";
        foreach (var secret in ASecrets.Where(s => body.Contains(s, StringComparison.OrdinalIgnoreCase))) yield return secret;
    }

    // ---- HTTP ----

    public static async Task<Answer> Call(HttpClient http, HttpMethod method, string path, string? token, HttpContent? content = null,
        string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (idempotencyKey is not null) request.Headers.Add("Idempotency-Key", idempotencyKey);
        using var response = await http.SendAsync(request);
        return new Answer((int)response.StatusCode, await response.Content.ReadAsStringAsync(), response.Content.Headers.ContentType?.MediaType,
            response.Headers.Contains("Idempotent-Replayed"));
    }

    public static FormUrlEncodedContent Form(Dictionary<string, string> fields) => new(fields);

    /// <summary>Sends a form (or nothing) and answers the JSON body, failing with what came back unless the status is <paramref name="expected"/>.</summary>
    public static async Task<JsonElement> Send(HttpClient http, HttpMethod method, string path, string? token, Dictionary<string, string>? form,
        int expected = 200)
    {
        var answer = await Call(http, method, path, token, form is null ? null : Form(form));
        Assert.True(answer.Status == expected, $"{method} {path}: expected {expected}, got {answer.Status} {answer.Body}");
        return answer.Json;
    }

    private static async Task<long> Create(HttpClient http, string path, string token, Dictionary<string, string> form) =>
        (await Send(http, HttpMethod.Post, path, token, form, 201)).GetProperty("id").GetInt64();

    /// <summary>Polls a GET until <paramref name="done"/> holds.</summary>
    private static async Task<JsonElement> Until(HttpClient http, string path, string token, Func<JsonElement, bool> done)
    {
        for (var i = 0; ; i++)
        {
            var body = await Send(http, HttpMethod.Get, path, token, null);
            if (done(body)) return body;
            if (i >= 300) throw new TimeoutException($"GET {path} never got there: {body}");
            await Task.Delay(100);
        }
    }

    public static async Task<string> MerchantToken(HttpClient http, TestMerchant merchant) =>
        (await Send(http, HttpMethod.Post, "/accounts/authenticate", null, new()
        {
            ["grant_type"] = "client_credentials", ["client_id"] = merchant.Uuid.ToString(), ["client_secret"] = merchant.Secret,
        })).GetProperty("access_token").GetString()!;

    public static async Task<Viewer> Register(HttpClient http, TestMerchant merchant, string email, string fullName)
    {
        var body = await Send(http, HttpMethod.Post, "/accounts", null, new()
        {
            ["full_name"] = fullName, ["username"] = email, ["password"] = Given.Password, ["password_confirmation"] = Given.Password,
            ["client_id"] = merchant.Uuid.ToString(), ["type"] = "consumer",
        }, 201);
        return new Viewer(body.GetProperty("account").GetProperty("id").GetInt64(), email, Given.Password,
            body.GetProperty("access_token").GetString()!, body.GetProperty("refresh_token").GetString()!);
    }

    private static Dictionary<string, string> Fee(string type, string amount, string quantity, string period, string description) => new()
    {
        ["access_type"] = type, ["amount"] = amount, ["currency"] = "EUR", ["quantity"] = quantity, ["period"] = period, ["description"] = description,
    };

    private static string Iso(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    // ---- The two merchants ----

    /// <summary>Builds both merchants and waits until nothing of theirs is still on its way (reports, batches, bulk jobs, webhooks).</summary>
    public static async Task<TenantWorld> Build(HttpClient http, NpgsqlDataSource db, FakeTimeProvider clock, string receiverUrl)
    {
        var secrets = new List<string>();
        var a = await BuildA(http, db, clock, receiverUrl, secrets);
        var b = await BuildB(http, db, receiverUrl);
        await Settle(db);
        return new TenantWorld { A = a, B = b, ASecrets = secrets };
    }

    private static async Task<MerchantA> BuildA(HttpClient http, NpgsqlDataSource db, FakeTimeProvider clock, string receiverUrl, List<string> secrets)
    {
        var now = clock.GetUtcNow();
        var merchant = await Given.Merchant(db, "Alphasecret Media");
        var token = await MerchantToken(http, merchant);
        secrets.AddRange([merchant.Secret, token, merchant.AdminEmail]);

        // The endpoints first, so that every later event is a message of theirs: one receives, the other (disabled) holds.
        var endpoint = await Send(http, HttpMethod.Post, "/v2/webhooks", token, new()
        {
            ["url"] = receiverUrl + "/alphasecret-hook", ["description"] = "Alphasecret hook",
        }, 201);
        var held = await Send(http, HttpMethod.Post, "/v2/webhooks", token, new()
        {
            ["url"] = receiverUrl + "/alphasecret-held", ["description"] = "Alphasecret held hook", ["enabled"] = "false",
        }, 201);
        secrets.AddRange([endpoint.GetProperty("secret").GetString()!, held.GetProperty("secret").GetString()!]);

        var item = await Create(http, "/v2/items", token, new()
        {
            ["title"] = "Alphatitle Cup Final", ["item_type"] = "video", ["content"] = "alphasecret-stream-cup",
        });
        var otherItem = await Create(http, "/v2/items", token, new()
        {
            ["title"] = "Alphatitle Derby", ["item_type"] = "video", ["content"] = "alphasecret-stream-derby",
        });
        // V1's passes are for the first two assets, V2's for the third: neither holds a pass for the other's.
        var thirdItem = await Create(http, "/v2/items", token, new()
        {
            ["title"] = "Alphatitle Highlights", ["item_type"] = "video", ["content"] = "alphasecret-stream-highlights",
        });
        var package = await Create(http, "/v2/items/packages", token, new() { ["title"] = "Alphatitle Season", ["content"] = "Alphatitle season pass" });
        await Send(http, HttpMethod.Post, $"/v2/items/packages/{package}/items", token, new() { ["item_id"] = item.ToString() });
        var ppvFee = await Create(http, $"/v2/items/{item}/access-fees", token, Fee("ppv", "4.99", "2", "day", "Alphatitle two days"));
        var otherFee = await Create(http, $"/v2/items/{otherItem}/access-fees", token, Fee("ppv", "10.00", "2", "day", "Alphatitle derby days"));
        var thirdFee = await Create(http, $"/v2/items/{thirdItem}/access-fees", token, Fee("ppv", "2.00", "1", "day", "Alphatitle highlights day"));
        var packageFee = await Create(http, $"/v2/items/packages/{package}/access-fees", token, Fee("ppv", "20.00", "1", "month", "Alphatitle season month"));
        var subscriptionFee = await Create(http, $"/v2/items/{item}/access-fees", token, Fee("subscription", "9.99", "1", "month", "Alphatitle monthly"));

        var v1 = await Register(http, merchant, "v1@alphasecret.test", "Alphasecret Viewer One");
        var v2 = await Register(http, merchant, "v2@alphasecret.test", "Alphasecret Viewer Two");
        secrets.AddRange([v1.Token, v1.RefreshToken, v2.Token, v2.RefreshToken]);

        var voucher = await Send(http, HttpMethod.Post, "/v2/vouchers", token, new()
        {
            ["name"] = "Alphasecret offer", ["code"] = "ALPHASECRET20", ["discount"] = "20", ["start_date"] = Iso(now.AddDays(-1)),
            ["rules[0][rule_type]"] = "assets", ["rules[0][value]"] = item.ToString(),
            ["rules[1][rule_type]"] = "payment_types", ["rules[1][value]"] = "ppv",
            ["rules[2][rule_type]"] = "emails", ["rules[2][value]"] = v1.Email,
        }, 201);
        var voucherId = voucher.GetProperty("id").GetInt64();
        var accessVoucher = await Send(http, HttpMethod.Post, "/v2/vouchers", token, new()
        {
            ["name"] = "Alphasecret free week", ["code"] = "ALPHASECRETFREE", ["voucher_type"] = "access", ["access_period_quantity"] = "7",
            ["access_period_unit"] = "day", ["start_date"] = Iso(now.AddDays(-1)),
            ["rules[0][rule_type]"] = "emails", ["rules[0][value]"] = v2.Email,
        }, 201);
        var batch = (await Send(http, HttpMethod.Post, $"/v2/vouchers/{voucherId}/code-batches", token, new()
        {
            ["count"] = "5", ["length"] = "8", ["prefix"] = "ALPHASECRETB-",
        }, 202)).GetProperty("id").GetInt64();
        await Until(http, $"/v2/vouchers/{voucherId}/code-batches/{batch}", token, b => b.GetProperty("status").GetString() == "completed");

        var granted = (await Send(http, HttpMethod.Post, "/items/access", token, new()
        {
            ["consumer_id"] = v1.Id.ToString(), ["item_id"] = otherItem.ToString(), ["expires_at"] = Iso(now.AddDays(30)),
        }, 201)).GetProperty("item_access_id").GetInt64();

        var paid = await Send(http, HttpMethod.Post, "/payments", v1.Token,
            PaymentShop.CardForm(ppvFee, extra: new() { ["voucher_code"] = "ALPHASECRET20", ["card_name"] = "Alphasecret Card" }));
        var gift = await Send(http, HttpMethod.Post, "/payments", v1.Token,
            PaymentShop.CardForm(otherFee, extra: new() { ["is_gift"] = "true", ["receiver_email"] = "gift@alphasecret.test" }));
        var subscribed = await Send(http, HttpMethod.Post, "/subscriptions", v1.Token, PaymentShop.CardForm(subscriptionFee));
        var subscription = subscribed.GetProperty("subscription_id").GetInt64();
        var cancelToken = (await Send(http, HttpMethod.Get, $"/subscriptions/{subscription}", v1.Token, null)).GetProperty("cancel_token").GetString()!;
        secrets.AddRange([paid.GetProperty("transaction_token").GetString()!, gift.GetProperty("transaction_token").GetString()!,
            subscribed.GetProperty("transaction_token").GetString()!, gift.GetProperty("gift").GetProperty("code").GetString()!, cancelToken]);

        var redeemed = await Send(http, HttpMethod.Post, "/v2/vouchers/redeem", v2.Token, new()
        {
            ["voucher_code"] = "ALPHASECRETFREE", ["access_fee_id"] = thirdFee.ToString(),
        }, 201);

        var csv = $"user_id,item_id,starts_at,expires_at\n{v2.Id},{thirdItem},{Iso(now)},{Iso(now.AddDays(10))}\n";
        var job = await Upload(http, token, "grant", "alphasecret-bulk.csv", csv);
        await Until(http, $"/v2/access/bulk/{job}", token, j => j.GetProperty("status").GetString() == "completed");

        var report = (await Send(http, HttpMethod.Post, "/v2/reports", token, new()
        {
            ["name"] = "Alphasecret access report", ["type"] = "access", ["from"] = Iso(now.AddDays(-1)), ["to"] = Iso(now.AddDays(1)),
        }, 202)).GetProperty("id").GetInt64();
        await Until(http, $"/v2/reports/{report}", token, r => r.GetProperty("status").GetString() == "ready");
        var schedule = await Create(http, "/v2/reports/schedules", token, new()
        {
            ["name"] = "Alphasecret schedule", ["type"] = "payments", ["kind"] = "once", ["run_at"] = Iso(now.AddDays(1)),
            ["data_from"] = Iso(now.AddDays(-7)), ["data_to"] = Iso(now),
        });

        var endpointId = endpoint.GetProperty("id").GetInt64();
        var heldId = held.GetProperty("id").GetInt64();
        await Settle(db);
        var delivered = await FirstMessage(db, endpointId, "delivered");
        var heldMessage = await FirstMessage(db, heldId, "held");
        return new MerchantA
        {
            Merchant = merchant, Token = token, Item = item, OtherItem = otherItem, ThirdItem = thirdItem, Package = package, PpvFee = ppvFee, OtherFee = otherFee, ThirdFee = thirdFee,
            PackageFee = packageFee, SubscriptionFee = subscriptionFee, V1 = v1, V2 = v2, GrantedPass = granted,
            PaidPass = paid.GetProperty("item_access_id").GetInt64(), VoucherPass = redeemed.GetProperty("pass").GetProperty("item_access_id").GetInt64(),
            Voucher = voucherId, VoucherCode = "ALPHASECRET20", Rule = voucher.GetProperty("rules")[0].GetProperty("id").GetInt64(),
            AccessVoucher = accessVoucher.GetProperty("id").GetInt64(), AccessVoucherCode = "ALPHASECRETFREE", Batch = batch,
            Gift = gift.GetProperty("gift").GetProperty("id").GetInt64(), Payment = paid.GetProperty("payment_id").GetInt64(),
            Subscription = subscription, CancelToken = cancelToken, Endpoint = endpointId, HeldEndpoint = heldId, DeliveredMessage = delivered,
            HeldMessage = heldMessage, BulkJob = job, Report = report, Schedule = schedule,
        };
    }

    private static async Task<MerchantB> BuildB(HttpClient http, NpgsqlDataSource db, string receiverUrl)
    {
        var merchant = await Given.Merchant(db, "Beta Media");
        var token = await MerchantToken(http, merchant);
        var endpoint = await Create(http, "/v2/webhooks", token, new() { ["url"] = receiverUrl + "/beta-hook", ["description"] = "Beta hook" });
        var item = await Create(http, "/v2/items", token, new() { ["title"] = "Betatitle Match", ["item_type"] = "video", ["content"] = "beta-stream" });
        var fee = await Create(http, $"/v2/items/{item}/access-fees", token, Fee("ppv", "3.00", "1", "day", "Beta day"));
        var package = await Create(http, "/v2/items/packages", token, new() { ["title"] = "Betatitle Pack" });
        await Send(http, HttpMethod.Post, $"/v2/items/packages/{package}/items", token, new() { ["item_id"] = item.ToString() });
        var voucher = await Send(http, HttpMethod.Post, "/v2/vouchers", token, new()
        {
            ["name"] = "Beta offer", ["code"] = "BETA10", ["discount"] = "10", ["start_date"] = "2020-01-01",
            ["rules[0][rule_type]"] = "assets", ["rules[0][value]"] = item.ToString(),
        }, 201);
        var viewer = await Register(http, merchant, "bv@beta.test", "Beta Viewer");
        // B's reports then have a row of B's own to show.
        await Send(http, HttpMethod.Post, "/items/access", token, new()
        {
            ["consumer_id"] = viewer.Id.ToString(), ["item_id"] = item.ToString(), ["expires_at"] = "2099-01-01T00:00:00Z",
        }, 201);
        return new MerchantB
        {
            Merchant = merchant, Token = token, Item = item, Fee = fee, Package = package, Voucher = voucher.GetProperty("id").GetInt64(),
            VoucherCode = "BETA10", Rule = voucher.GetProperty("rules")[0].GetProperty("id").GetInt64(), Endpoint = endpoint, Viewer = viewer,
        };
    }

    public static async Task<long> Upload(HttpClient http, string token, string action, string fileName, string csv)
    {
        using var content = new MultipartFormDataContent
        {
            { new StringContent(action), "action" }, { new StringContent("false"), "dry_run" }, { new StringContent("false"), "apply_valid_rows" },
        };
        var file = new ByteArrayContent(Encoding.UTF8.GetBytes(csv));
        file.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
        content.Add(file, "file", fileName);
        var answer = await Call(http, HttpMethod.Post, "/v2/access/bulk", token, content);
        Assert.True(answer.Status == 202, $"bulk upload: {answer.Status} {answer.Body}");
        return answer.Json.GetProperty("id").GetInt64();
    }

    /// <summary>
    /// Waits until every event is fanned out to the endpoints and no message is queued or on its way: what the dispatcher
    /// does in the background no longer changes the rows the tests compare.
    /// </summary>
    public static async Task Settle(NpgsqlDataSource db)
    {
        for (var i = 0; ; i++)
        {
            await using var connection = await db.OpenConnectionAsync();
            var busy = await connection.ExecuteScalarAsync<long>(
                """
                select (select count(*) from kernel.outbox where fanned_out_at is null)
                     + (select count(*) from webhooks.messages where status in ('pending', 'delivering'))
                     + (select count(*) from reports.reports where status in ('queued', 'running'))
                     + (select count(*) from access.bulk_jobs where status not in ('completed', 'rejected', 'failed'))
                     + (select count(*) from vouchers.code_batches where status not in ('completed', 'failed'))
                """);
            if (busy == 0) return;
            if (i >= 300) throw new TimeoutException($"{busy} events, messages, reports, bulk jobs or code batches are still on their way");
            await Task.Delay(100);
        }
    }

    private static async Task<long> FirstMessage(NpgsqlDataSource db, long endpointId, string status)
    {
        await using var connection = await db.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<long?>(
            "select min(id) from webhooks.messages where endpoint_id = @endpointId and status = @status", new { endpointId, status })
            ?? throw new InvalidOperationException($"endpoint {endpointId} has no {status} message");
    }

    // ---- What A holds ----

    /// <summary>
    /// Every row of the merchant in every table that has a merchant_id (found in the catalog, so a new table is compared
    /// too), and the rows of the tables that hang off them, as JSON text per table. Sign-in failures and voucher code
    /// guesses are left out: a failed sign-in against the merchant's client_id, or an unknown code tried at its checkout,
    /// is recorded there by design (the abuse limits count them), whoever tries.
    /// </summary>
    public static async Task<IReadOnlyDictionary<string, string>> Snapshot(NpgsqlDataSource db, long merchantId)
    {
        await using var connection = await db.OpenConnectionAsync();
        var tables = (await connection.QueryAsync<string>(
            """
            select c.table_schema || '.' || c.table_name from information_schema.columns c
            join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name and t.table_type = 'BASE TABLE'
            where c.column_name = 'merchant_id' and c.table_schema not in ('pg_catalog', 'information_schema')
            order by 1
            """)).Where(t => t is not ("accounts.sign_in_failures" or "vouchers.code_guesses")).ToList();
        Assert.Contains("access.passes", tables);
        var queries = tables.ToDictionary(t => t, t => $"select * from {t} where merchant_id = @merchantId");
        queries["accounts.merchants"] = "select * from accounts.merchants where id = @merchantId";
        queries["access.bulk_rows"] = "select * from access.bulk_rows where job_id in (select id from access.bulk_jobs where merchant_id = @merchantId)";
        queries["webhooks.attempts"] = "select * from webhooks.attempts where message_id in (select id from webhooks.messages where merchant_id = @merchantId)";
        queries["reports.report_chunks"] = "select * from reports.report_chunks where report_id in (select id from reports.reports where merchant_id = @merchantId)";
        var snapshot = new SortedDictionary<string, string>();
        foreach (var (table, query) in queries)
            snapshot[table] = await connection.QueryFirstOrDefaultAsync<string>(
                $"select coalesce(json_agg(r order by r::text), '[]')::text from ({query}) r", new { merchantId }) ?? "[]";
        return snapshot;
    }
}
