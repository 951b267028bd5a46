using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Tests.Payments;
using Gatehouse.Tests.Webhooks;
using Xunit.Abstractions;

namespace Gatehouse.Tests.Proof;

/// <summary>Merchants A and B (<see cref="TenantWorld"/>) on the in-memory app, with a webhook receiver on a loopback port.</summary>
public sealed class TenantWorldFixture : AppFixture, IAsyncLifetime
{
    private Receiver _receiver = null!;
    public HttpClient Http { get; private set; } = null!;
    public TenantWorld World { get; private set; } = null!;

    public new async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _receiver = await Receiver.Start();
        Http = Host.Server.CreateClient();
        World = await TenantWorld.Build(Http, Db, Clock, _receiver.Url);
    }

    public new async Task DisposeAsync()
    {
        Http.Dispose();
        await _receiver.DisposeAsync();
        await base.DisposeAsync();
    }
}

/// <summary>
/// Tenant isolation through the API. Merchant B's token (and B's viewer's) is sent to every operation of the OpenAPI document
/// with merchant A's ids: each answer is a refusal or an empty list, none shows anything of A's, and none of A's rows changes.
/// An operation that takes no id of another merchant is listed as such (with B's own call still checked for A's rows), and the
/// document's operations must each be one or the other, so a new endpoint cannot slip through. Then viewers: one viewer of A
/// cannot see or touch another's passes, payments or subscriptions, and a viewer of B cannot sign in at A nor read A's content.
/// </summary>
public sealed class TenantIsolationTests(TenantWorldFixture fixture, ITestOutputHelper output) : IClassFixture<TenantWorldFixture>
{
    private TenantWorld W => fixture.World;
    private TenantWorld.MerchantA A => W.A;
    private TenantWorld.MerchantB B => W.B;
    private string BToken => B.Token;
    private string BViewer => B.Viewer.Token;
    private string Future => fixture.Clock.GetUtcNow().AddDays(60).ToString("o");

    /// <summary>One call of an operation. <see cref="Statuses"/> are the answers allowed; a foreign probe sends A's ids.</summary>
    private sealed record Probe(string Operation, string Path, string? Token, Func<HttpContent>? Body, int[] Statuses)
    {
        public bool Foreign { get; init; } = true;
        /// <summary>A public catalog read (InPlayer's, for anyone): it may show A's titles and prices, never A's protected content.</summary>
        public bool PublicCatalog { get; init; }
        /// <summary>A list filtered by A's ids: it must be empty.</summary>
        public bool MustBeEmpty { get; init; }
        /// <summary>A check after the answer (a job B queued, say); answers a problem, or null.</summary>
        public Func<Answer, Task<string?>>? Then { get; init; }
        public HttpMethod Method => new(Operation.Split(' ')[0]);
    }

    private static Probe P(string operation, string path, string? token, Dictionary<string, string>? form, params int[] statuses) =>
        new(operation, path, token, form is null ? null : () => TenantWorld.Form(form), statuses);

    private static Dictionary<string, string> F(params (string Key, object Value)[] fields) =>
        fields.ToDictionary(f => f.Key, f => Convert.ToString(f.Value, System.Globalization.CultureInfo.InvariantCulture)!);

    /// <summary>B's own call of an operation that takes no foreign id: any success, checked for A's rows.</summary>
    private static Probe Own(string operation, string path, string? token, Dictionary<string, string>? form = null, params int[] statuses) =>
        P(operation, path, token, form, statuses.Length > 0 ? statuses : [200, 201, 202, 204]) with { Foreign = false };

    /// <summary>A list filtered by one of A's ids or strings: 200 and empty.</summary>
    private static Probe Empty(string operation, string path, string? token) => P(operation, path, token, null, 200) with { MustBeEmpty = true };

    /// <summary>
    /// The operations that take no id, code or uuid of another tenant (the caller's own account, or a new record of its own), and why.
    /// B's own calls of them are still made (see <see cref="Probes"/>) and checked for A's rows.
    /// </summary>
    private static readonly Dictionary<string, string> NoForeignId = new()
    {
        ["GET /accounts"] = "the token's own account",
        ["PUT /accounts"] = "the token's own account",
        ["GET /accounts/logout"] = "the token's own session",
        ["POST /v2/accounts/customers"] = "creates a viewer of the token's merchant",
        ["POST /v2/items"] = "creates an asset of the token's merchant (the same Idempotency-Key as another merchant's: see its own test)",
        ["GET /v2/items"] = "the merchant's own assets (searched by title)",
        ["POST /v2/items/packages"] = "creates a package of the token's merchant",
        ["GET /v2/items/packages"] = "the merchant's own packages (searched by title)",
        ["GET /items/access/customers"] = "the viewer's own passes",
        ["GET /v2/access/bulk/template"] = "a fixed CSV template",
        ["GET /v2/access/bulk"] = "the merchant's own bulk jobs",
        ["GET /vouchers/gifts"] = "the merchant's own gift vouchers",
        ["GET /subscriptions"] = "the viewer's own subscriptions",
        ["GET /payments/methods"] = "a fixed list",
        ["GET /v2/accounting/payment-history"] = "the viewer's own payments",
        ["GET /v2/payments/gateway"] = "the merchant's own setting",
        ["PUT /v2/payments/gateway"] = "the merchant's own setting",
        ["GET /v2/webhooks/event-types"] = "a fixed list",
        ["POST /v2/webhooks"] = "creates an endpoint of the token's merchant",
        ["GET /v2/webhooks"] = "the merchant's own endpoints",
        ["GET /v2/reports/types"] = "a fixed list",
        ["POST /v2/reports"] = "a report of the token's merchant's records (B's reports are downloaded and checked)",
        ["POST /v2/reports/schedules"] = "a schedule of the token's merchant",
        ["GET /v2/reports/schedules"] = "the merchant's own schedules",
    };

