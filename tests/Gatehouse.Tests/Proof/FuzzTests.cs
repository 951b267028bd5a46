using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Dapper;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Tests.Payments;
using Gatehouse.Tests.Vouchers;
using Xunit.Abstractions;

namespace Gatehouse.Tests.Proof;

/// <summary>
/// Walks the OpenAPI document and sends every operation bad input: garbage ids, wrongly typed, oversized, missing and
/// unknown fields, malformed JSON, forms and multipart, wrong content types, query parameters of the wrong type, as each
/// kind of caller. Nothing may answer 5xx, every 4xx must be the API's error shape, and a refused request must change
/// nothing. The sample is drawn with a fixed seed (FUZZ_SEED overrides it), so a failure reproduces.
/// </summary>
public sealed class FuzzTests(AppFixture app, ITestOutputHelper output) : IClassFixture<AppFixture>
{
    private const int DefaultSeed = 20260806;
    /// <summary>Requests per operation at most (its core ones always, then a sample of the rest): keeps the run near a minute.</summary>
    private const int DefaultPerOperation = 150;
    /// <summary>Tokens nobody issued: a wrong signature, alg none, not a JWT, 5,000 characters.</summary>
    private static readonly string[] ForgedTokens =
    [
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIiwicm9sZSI6Im1lcmNoYW50IiwibWlkIjoiMSJ9.Zm9yZ2Vk",
        "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiIxIiwicm9sZSI6Im1lcmNoYW50IiwibWlkIjoiMSIsInNpZCI6IjEifQ.",
        "not-a-jwt", new string('a', 5000),
    ];

    /// <summary>
    /// The tables a request could write: a trigger on each (installed in this test's own database) counts the rows
    /// written, in the writing transaction, so a rollback counts nothing and an update to the same values still counts.
    /// A refused request must leave every count alone. Columns that background work changes on its own (webhook delivery
    /// state, the outbox's fan-out mark) are left out. Not watched on purpose: sign-in failures (a refused password
    /// counts, by design), idempotency keys (a 4xx is stored for replays, by design), delivery messages and attempts,
    /// report chunks, shared secrets.
    /// </summary>
    private static readonly (string Table, string Events)[] Watched =
    [
        .. new[]
        {
            "accounts.merchants", "accounts.admin_users", "accounts.consumers", "accounts.sessions", "access.items", "access.packages",
            "access.package_items", "access.access_fees", "access.passes", "access.pass_changes", "access.bulk_jobs", "access.bulk_rows",
            "vouchers.vouchers", "vouchers.codes", "vouchers.rules", "vouchers.customer_uses", "vouchers.redemptions", "vouchers.code_batches",
            "payments.gateway_settings", "payments.subscriptions", "payments.payments", "payments.test_gateway_cards",
            "payments.test_gateway_charges", "reports.schedules", "reports.reports",
        }.Select(t => (t, "insert or update or delete")),
        ("webhooks.endpoints", "insert or delete or update of url, description, event_types, format, enabled, secret, previous_secret"),
        ("kernel.outbox", "insert or delete"),
    ];

    /// <summary>What a declined card records: the failed payment (and subscription), the gateway's charge, the event.</summary>
    private static readonly string[] DeclineWrites =
        ["payments.payments", "payments.subscriptions", "payments.test_gateway_charges", "payments.test_gateway_cards", "kernel.outbox"];

    private static readonly string InstallCounters =
        """
        create table public.fuzz_writes (tbl text primary key, n bigint not null);
        create function public.fuzz_count() returns trigger language plpgsql as $$
        begin
            insert into public.fuzz_writes as w (tbl, n) values (tg_table_schema || '.' || tg_table_name, 1)
            on conflict (tbl) do update set n = w.n + 1;
            return null;
        end $$;
        """
        + string.Concat(Watched.Select(w => $"create trigger fuzz_count after {w.Events} on {w.Table} for each row execute function public.fuzz_count();\n"));