    /// <summary>The operations a viewer token (or anyone) may call; a viewer's token on any other is a 403 (the wrong kind of token).</summary>
    private static readonly HashSet<string> ViewerOrPublic =
    [
        "POST /accounts", "GET /accounts", "PUT /accounts", "POST /accounts/authenticate", "POST /v2/accounts/authenticate", "GET /accounts/logout",
        "GET /items/{id}", "GET /items/{merchantUuid}/{id}", "GET /v2/items/{id}/access-fees", "GET /items/{id}/access-fees", "GET /items/packages/{id}",
        "GET /items/packages/{id}/items", "GET /items/{id}/access", "GET /items/access/customers", "POST /vouchers/discount", "POST /v2/vouchers/redeem",
        "POST /payments", "POST /v2/payments", "POST /subscriptions", "POST /v2/subscriptions", "GET /subscriptions", "GET /payments/methods",
        "GET /payments/transactions", "GET /v2/accounting/payment-history", "GET /subscriptions/{id}", "GET /subscriptions/cancel/{cancelToken}",
    ];

    /// <summary>Every probe: A's ids sent with B's tokens, and B's own calls of the operations that take no foreign id.</summary>
    private List<Probe> Probes(string logoutToken)
    {
        var bViewer = B.Viewer;
        var card = (long fee) => PaymentShop.CardForm(fee);
        var probes = new List<Probe>
        {
            // Accounts. Registering and signing in name a merchant by its client_id (A's uuid).
            P("POST /accounts", "/accounts", null, F(("full_name", "Beta"), ("username", A.V1.Email), ("password", Given.Password),
                ("password_confirmation", Given.Password), ("client_id", A.Merchant.Uuid), ("type", "consumer")), 409),
            P("POST /accounts/authenticate", "/accounts/authenticate", null, F(("grant_type", "password"), ("client_id", A.Merchant.Uuid),
                ("username", bViewer.Email), ("password", bViewer.Password)), 400),
            P("POST /accounts/authenticate", "/accounts/authenticate", null, F(("grant_type", "client_credentials"), ("client_id", A.Merchant.Uuid),
                ("client_secret", B.Merchant.Secret)), 400),
            P("POST /accounts/authenticate", "/accounts/authenticate", null, F(("grant_type", "refresh_token"), ("client_id", A.Merchant.Uuid),
                ("refresh_token", bViewer.RefreshToken)), 401),
            P("POST /v2/accounts/authenticate", "/v2/accounts/authenticate", null, F(("client_id", A.Merchant.Uuid), ("username", bViewer.Email),
                ("password", bViewer.Password)), 400),
            Own("GET /accounts", "/accounts", BToken),
            Own("GET /accounts", "/accounts", BViewer),
            Own("PUT /accounts", "/accounts", BViewer, F(("full_name", "Beta Viewer"))),
            Own("GET /accounts/logout", "/accounts/logout", logoutToken),
            Own("POST /v2/accounts/customers", "/v2/accounts/customers", BToken, F(("email", "bc@beta.test"))),

            // The public catalog (InPlayer's reads, for anyone): A's active assets and packages without their content.
            P("GET /items/{id}", $"/items/{A.Item}", BToken, null, 200) with { PublicCatalog = true },
            P("GET /items/{merchantUuid}/{id}", $"/items/{A.Merchant.Uuid}/{A.Item}", BViewer, null, 200) with { PublicCatalog = true },
            P("GET /items/{merchantUuid}/{id}", $"/items/{B.Merchant.Uuid}/{A.Item}", BViewer, null, 404),
            P("GET /v2/items/{id}/access-fees", $"/v2/items/{A.Item}/access-fees", BToken, null, 200) with { PublicCatalog = true },
            P("GET /items/{id}/access-fees", $"/items/{A.Item}/access-fees", BViewer, null, 200) with { PublicCatalog = true },
            P("GET /items/packages/{id}", $"/items/packages/{A.Package}", BToken, null, 200) with { PublicCatalog = true },
            P("GET /items/packages/{id}/items", $"/items/packages/{A.Package}/items", BViewer, null, 200) with { PublicCatalog = true },

            // The merchant's catalog.
            Own("POST /v2/items", "/v2/items", BToken, F(("title", "Betatitle New"), ("item_type", "html"))),
            Own("GET /v2/items", "/v2/items", BToken),
            Own("GET /v2/items", "/v2/items?search=alphatitle", BToken),
            P("GET /v2/items/{id}", $"/v2/items/{A.Item}", BToken, null, 404),
            P("PATCH /v2/items/{id}", $"/v2/items/{A.Item}", BToken, F(("title", "Beta takeover"), ("content", "beta"), ("is_active", "false")), 404),
            P("POST /v2/items/{id}/access-fees", $"/v2/items/{A.Item}/access-fees", BToken,
                F(("access_type", "ppv"), ("amount", "0.01"), ("currency", "EUR"), ("period", "day")), 404),
            P("PATCH /v2/items/access-fees/{id}", $"/v2/items/access-fees/{A.PpvFee}", BToken, F(("amount", "0.01"), ("is_active", "false")), 404),
            Own("POST /v2/items/packages", "/v2/items/packages", BToken, F(("title", "Betatitle Bundle"))),
            Own("GET /v2/items/packages", "/v2/items/packages", BToken),
            Own("GET /v2/items/packages", "/v2/items/packages?search=alphatitle", BToken),
            P("PATCH /v2/items/packages/{id}", $"/v2/items/packages/{A.Package}", BToken, F(("title", "Beta takeover"), ("is_active", "false")), 404),
            P("POST /v2/items/packages/{id}/items", $"/v2/items/packages/{A.Package}/items", BToken, F(("item_id", B.Item)), 404),
            P("POST /v2/items/packages/{id}/items", $"/v2/items/packages/{B.Package}/items", BToken, F(("item_id", A.OtherItem)), 400),
            P("DELETE /v2/items/packages/{id}/items/{itemId}", $"/v2/items/packages/{A.Package}/items/{A.Item}", BToken, null, 404),
            P("DELETE /v2/items/packages/{id}/items/{itemId}", $"/v2/items/packages/{B.Package}/items/{A.Item}", BToken, null, 404),
            P("POST /v2/items/packages/{id}/access-fees", $"/v2/items/packages/{A.Package}/access-fees", BToken,
                F(("access_type", "ppv"), ("amount", "0.01"), ("currency", "EUR"), ("period", "day")), 404),

            // Passes.
            P("GET /items/{id}/access", $"/items/{A.Item}/access", BViewer, null, 402),
            P("GET /items/{id}/access", $"/items/{A.OtherItem}/access", BViewer, null, 402),
            P("GET /items/{id}/access", $"/items/{A.Item}/access", BToken, null, 403),
            Own("GET /items/access/customers", "/items/access/customers?status=all", BViewer),
            P("POST /items/access", "/items/access", BToken, F(("consumer_id", A.V1.Id), ("item_id", B.Item), ("expires_at", Future)), 400),
            P("POST /items/access", "/items/access", BToken, F(("consumer_id", bViewer.Id), ("item_id", A.Item), ("expires_at", Future)), 400),
            P("POST /items/access", "/items/access", BToken, F(("consumer_id", bViewer.Id), ("package_id", A.Package), ("expires_at", Future)), 400),
            P("POST /items/access", "/items/access", BToken, F(("consumer_id", bViewer.Id), ("item_id", B.Item), ("access_fee_id", A.PpvFee)), 400),
            Empty("GET /v2/access", $"/v2/access?status=all&filter=viewer_id&q={A.V1.Id}", BToken),
            Empty("GET /v2/access", $"/v2/access?status=all&filter=asset_id&q={A.Item}", BToken),
            Empty("GET /v2/access", $"/v2/access?status=all&filter=package_id&q={A.Package}", BToken),
            Empty("GET /v2/access", $"/v2/access?status=all&filter=email&q={A.V1.Email}", BToken),
            Empty("GET /v2/access", "/v2/access?status=all&filter=email&q=alphasecret.test", BToken),
            Empty("GET /v2/access", "/v2/access?status=all&filter=asset_title&q=alphatitle", BToken),
            Own("GET /v2/access", "/v2/access?status=all", BToken),
            Own("GET /v2/access/bulk/template", "/v2/access/bulk/template?action=grant", BToken),
            Own("GET /v2/access/bulk", "/v2/access/bulk", BToken),
            P("GET /v2/access/bulk/{id}", $"/v2/access/bulk/{A.BulkJob}", BToken, null, 404),
            P("GET /v2/access/bulk/{id}/results", $"/v2/access/bulk/{A.BulkJob}/results", BToken, null, 404),
        };
        foreach (var pass in new[] { A.GrantedPass, A.PaidPass, A.VoucherPass })
            probes.AddRange(
            [
                P("GET /v2/access/{id}", $"/v2/access/{pass}", BToken, null, 404),
                P("GET /v2/access/{id}/changes", $"/v2/access/{pass}/changes", BToken, null, 404),
                P("POST /v2/access/{id}/revoke", $"/v2/access/{pass}/revoke", BToken, null, 404),
                P("POST /v2/access/{id}/extend", $"/v2/access/{pass}/extend", BToken, F(("expires_at", Future)), 404),
            ]);
        // A bulk file of A's viewers and assets: accepted as a file, every row refused, nothing applied.
        foreach (var action in new[] { "grant", "revoke", "extend" })
        {
            var csv = $"user_id,item_id,starts_at,expires_at\n{A.V1.Id},{A.Item},,{Future}\n{bViewer.Id},{A.OtherItem},,{Future}\n{A.V2.Id},{B.Item},,{Future}\n";
            probes.Add(new Probe("POST /v2/access/bulk", "/v2/access/bulk", BToken, () => Multipart(action, csv), [202])
            {
                Then = async answer => await BulkJobRefusedEveryRow(answer.Json.GetProperty("id").GetInt64()),
            });
        }

        // Vouchers.
        foreach (var (path, rule, value) in new[]
                 {
                     ("/vouchers", "assets", A.Item), ("/v2/vouchers", "packages", A.Package), ("/v2/vouchers", "access_fees", A.PpvFee),
                 })
            probes.Add(P($"POST {path}", path, BToken, F(("name", "Beta grab"), ("discount", 10), ("start_date", "2020-01-01"),
                ("rules[0][rule_type]", rule), ("rules[0][value]", value)), 400));
        probes.AddRange(
        [
            Own("GET /vouchers", "/vouchers", BToken),
            Empty("GET /vouchers", $"/vouchers?search=id:{A.Voucher}", BToken),
            Empty("GET /vouchers", $"/vouchers?search=code:{A.VoucherCode}", BToken),
            Empty("GET /vouchers", "/vouchers?search=name:alphasecret", BToken),
            Own("GET /vouchers/gifts", "/vouchers/gifts", BToken),
            // B's own voucher's lists: none of A's rules, uses, batches or codes.
            Own("GET /v2/vouchers/{id}/rules", $"/v2/vouchers/{B.Voucher}/rules", BToken),
            Own("GET /v2/vouchers/{id}/redemptions", $"/v2/vouchers/{B.Voucher}/redemptions", BToken),
            Own("GET /v2/vouchers/{id}/code-batches", $"/v2/vouchers/{B.Voucher}/code-batches", BToken),
            Own("GET /v2/vouchers/{id}/codes", $"/v2/vouchers/{B.Voucher}/codes", BToken),
            P("GET /v2/vouchers/gifts/{id}", $"/v2/vouchers/gifts/{A.Gift}", BToken, null, 404),
            P("POST /vouchers/{id}/{ruleType}", $"/vouchers/{A.Voucher}/assets", BToken, F(("value", B.Item)), 404),
            P("POST /vouchers/{id}/{ruleType}", $"/vouchers/{B.Voucher}/assets", BToken, F(("value", A.Item)), 400),
            P("POST /vouchers/{id}/{ruleType}", $"/vouchers/{B.Voucher}/packages", BToken, F(("value", A.Package)), 400),
            P("POST /vouchers/{id}/{ruleType}", $"/vouchers/{B.Voucher}/access_fees", BToken, F(("value", A.PpvFee)), 400),
            P("POST /v2/vouchers/{id}/rules/{ruleType}", $"/v2/vouchers/{A.Voucher}/rules/emails", BToken, F(("value", "bv@beta.test")), 404),
            P("POST /v2/vouchers/{id}/rules/{ruleType}", $"/v2/vouchers/{B.Voucher}/rules/assets", BToken, F(("value", A.OtherItem)), 400),
            P("DELETE /v2/vouchers/{id}/rules/{ruleId}", $"/v2/vouchers/{A.Voucher}/rules/{A.Rule}", BToken, null, 404),
            P("DELETE /v2/vouchers/{id}/rules/{ruleId}", $"/v2/vouchers/{B.Voucher}/rules/{A.Rule}", BToken, null, 404),
            P("GET /v2/vouchers/{id}/code-batches/{batchId}", $"/v2/vouchers/{A.Voucher}/code-batches/{A.Batch}", BToken, null, 404),
            P("GET /v2/vouchers/{id}/code-batches/{batchId}", $"/v2/vouchers/{B.Voucher}/code-batches/{A.Batch}", BToken, null, 404),
            // A code is looked up among the caller's merchant's only: A's is unknown to B (402), and A's price option is not on sale to B (400).
            P("POST /vouchers/discount", "/vouchers/discount", BToken, F(("voucher_code", A.VoucherCode), ("access_fee_id", A.PpvFee)), 402),
            P("POST /vouchers/discount", "/vouchers/discount", BToken, F(("voucher_code", B.VoucherCode), ("access_fee_id", A.PpvFee)), 400),
            P("POST /vouchers/discount", "/vouchers/discount", BViewer, F(("voucher_code", A.VoucherCode), ("access_fee_id", B.Fee)), 402),
            P("POST /v2/vouchers/redeem", "/v2/vouchers/redeem", BViewer, F(("voucher_code", A.AccessVoucherCode), ("access_fee_id", A.ThirdFee)), 402),
            P("POST /v2/vouchers/redeem", "/v2/vouchers/redeem", BViewer, F(("voucher_code", A.AccessVoucherCode), ("access_fee_id", B.Fee)), 402),
            P("POST /v2/vouchers/redeem", "/v2/vouchers/redeem", BViewer, F(("voucher_code", B.VoucherCode), ("access_fee_id", A.PpvFee)), 400),
            P("POST /v2/vouchers/redeem", "/v2/vouchers/redeem", BViewer, F(("voucher_code", B.VoucherCode), ("access_fee_id", B.Fee), ("item_id", A.Item)), 400),
            P("POST /vouchers/discount", "/vouchers/discount", BViewer, F(("voucher_code", B.VoucherCode), ("access_fee_id", B.Fee), ("item_id", A.Item)), 400),
        ]);
        foreach (var voucher in new[] { A.Voucher, A.AccessVoucher, A.Gift })
            probes.AddRange(
            [
                P("GET /vouchers/{id}", $"/vouchers/{voucher}", BToken, null, 404),
                P("PUT /vouchers/{id}", $"/vouchers/{voucher}", BToken, F(("name", "Beta grab"), ("discount", 99), ("start_date", "2020-01-01")), 404),
                P("PATCH /v2/vouchers/{id}", $"/v2/vouchers/{voucher}", BToken, F(("usage_limit", 0), ("name", "Beta grab")), 404),
                P("DELETE /vouchers/{id}", $"/vouchers/{voucher}", BToken, null, 404),
                P("GET /v2/vouchers/{id}/rules", $"/v2/vouchers/{voucher}/rules", BToken, null, 404),
                P("GET /v2/vouchers/{id}/redemptions", $"/v2/vouchers/{voucher}/redemptions", BToken, null, 404),
                P("POST /v2/vouchers/{id}/code-batches", $"/v2/vouchers/{voucher}/code-batches", BToken, F(("count", 3)), 404),
                P("GET /v2/vouchers/{id}/code-batches", $"/v2/vouchers/{voucher}/code-batches", BToken, null, 404),
                P("GET /v2/vouchers/{id}/codes", $"/v2/vouchers/{voucher}/codes", BToken, null, 404),
            ]);

        // Checkout and history: A's price options are not on sale to B's viewer, A's codes are unknown to it.
        probes.AddRange(
        [
            P("POST /payments", "/payments", BViewer, card(A.PpvFee), 400),
            P("POST /payments", "/payments", BViewer, new(card(A.OtherFee)) { ["is_gift"] = "true", ["receiver_email"] = "bgift@beta.test" }, 400),
            P("POST /payments", "/payments", BViewer, new(card(B.Fee)) { ["voucher_code"] = A.VoucherCode }, 402),
            P("POST /payments", "/payments", BViewer, new(card(B.Fee)) { ["item_id"] = A.Item.ToString() }, 400),
            P("POST /v2/payments", "/v2/payments", BViewer, new(card(0)) { ["access_fee_id"] = A.PackageFee.ToString() }, 400),
            P("POST /subscriptions", "/subscriptions", BViewer, card(A.SubscriptionFee), 400),
            P("POST /v2/subscriptions", "/v2/subscriptions", BViewer, new(card(0)) { ["access_fee_id"] = A.SubscriptionFee.ToString() }, 400),
            Own("GET /subscriptions", "/subscriptions", BViewer),
            Own("GET /payments/methods", "/payments/methods", BViewer),
            Own("GET /v2/accounting/payment-history", "/v2/accounting/payment-history", BViewer),
            Own("GET /payments/transactions", "/payments/transactions", BToken),
            Own("GET /payments/transactions", "/payments/transactions", BViewer),
            Empty("GET /payments/transactions", $"/payments/transactions?search={A.V1.Email}", BToken),
            Empty("GET /payments/transactions", "/payments/transactions?search=alphasecret.test", BToken),
            Empty("GET /payments/transactions", $"/payments/transactions?search={A.VoucherCode}", BToken),
            Empty("GET /payments/transactions", $"/payments/transactions?search={A.VoucherCode}", BViewer),
            Own("GET /v2/subscriptions", "/v2/subscriptions", BToken),
            Empty("GET /v2/subscriptions", $"/v2/subscriptions?search={A.V1.Email}", BToken),
            P("GET /v2/payments/{id}", $"/v2/payments/{A.Payment}", BToken, null, 404),
            P("GET /subscriptions/{id}", $"/subscriptions/{A.Subscription}", BViewer, null, 404),
            P("GET /subscriptions/cancel/{cancelToken}", $"/subscriptions/cancel/{A.CancelToken}", BViewer, null, 404),
            P("GET /subscriptions/cancel/{cancelToken}", $"/subscriptions/cancel/{A.CancelToken}", BToken, null, 404),
            P("GET /v2/subscriptions/{id}", $"/v2/subscriptions/{A.Subscription}", BToken, null, 404),
            P("POST /v2/subscriptions/{id}/cancel", $"/v2/subscriptions/{A.Subscription}/cancel", BToken, null, 404),
            Own("GET /v2/payments/gateway", "/v2/payments/gateway", BToken),
            Own("PUT /v2/payments/gateway", "/v2/payments/gateway", BToken, F(("gateway", "test"))),

            // Webhooks.
            Own("GET /v2/webhooks/event-types", "/v2/webhooks/event-types", BToken),
            Own("POST /v2/webhooks", "/v2/webhooks", BToken, F(("url", "http://127.0.0.1:9/beta-second"), ("enabled", "false"))),
            Own("GET /v2/webhooks", "/v2/webhooks", BToken),
            Own("GET /v2/webhooks/messages", "/v2/webhooks/messages", BToken),
            Empty("GET /v2/webhooks/messages", $"/v2/webhooks/messages?endpoint_id={A.Endpoint}", BToken),
            Empty("GET /v2/webhooks/messages", $"/v2/webhooks/messages?endpoint_id={A.HeldEndpoint}&status=held", BToken),
        ]);
        foreach (var endpoint in new[] { A.Endpoint, A.HeldEndpoint })
            probes.AddRange(
            [
                P("GET /v2/webhooks/{id}", $"/v2/webhooks/{endpoint}", BToken, null, 404),
                P("PATCH /v2/webhooks/{id}", $"/v2/webhooks/{endpoint}", BToken, F(("url", "http://127.0.0.1:9/beta"), ("enabled", "true")), 404),
                P("DELETE /v2/webhooks/{id}", $"/v2/webhooks/{endpoint}", BToken, null, 404),
                P("POST /v2/webhooks/{id}/rotate-secret", $"/v2/webhooks/{endpoint}/rotate-secret", BToken, F(("overlap_hours", 0)), 404),
                P("POST /v2/webhooks/{id}/replay", $"/v2/webhooks/{endpoint}/replay?since=2000-01-01T00:00:00Z", BToken, null, 404),
            ]);
        foreach (var message in new[] { A.DeliveredMessage, A.HeldMessage })
            probes.AddRange(
            [
                P("GET /v2/webhooks/messages/{id}", $"/v2/webhooks/messages/{message}", BToken, null, 404),
                P("POST /v2/webhooks/messages/{id}/replay", $"/v2/webhooks/messages/{message}/replay", BToken, null, 404),
            ]);

        // Reports: B's own, downloaded, hold none of A's rows.
        var today = fixture.Clock.GetUtcNow();
        foreach (var type in new[] { "access", "payments", "subscriptions" })
            probes.Add(Own("POST /v2/reports", "/v2/reports", BToken, F(("type", type), ("from", today.AddDays(-2).ToString("o")), ("to", today.AddDays(2).ToString("o"))))
                with { Then = answer => BReportHoldsNothingOfA(answer.Json.GetProperty("id").GetInt64()) });
        probes.AddRange(
        [
            Own("GET /v2/reports/types", "/v2/reports/types", BToken),
            Own("GET /v2/reports", "/v2/reports", BToken),
            Empty("GET /v2/reports", $"/v2/reports?schedule_id={A.Schedule}", BToken),
            P("GET /v2/reports/{id}", $"/v2/reports/{A.Report}", BToken, null, 404),
            P("GET /v2/reports/{id}/download", $"/v2/reports/{A.Report}/download", BToken, null, 404),
            P("DELETE /v2/reports/{id}", $"/v2/reports/{A.Report}", BToken, null, 404),
            Own("POST /v2/reports/schedules", "/v2/reports/schedules", BToken, F(("name", "Beta schedule"), ("type", "access"), ("kind", "once"),
                ("run_at", today.AddDays(3).ToString("o")), ("data_from", today.AddDays(-3).ToString("o")), ("data_to", today.ToString("o")))),
            Own("GET /v2/reports/schedules", "/v2/reports/schedules", BToken),
            P("GET /v2/reports/schedules/{id}", $"/v2/reports/schedules/{A.Schedule}", BToken, null, 404),
            P("PATCH /v2/reports/schedules/{id}", $"/v2/reports/schedules/{A.Schedule}", BToken, F(("name", "Beta grab"), ("run_at", today.AddDays(2).ToString("o"))), 404),
            P("DELETE /v2/reports/schedules/{id}", $"/v2/reports/schedules/{A.Schedule}", BToken, null, 404),
        ]);

        // The same calls with B's viewer token on the merchant's operations: the wrong kind of token, 403.
        probes.AddRange(probes
            .Where(p => p.Foreign && p.Token == BToken && !ViewerOrPublic.Contains(p.Operation) && p.Statuses is [404])
            .Select(p => p with { Token = BViewer, Statuses = [403], Then = null }).ToList());
        return probes;
    }

    private static MultipartFormDataContent Multipart(string action, string csv)
    {
        var content = new MultipartFormDataContent
        {
            { new StringContent(action), "action" }, { new StringContent("false"), "dry_run" }, { new StringContent("true"), "apply_valid_rows" },
        };
        var file = new ByteArrayContent(Encoding.UTF8.GetBytes(csv));
        file.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
        content.Add(file, "file", "beta.csv");
        return content;
    }

    private async Task<JsonElement> Until(string path, string token, Func<JsonElement, bool> done)
    {
        for (var i = 0; ; i++)
        {
            var body = await TenantWorld.Send(fixture.Http, HttpMethod.Get, path, token, null);
            if (done(body) || i >= 300) return body;
            await Task.Delay(100);
        }
    }

    /// <summary>B's bulk job of A's ids: every row an error (even with "apply valid rows"), nothing applied, its results showing nothing of A's.</summary>
    private async Task<string?> BulkJobRefusedEveryRow(long id)
    {
        var job = await Until($"/v2/access/bulk/{id}", BToken, j => j.GetProperty("status").GetString() is "completed" or "rejected" or "failed");
        var (applied, errors) = (job.GetProperty("applied_rows").GetInt32(), job.GetProperty("error_rows").GetInt32());
        if (applied != 0 || errors != 3) return $"B's bulk job {id} of A's ids: {applied} applied, {errors} errors: {job}";
        var results = await TenantWorld.Call(fixture.Http, HttpMethod.Get, $"/v2/access/bulk/{id}/results", BToken);
        return W.Leaks(results.Body).FirstOrDefault() is { } leak ? $"B's bulk results show {leak}: {results.Body}" : null;
    }