    /// <summary>Background work still running (bulk jobs, code batches, reports), then each watched table's count of rows written.</summary>
    private static readonly string FingerprintSql =
        "select array[(select count(*) from access.bulk_jobs where status not in ('completed', 'rejected', 'failed'))"
        + " + (select count(*) from vouchers.code_batches where status in ('queued', 'generating'))"
        + " + (select count(*) from reports.reports where status in ('queued', 'running'))"
        + string.Concat(Watched.Select(w => $", coalesce((select n from public.fuzz_writes where tbl = '{w.Table}'), 0)"))
        + "]::text[]";

    private readonly List<string> _findings = [];
    private readonly SortedDictionary<int, int> _byStatus = [];
    private readonly Dictionary<string, int> _perOperation = [];
    private readonly Dictionary<string, TimeSpan> _timePerOperation = [];
    private string[] _fingerprint = [];
    private int _sent;
    private int _writes;
    private readonly Stopwatch _checking = new();

    [Fact]
    public async Task Every_operation_survives_bad_input_in_the_error_shape_and_refusals_write_nothing()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("FUZZ_SEED"), out var s) ? s : DefaultSeed;
        // FUZZ_PER_OPERATION=100000 sends every request of every pool (18,000 or so: about a minute on 2 cores).
        var perOperation = int.TryParse(Environment.GetEnvironmentVariable("FUZZ_PER_OPERATION"), out var n) ? n : DefaultPerOperation;
        var clock = Stopwatch.StartNew();
        var (world, merchantToken, viewerToken) = await Setup();
        var setupTime = clock.Elapsed;

        using var client = app.Host.Server.CreateClient();
        client.Timeout = TimeSpan.FromSeconds(30);
        using var document = JsonDocument.Parse(await client.GetStringAsync("/openapi/v1.json"));
        var operations = ApiOperation.Read(document.RootElement);
        // Deletions after everything that reads the rows they delete, signing out last of all (it ends the tokens).
        var ordered = operations.OrderBy(o => o.Path == "/accounts/logout" ? 2 : o.Method == "DELETE" ? 1 : 0).ToList();

        await using (var connection = await app.Db.OpenConnectionAsync())
            await connection.ExecuteAsync(InstallCounters);
        _fingerprint = await Settled();
        foreach (var op in ordered)
        {
            var started = clock.Elapsed;
            var random = new Random(seed ^ StableHash(op.Key));
            var inputs = new FuzzInputs(op, world, random);
            var url = inputs.RealPath() + (op.Query.Count > 0 ? "?" + inputs.PlausibleQuery() : "");
            var (body, type) = inputs.PlausibleContent();

            // Which callers the operation is for: those a plausible request does not turn away with 401 or 403.
            var accepted = new List<Who>();
            foreach (var who in Enum.GetValues<Who>())
            {
                var status = await Run(client, op, new FuzzRequest("plausible", who, url, body, type), merchantToken, viewerToken);
                if (who is not Who.Forged && status is not (401 or 403)) accepted.Add(who);
            }
            if (accepted.Count == 0) accepted.Add(Who.Merchant);

            var core = inputs.Core().ToList();
            var sample = inputs.Pool().OrderBy(_ => random.Next()).Take(Math.Max(0, perOperation - 4 - core.Count));
            foreach (var (label, caseUrl, caseBody, caseType, key) in core.Concat(sample))
            {
                // Mostly the callers it is for; now and then anyone, so refusals of the wrong caller get bad input too.
                var who = random.Next(10) == 0 ? Enum.GetValues<Who>()[random.Next(4)] : accepted[random.Next(accepted.Count)];
                // A quarter carry a fresh Idempotency-Key, which reads (and stores) the body before the route does.
                var idempotencyKey = key ?? (op.IdempotencyKey && random.Next(4) == 0 ? $"fuzz-{_sent}" : null);
                await Run(client, op, new FuzzRequest(label, who, caseUrl, caseBody, caseType, idempotencyKey), merchantToken, viewerToken);
            }
            _timePerOperation[op.Key] = clock.Elapsed - started;
        }

        output.WriteLine($"seed {seed}, at most {perOperation} requests per operation; setup {setupTime.TotalSeconds:0.0} s, fuzzing {(clock.Elapsed - setupTime).TotalSeconds:0.0} s");
        output.WriteLine($"time in the write checks: {_checking.Elapsed.TotalSeconds:0.0} s");
        output.WriteLine($"operations covered: {_perOperation.Count} of {operations.Count} in the document");
        output.WriteLine($"requests sent: {_sent} ({_perOperation.Values.Min()}–{_perOperation.Values.Max()} per operation)");
        output.WriteLine("by status: " + string.Join(", ", _byStatus.Select(p => $"{p.Key}: {p.Value}")));
        output.WriteLine($"requests that wrote to the watched tables (each a success or a declined card): {_writes}");
        output.WriteLine("slowest operations: " + string.Join(", ", _timePerOperation.OrderByDescending(p => p.Value).Take(6)
            .Select(p => $"{p.Key} {p.Value.TotalSeconds:0.0} s")));
        output.WriteLine($"findings: {_findings.Count}");
        foreach (var group in _findings.GroupBy(f => f[..f.IndexOf(" | ", StringComparison.Ordinal)]))
            output.WriteLine($"  {group.Count()} × {group.First()}");
        foreach (var finding in _findings) output.WriteLine("  finding: " + finding);

        Assert.Equal(operations.Select(o => o.Key).Order(), _perOperation.Keys.Order());
        Assert.True(_findings.Count == 0, $"{_findings.Count} findings (seed {seed}):\n" + string.Join('\n', _findings.Take(40)));
    }

    /// <summary>The bad inputs this test found answering 500, each sent on purpose: every one is now a 400 in the error shape.</summary>
    [Theory]
    [InlineData("multipart without a boundary", "item", "multipart/form-data", "title=x", false)]
    [InlineData("multipart cut short", "item", "multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nx", false)]
    [InlineData("multipart cut short, with an Idempotency-Key", "item", "multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nx", true)]
    [InlineData("NUL in a multipart value", "item", "multipart/form-data; boundary=b",
        "--b\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nx\r\n--b\r\nContent-Disposition: form-data; name=\"item_type\"\r\n\r\nvideo\r\n"
        + "--b\r\nContent-Disposition: form-data; name=\"content\"\r\n\r\na\0b\r\n--b--\r\n", false)]
    [InlineData("NUL in a form value", "item", "application/x-www-form-urlencoded", "title=x&item_type=video&content=a%00b", false)]
    [InlineData("over 1,024 form fields", "item", "application/x-www-form-urlencoded", "", false)]
    [InlineData("a JSON field twice", "rule", "application/json", "{\"value\":\"1\",\"value\":\"2\"}", false)]
    [InlineData("a lone surrogate", "rule", "application/json", "{\"value\":\"\\ud800\"}", false)]
    [InlineData("a lone surrogate in a field name", "rule", "application/json", "{\"\\udc00\":1}", false)]
    [InlineData("NUL in a JSON string", "item", "application/json", "{\"title\":\"x\",\"item_type\":\"video\",\"content\":\"a\\u0000b\"}", false)]
    [InlineData("NUL in a metadata key", "item", "application/json", "{\"title\":\"x\",\"item_type\":\"video\",\"metadata\":{\"k\\u0000\":\"v\"}}", false)]
    public async Task Bad_bodies_that_answered_500_are_refused_with_400(string name, string target, string contentType, string body, bool idempotencyKey)
    {
        var merchant = await Given.Merchant(app.Db);
        var token = await Given.MerchantToken(app.Host, merchant);
        var path = "/v2/items";
        if (target == "rule")
        {
            var voucher = await VoucherShop.Send(app, token, x => x.Post.FormData(new Dictionary<string, string>
            {
                ["name"] = "Regression", ["discount"] = "10", ["code"] = "REGRESSION1", ["start_date"] = "2020-01-01",
            }).ToUrl("/v2/vouchers"), 201);
            path = $"/v2/vouchers/{voucher.GetProperty("id").GetInt64()}/rules/assets";
        }
        if (body.Length == 0) body = string.Join('&', Enumerable.Range(0, 2000).Select(i => $"k{i}=v"));
        using var client = app.Host.Server.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body)) };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (idempotencyKey) request.Headers.Add("Idempotency-Key", "fuzz-regression");
        using var response = await client.SendAsync(request);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.True((int)response.StatusCode == 400, $"{name}: {(int)response.StatusCode} {Excerpt(bytes)}");
        Assert.Null(ShapeProblem(400, response.Content.Headers.ContentType?.MediaType, bytes));
    }

    /// <summary>
    /// A NUL sent as a parameter failed its auto-prepared statement's bind and left the pooled connection out of step:
    /// the next valid request on it answered 500 ("Received unexpected backend message DataRow"). NULs are now refused
    /// before any SQL, in bodies and in queries, and valid requests after them succeed.
    /// </summary>
    [Fact]
    public async Task A_NUL_is_refused_before_any_SQL_and_the_next_requests_succeed()
    {
        var merchant = await Given.Merchant(app.Db);
        var token = await Given.MerchantToken(app.Host, merchant);
        for (var round = 0; round < 4; round++)
        {
            await VoucherShop.Send(app, token, x => x.Post.Json(new { title = "x", item_type = "video", content = "a\0b" }).ToUrl("/v2/items"), 400);
            await VoucherShop.Send(app, token, x => x.Get.Url("/v2/items?search=%00"), 400);
            await VoucherShop.Send(app, token, x => x.Post.Json(new { title = $"Round {round}", item_type = "video" }).ToUrl("/v2/items"), 201);
            await VoucherShop.Send(app, token, x => x.Get.Url("/v2/items?search=round"));
        }
    }

    /// <summary>Sends one request and checks what came back; returns the status.</summary>
    private async Task<int> Run(HttpClient client, ApiOperation op, FuzzRequest request, string merchantToken, string viewerToken)
    {
        using var message = new HttpRequestMessage(new HttpMethod(op.Method), request.Url);
        var token = request.Who switch
        {
            Who.Merchant => merchantToken, Who.Viewer => viewerToken, Who.Forged => ForgedTokens[_sent % ForgedTokens.Length], _ => null,
        };
        if (token is not null) message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (request.IdempotencyKey is not null) message.Headers.TryAddWithoutValidation("Idempotency-Key", request.IdempotencyKey);
        if (request.Body is not null)
        {
            message.Content = new ByteArrayContent(request.Body);
            if (request.ContentType is not null) message.Content.Headers.TryAddWithoutValidation("Content-Type", request.ContentType);
        }

        _sent++;
        _perOperation[op.Key] = _perOperation.GetValueOrDefault(op.Key) + 1;
        int status;
        string? mediaType;
        byte[] bytes;
        try
        {
            using var response = await client.SendAsync(message);
            status = (int)response.StatusCode;
            mediaType = response.Content.Headers.ContentType?.MediaType;
            bytes = await response.Content.ReadAsByteArrayAsync();
        }
        catch (InvalidOperationException e) when (request.Url.Split('?')[0].Contains("%00") && e.Message == "The path contains null characters.")
        {
            // A NUL in the path never reaches the app: Kestrel answers a bare 400 before any middleware runs (not
            // customisable: aspnet/KestrelHttpServer#2947), and the in-memory test server refuses to build the request.
            _byStatus[400] = _byStatus.GetValueOrDefault(400) + 1;
            return 400;
        }
        catch (Exception e)
        {
            Finding(op, request, $"threw {e.GetType().Name}", e.Message);
            _fingerprint = await Settled();
            return 0;
        }
        _byStatus[status] = _byStatus.GetValueOrDefault(status) + 1;

        if (status >= 500) Finding(op, request, $"answered {status}", Excerpt(bytes));
        else if (status >= 400 && ShapeProblem(status, mediaType, bytes) is { } problem) Finding(op, request, $"{status} not in the error shape: {problem}", Excerpt(bytes));

        // A refusal writes nothing, except that a declined card records its failed payment (and its event), by design.
        var declined = status == 402 && op.Path is "/payments" or "/v2/payments" or "/subscriptions" or "/v2/subscriptions";
        if (status is >= 400 and < 500)
        {
            var after = await Fingerprint();
            var changed = Watched.Where((w, i) => after[i + 1] != _fingerprint[i + 1] && !(declined && DeclineWrites.Contains(w.Table)))
                .Select(w => w.Table).ToList();
            if (changed.Count > 0) Finding(op, request, $"refused with {status} but wrote to {string.Join(", ", changed)}", Excerpt(bytes));
            else if (declined && !after.AsSpan(1).SequenceEqual(_fingerprint.AsSpan(1))) _writes++;
            _fingerprint = changed.Count > 0 || after[0] != "0" ? await Settled() : after;
        }
        else
        {
            var after = await Settled();
            if (!after.AsSpan(1).SequenceEqual(_fingerprint.AsSpan(1))) _writes++;
            _fingerprint = after;
        }
        return status;
    }

    private void Finding(ApiOperation op, FuzzRequest request, string what, string body) =>
        _findings.Add($"{op.Key} {what} | {request.Describe()} → {body}");

    /// <summary>Null when the body is {code: the status, message: text, errors?: {field: text}}; what is wrong otherwise.</summary>
    private static string? ShapeProblem(int status, string? mediaType, byte[] bytes)
    {
        if (mediaType != "application/json") return $"content type {mediaType ?? "none"}";
        JsonElement root;
        try
        {
            root = JsonDocument.Parse(bytes).RootElement;
        }
        catch (JsonException)
        {
            return "not JSON";
        }
        if (root.ValueKind != JsonValueKind.Object) return "not an object";
        if (!root.TryGetProperty("code", out var code) || code.ValueKind != JsonValueKind.Number || !code.TryGetInt32(out var c) || c != status)
            return "code is not the status";
        if (!root.TryGetProperty("message", out var m) || m.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(m.GetString()))
            return "no message";
        if (root.TryGetProperty("errors", out var errors)
            && (errors.ValueKind != JsonValueKind.Object || errors.EnumerateObject().Any(e => e.Value.ValueKind != JsonValueKind.String)))
            return "errors is not an object of strings";
        return null;
    }

    private static string Excerpt(byte[] bytes)
    {
        var text = Encoding.UTF8.GetString(bytes);
        return text.Length > 300 ? text[..300] + "…" : text;
    }

    private async Task<string[]> Fingerprint()
    {
        _checking.Start();
        try
        {
            await using var connection = await app.Db.OpenConnectionAsync();
            return await connection.QueryFirstOrDefaultAsync<string[]>(FingerprintSql) ?? [];
        }
        finally
        {
            _checking.Stop();
        }
    }

    /// <summary>The fingerprint once background work a successful request started (bulk jobs, code batches, reports) is done.</summary>
    private async Task<string[]> Settled()
    {
        var until = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var fingerprint = await Fingerprint();
            if (fingerprint[0] == "0") return fingerprint;
            if (DateTime.UtcNow > until) throw new TimeoutException("Background work (bulk jobs, code batches, reports) did not finish in 30 s");
            await Task.Delay(50);
        }
    }

    private static string? Find(JsonElement element, string name) => element.ValueKind switch
    {
        JsonValueKind.Object => element.TryGetProperty(name, out var value) ? value.GetString()
            : element.EnumerateObject().Select(p => Find(p.Value, name)).FirstOrDefault(v => v is not null),
        JsonValueKind.Array => element.EnumerateArray().Select(e => Find(e, name)).FirstOrDefault(v => v is not null),
        _ => null,
    };

    /// <summary>FNV-1a: string.GetHashCode differs from run to run.</summary>
    private static int StableHash(string text)
    {
        var hash = 2166136261u;
        foreach (var c in text) hash = (hash ^ c) * 16777619u;
        return (int)hash;
    }

    /// <summary>One of everything for one merchant, made through the API the way a merchant and a viewer make them.</summary>
    private async Task<(FuzzWorld World, string MerchantToken, string ViewerToken)> Setup()
    {
        var payments = await PaymentShop.Open(app);
        var shop = payments.Shop;
        var token = shop.Token;
        var viewer = payments.Viewer;
        var now = app.Clock.GetUtcNow();
        string Iso(TimeSpan offset) => now.Add(offset).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

        async Task<JsonElement> Post(string path, Dictionary<string, string> form, int status, string? as_ = null) =>
            await VoucherShop.Send(app, as_ ?? token, x => x.Post.FormData(form).ToUrl(path), status);
        async Task<JsonElement> Get(string path, string? as_ = null) => await VoucherShop.Send(app, as_ ?? token, x => x.Get.Url(path));

        // The endpoint comes first so the events below become its messages; disabled, they are held, not sent.
        var endpoint = (await Post("/v2/webhooks", new() { ["url"] = "http://127.0.0.1:9/fuzz", ["enabled"] = "false" }, 201)).GetProperty("id").GetInt64();
        var pass = (await Post("/items/access", new()
        {
            ["item_id"] = shop.OtherItem.ToString(), ["consumer_id"] = viewer.Id.ToString(), ["expires_at"] = Iso(TimeSpan.FromDays(3)),
        }, 201)).GetProperty("item_access_id").GetInt64();
        const string code = "FUZZHALF50";
        var voucher = (await shop.CreateVoucher(app, new() { ["discount"] = "50", ["code"] = code })).GetProperty("id").GetInt64();
        var rule = (await Post($"/v2/vouchers/{voucher}/rules/assets", new() { ["value"] = shop.Item.ToString() }, 200)).GetProperty("id").GetInt64();
        var batch = (await Post($"/v2/vouchers/{voucher}/code-batches", new() { ["count"] = "3" }, 202)).GetProperty("id").GetInt64();
        var payment = (await payments.Pay(app, PaymentShop.CardForm(shop.Fee))).GetProperty("payment_id").GetInt64();
        await payments.Pay(app, PaymentShop.CardForm(shop.OtherFee, extra: new() { ["is_gift"] = "true", ["receiver_email"] = "friend@mail.test" }));
        var gift = (await Get("/vouchers/gifts")).GetProperty("collection")[0].GetProperty("id").GetInt64();
        var subscription = (await payments.Pay(app, PaymentShop.CardForm(shop.SubscriptionFee), path: "/subscriptions"))
            .GetProperty("subscription_id").GetInt64();
        var cancelToken = Find(await Get($"/subscriptions/{subscription}", viewer.AccessToken), "cancel_token")
            ?? throw new InvalidOperationException("The subscription shows no cancel_token");
        var report = (await Post("/v2/reports", new() { ["type"] = "access", ["from"] = "2020-01-01", ["to"] = Iso(TimeSpan.FromDays(1)) }, 202))
            .GetProperty("id").GetInt64();
        var schedule = (await Post("/v2/reports/schedules", new()
        {
            ["name"] = "Fuzz", ["type"] = "access", ["kind"] = "once", ["run_at"] = Iso(TimeSpan.FromDays(1)),
            ["data_from"] = "2020-01-01", ["data_to"] = Iso(TimeSpan.FromDays(1)),
        }, 201)).GetProperty("id").GetInt64();

        using var client = app.Host.Server.CreateClient();
        using var upload = new MultipartFormDataContent
        {
            { new StringContent("grant"), "action" }, { new StringContent("true"), "dry_run" },
            { new ByteArrayContent(Encoding.UTF8.GetBytes(
                $"user_id,item_id,starts_at,expires_at\n{viewer.Id},{shop.Item},{Iso(TimeSpan.FromHours(1))},{Iso(TimeSpan.FromDays(10))}\n")), "file", "access.csv" },
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v2/access/bulk") { Content = upload };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var uploaded = await client.SendAsync(request);
        var bulkJob = JsonDocument.Parse(await uploaded.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetInt64();

        // Held messages appear once the dispatcher has fanned the events out.
        var until = DateTime.UtcNow.AddSeconds(30);
        JsonElement messages;
        while ((messages = (await Get("/v2/webhooks/messages")).GetProperty("collection")).GetArrayLength() == 0)
        {
            if (DateTime.UtcNow > until) throw new TimeoutException("No webhook message was recorded");
            await Task.Delay(100);
        }
        var message = messages[0].GetProperty("id").GetInt64();

        return (new FuzzWorld(shop.Merchant.Uuid, viewer.Email, viewer.Id, shop.Item, shop.Package, shop.Fee, shop.SubscriptionFee, pass,
            voucher, code, rule, batch, gift, payment, subscription, cancelToken, endpoint, message, report, schedule, bulkJob, now),
            token, viewer.AccessToken);
    }
}