    /// <summary>B's report, once ready, downloaded: none of A's rows in it.</summary>
    private async Task<string?> BReportHoldsNothingOfA(long id)
    {
        var report = await Until($"/v2/reports/{id}", BToken, r => r.GetProperty("status").GetString() is "ready" or "failed");
        if (report.GetProperty("status").GetString() != "ready") return $"B's report {id} did not get ready: {report}";
        var csv = await TenantWorld.Call(fixture.Http, HttpMethod.Get, $"/v2/reports/{id}/download", BToken);
        if (csv.Status != 200) return $"B's report {id}: download {csv.Status}";
        return W.Leaks(csv.Body).FirstOrDefault() is { } leak ? $"B's {report.GetProperty("type")} report shows {leak}:\n{csv.Body}" : null;
    }

    private static bool IsEmptyList(JsonElement body) => body.ValueKind switch
    {
        JsonValueKind.Array => body.GetArrayLength() == 0,
        JsonValueKind.Object => body.TryGetProperty("collection", out var c) && c.GetArrayLength() == 0
                                && (!body.TryGetProperty("total", out var t) || t.GetInt64() == 0),
        _ => false,
    };

    private async Task<List<string>> Operations()
    {
        var document = await TenantWorld.Call(fixture.Http, HttpMethod.Get, "/openapi/v1.json", null);
        Assert.Equal(200, document.Status);
        return document.Json.GetProperty("paths").EnumerateObject()
            .SelectMany(path => path.Value.EnumerateObject()
                .Where(op => op.Name is "get" or "post" or "put" or "patch" or "delete")
                .Select(op => $"{op.Name.ToUpperInvariant()} {path.Name}"))
            .ToList();
    }

    [Fact]
    public async Task Every_operation_of_the_document_is_tried_with_another_merchants_ids_or_listed_as_taking_none()
    {
        var operations = await Operations();
        var probes = Probes("unused");
        var foreign = probes.Where(p => p.Foreign).Select(p => p.Operation).ToHashSet();
        var missing = operations.Where(o => !foreign.Contains(o) && !NoForeignId.ContainsKey(o)).ToList();
        Assert.True(missing.Count == 0, "Not tried with merchant A's ids, nor listed as taking no foreign id:\n" + string.Join("\n", missing));
        var both = NoForeignId.Keys.Where(foreign.Contains).ToList();
        Assert.True(both.Count == 0, "Listed as taking no foreign id, yet tried with A's ids:\n" + string.Join("\n", both));
        var stale = foreign.Concat(NoForeignId.Keys).Concat(probes.Select(p => p.Operation)).Where(o => !operations.Contains(o)).Distinct().ToList();
        Assert.True(stale.Count == 0, "Not operations of the document:\n" + string.Join("\n", stale));
        Assert.True(ViewerOrPublic.All(operations.Contains), "ViewerOrPublic names operations the document does not have");
    }

    [Fact]
    public async Task Merchant_B_with_merchant_A_ids_is_refused_everywhere_sees_none_of_A_and_changes_nothing_of_A()
    {
        // A session of B's viewer of its own, for the logout probe.
        var logoutToken = (await TenantWorld.Send(fixture.Http, HttpMethod.Post, "/accounts/authenticate", null, new()
        {
            ["grant_type"] = "password", ["client_id"] = B.Merchant.Uuid.ToString(), ["username"] = B.Viewer.Email, ["password"] = B.Viewer.Password,
        })).GetProperty("access_token").GetString()!;
        var probes = Probes(logoutToken);
        // After a minute, any row B's calls wrote would show a new updated_at too.
        fixture.Clock.Advance(TimeSpan.FromMinutes(1));
        var before = await TenantWorld.Snapshot(fixture.Db, A.Merchant.Id);

        var problems = new List<string>();
        foreach (var probe in probes)
        {
            var answer = await TenantWorld.Call(fixture.Http, probe.Method, probe.Path, probe.Token, probe.Body?.Invoke());
            var who = probe.Token == BToken ? "B" : probe.Token == BViewer ? "B's viewer" : probe.Token is null ? "anyone" : "B's viewer (own session)";
            output.WriteLine($"{answer.Status} {probe.Method} {probe.Path} as {who}");
            var call = $"{probe.Operation} ({probe.Method} {probe.Path} as {who})";
            if (!probe.Statuses.Contains(answer.Status))
                problems.Add($"{call}: {answer.Status}, expected {string.Join(" or ", probe.Statuses)}: {answer.Body}");
            if (W.Leaks(answer.Body, probe.PublicCatalog).ToList() is [_, ..] leaks)
                problems.Add($"{call}: the answer shows A's {string.Join(", ", leaks)}: {answer.Body}");
            if (answer.Status >= 400 && answer.ContentType == "application/json" && !answer.Json.TryGetProperty("code", out _))
                problems.Add($"{call}: a refusal not in the error shape: {answer.Body}");
            if (probe.MustBeEmpty && answer.Status == 200 && !IsEmptyList(answer.Json))
                problems.Add($"{call}: a list of A's ids is not empty: {answer.Body}");
            if (probe.Then is not null && answer.Status < 300 && await probe.Then(answer) is { } problem)
                problems.Add($"{call}: {problem}");
        }

        // What B's calls set off (events, deliveries, reports) has run its course: B's delivery log carries nothing of A's.
        await TenantWorld.Settle(fixture.Db);
        var messages = await TenantWorld.Send(fixture.Http, HttpMethod.Get, "/v2/webhooks/messages?limit=100", BToken, null);
        foreach (var message in messages.GetProperty("collection").EnumerateArray())
        {
            var detail = await TenantWorld.Call(fixture.Http, HttpMethod.Get, $"/v2/webhooks/messages/{message.GetProperty("id")}", BToken);
            if (W.Leaks(detail.Body).ToList() is [_, ..] leaks) problems.Add($"B's webhook message shows A's {string.Join(", ", leaks)}: {detail.Body}");
        }
        Assert.True(messages.GetProperty("total").GetInt64() > 0, "B's own calls should have sent B's endpoint some events");

        var after = await TenantWorld.Snapshot(fixture.Db, A.Merchant.Id);
        foreach (var table in before.Keys.Where(t => before[t] != after[t]))
            problems.Add($"A's rows in {table} changed:\nbefore {before[table]}\nafter  {after[table]}");
        Assert.True(problems.Count == 0, $"{problems.Count} problems:\n" + string.Join("\n\n", problems));
    }

    [Fact]
    public async Task An_idempotency_key_used_by_one_merchant_replays_nothing_for_another()
    {
        var c = await Given.Merchant(fixture.Db, "Gamma Media");
        var d = await Given.Merchant(fixture.Db, "Delta Media");
        var form = new Dictionary<string, string> { ["title"] = "Keyed asset", ["item_type"] = "video", ["content"] = "gamma-content" };
        var first = await TenantWorld.Call(fixture.Http, HttpMethod.Post, "/v2/items", await TenantWorld.MerchantToken(fixture.Http, c),
            TenantWorld.Form(form), "shared-key-1");
        var second = await TenantWorld.Call(fixture.Http, HttpMethod.Post, "/v2/items", await TenantWorld.MerchantToken(fixture.Http, d),
            TenantWorld.Form(form), "shared-key-1");
        Assert.Equal((201, 201, false), (first.Status, second.Status, second.Replayed));
        Assert.NotEqual(first.Json.GetProperty("id").GetInt64(), second.Json.GetProperty("id").GetInt64());
        Assert.Equal(d.Id, second.Json.GetProperty("merchant_id").GetInt64());
    }

    [Fact]
    public async Task Another_merchant_may_have_the_same_voucher_code_and_its_viewers_redeem_their_own()
    {
        // A 409 here would tell merchant C that some other merchant has the code.
        var c = await Given.Merchant(fixture.Db, "Gamma Media");
        var token = await TenantWorld.MerchantToken(fixture.Http, c);
        var item = (await TenantWorld.Send(fixture.Http, HttpMethod.Post, "/v2/items", token, new() { ["title"] = "Gamma show", ["item_type"] = "video" }, 201))
            .GetProperty("id").GetInt64();
        var fee = (await TenantWorld.Send(fixture.Http, HttpMethod.Post, $"/v2/items/{item}/access-fees", token, new()
        {
            ["access_type"] = "ppv", ["amount"] = "1.00", ["currency"] = "EUR", ["period"] = "day",
        }, 201)).GetProperty("id").GetInt64();
        var voucher = await TenantWorld.Send(fixture.Http, HttpMethod.Post, "/v2/vouchers", token, new()
        {
            ["name"] = "Gamma free", ["code"] = A.AccessVoucherCode.ToLowerInvariant(), ["voucher_type"] = "access", ["access_period_quantity"] = "1",
            ["access_period_unit"] = "day", ["start_date"] = "2020-01-01",
        }, 201);
        var viewer = await TenantWorld.Register(fixture.Http, c, "gv@gamma.test", "Gamma Viewer");
        var redeemed = await TenantWorld.Send(fixture.Http, HttpMethod.Post, "/v2/vouchers/redeem", viewer.Token, new()
        {
            ["voucher_code"] = A.AccessVoucherCode, ["access_fee_id"] = fee.ToString(),
        }, 201);
        Assert.Equal(voucher.GetProperty("id").GetInt64(), redeemed.GetProperty("voucher_id").GetInt64());
        var aVoucher = await TenantWorld.Send(fixture.Http, HttpMethod.Get, $"/vouchers/{A.AccessVoucher}", A.Token, null);
        Assert.Equal(1, aVoucher.GetProperty("usage_counter").GetInt32());
    }

    // ---- Viewers ----

    private Task<Answer> As(TenantWorld.Viewer viewer, string path) => TenantWorld.Call(fixture.Http, HttpMethod.Get, path, viewer.Token);

    [Fact]
    public async Task A_viewer_cannot_read_or_cancel_another_viewers_passes_payments_or_subscriptions()
    {
        var (v1, v2) = (A.V1, A.V2);
        Assert.Equal(200, (await As(v1, $"/items/{A.Item}/access")).Status);

        var passes = (await As(v2, "/items/access/customers?status=all")).Json;
        Assert.Equal(2, passes.GetProperty("total").GetInt64()); // V2's voucher pass and bulk pass
        Assert.All(passes.GetProperty("collection").EnumerateArray(), p => Assert.Equal(v2.Id, p.GetProperty("customer_id").GetInt64()));
        foreach (var item in new[] { A.Item, A.OtherItem })
        {
            var check = await As(v2, $"/items/{item}/access");
            Assert.Equal(402, check.Status);
            Assert.DoesNotContain("alphasecret-stream", check.Body);
        }

        foreach (var path in new[] { "/payments/transactions", $"/payments/transactions?search={v1.Email}", "/payments/transactions?search=v1",
                     $"/payments/transactions?search={A.VoucherCode}", "/v2/accounting/payment-history", "/subscriptions" })
        {
            var answer = await As(v2, path);
            Assert.True(answer.Status == 200 && IsEmptyList(answer.Json) && !answer.Body.Contains(v1.Email), $"{path} for V2: {answer.Status} {answer.Body}");
        }

        Assert.Equal(404, (await As(v2, $"/subscriptions/{A.Subscription}")).Status);
        Assert.Equal(404, (await As(v2, $"/subscriptions/cancel/{A.CancelToken}")).Status);
        var subscription = await TenantWorld.Send(fixture.Http, HttpMethod.Get, $"/subscriptions/{A.Subscription}", v1.Token, null);
        Assert.Equal("active", subscription.GetProperty("status").GetString());
        // V2's token on merchant operations with V1's ids: the wrong kind of token.
        Assert.Equal(403, (await As(v2, $"/v2/access/{A.PaidPass}")).Status);
        Assert.Equal(403, (await As(v2, $"/v2/payments/{A.Payment}")).Status);
        Assert.Equal(403, (await TenantWorld.Call(fixture.Http, HttpMethod.Post, $"/v2/subscriptions/{A.Subscription}/cancel", v2.Token)).Status);
    }

    [Fact]
    public async Task A_voucher_of_merchant_A_redeems_nothing_of_another_merchant()
    {
        await TenantWorld.Settle(fixture.Db);
        var before = await TenantWorld.Snapshot(fixture.Db, A.Merchant.Id);
        var bBefore = await TenantWorld.Snapshot(fixture.Db, B.Merchant.Id);

        // A's viewer with A's codes on B's price options: not on sale to A's viewers.
        var redeem = await TenantWorld.Call(fixture.Http, HttpMethod.Post, "/v2/vouchers/redeem", A.V2.Token,
            TenantWorld.Form(new() { ["voucher_code"] = A.AccessVoucherCode, ["access_fee_id"] = B.Fee.ToString() }));
        Assert.Equal(400, redeem.Status);
        var pay = await TenantWorld.Call(fixture.Http, HttpMethod.Post, "/payments", A.V1.Token,
            TenantWorld.Form(new(PaymentShop.CardForm(B.Fee)) { ["voucher_code"] = A.VoucherCode }));
        Assert.Equal(400, pay.Status);
        var discount = await TenantWorld.Call(fixture.Http, HttpMethod.Post, "/vouchers/discount", A.V1.Token,
            TenantWorld.Form(new() { ["voucher_code"] = A.VoucherCode, ["access_fee_id"] = B.Fee.ToString() }));
        Assert.Equal(400, discount.Status);
        // B's viewer with A's codes, on B's or A's price options: an unknown code.
        foreach (var fee in new[] { B.Fee, A.ThirdFee })
        {
            var answer = await TenantWorld.Call(fixture.Http, HttpMethod.Post, "/v2/vouchers/redeem", B.Viewer.Token,
                TenantWorld.Form(new() { ["voucher_code"] = A.AccessVoucherCode, ["access_fee_id"] = fee.ToString() }));
            Assert.Equal((402, "Unknown voucher code"), (answer.Status, answer.Json.GetProperty("message").GetString()));
        }

        Assert.Equal(before, await TenantWorld.Snapshot(fixture.Db, A.Merchant.Id));
        Assert.Equal(bBefore, await TenantWorld.Snapshot(fixture.Db, B.Merchant.Id));
    }

    [Fact]
    public async Task A_viewer_of_merchant_B_cannot_sign_in_at_merchant_A_nor_read_its_protected_content()
    {
        var viewer = B.Viewer;
        foreach (var path in new[] { "/accounts/authenticate", "/v2/accounts/authenticate" })
        {
            var signIn = await TenantWorld.Call(fixture.Http, HttpMethod.Post, path, null, TenantWorld.Form(new()
            {
                ["grant_type"] = "password", ["client_id"] = A.Merchant.Uuid.ToString(), ["username"] = viewer.Email, ["password"] = viewer.Password,
            }));
            Assert.True(signIn.Status == 400 && !signIn.Body.Contains("access_token"), $"{path}: {signIn.Status} {signIn.Body}");
        }
        var refresh = await TenantWorld.Call(fixture.Http, HttpMethod.Post, "/accounts/authenticate", null, TenantWorld.Form(new()
        {
            ["grant_type"] = "refresh_token", ["client_id"] = A.Merchant.Uuid.ToString(), ["refresh_token"] = viewer.RefreshToken,
        }));
        Assert.Equal(401, refresh.Status);

        foreach (var item in new[] { A.Item, A.OtherItem, A.ThirdItem })
        {
            foreach (var (path, status) in new[]
                     {
                         ($"/items/{item}/access", 402), ($"/v2/items/{item}", 403), ($"/items/{item}", 200), ($"/items/{A.Merchant.Uuid}/{item}", 200),
                     })
            {
                var answer = await As(viewer, path);
                Assert.True(answer.Status == status && !answer.Body.Contains(TenantWorld.Secret), $"{path}: {answer.Status} {answer.Body}");
            }
        }
        var package = await As(viewer, $"/items/packages/{A.Package}/items");
        Assert.True(package.Status == 200 && !package.Body.Contains(TenantWorld.Secret), package.Body);
    }
}
