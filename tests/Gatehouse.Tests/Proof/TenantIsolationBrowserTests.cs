using System.Text;
using System.Text.RegularExpressions;
using Dapper;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Tests.Webhooks;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Gatehouse.Tests.Proof;

/// <summary>Merchants A and B (<see cref="TenantWorld"/>) on a real port, with the browser and a webhook receiver.</summary>
public sealed class TenantBrowserFixture : BrowserFixture
{
    private Receiver _receiver = null!;
    public HttpClient Http { get; private set; } = null!;
    public TenantWorld World { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _receiver = await Receiver.Start();
        Http = new HttpClient { BaseAddress = new Uri(BaseUrl) };
        World = await TenantWorld.Build(Http, Db, Clock, _receiver.Url);
    }

    public override async Task DisposeAsync()
    {
        Http.Dispose();
        await _receiver.DisposeAsync();
        await base.DisposeAsync();
    }
}

/// <summary>
/// Tenant isolation in the admin. Signed in as merchant B's admin, every page that takes an id is opened with merchant A's ids
/// (a 404, showing nothing of A's), B's own pages and their searches for A's ids show none of A's rows, and B's own forms posted
/// with A's ids (antiforgery token and all) are refused and change none of A's rows. Signed out, every admin page sends to the
/// login. The pages are found by their @page directives, and every one whose route takes an id must be covered here, so a new
/// page cannot slip through.
/// </summary>
public sealed class TenantIsolationBrowserTests(TenantBrowserFixture fixture) : IClassFixture<TenantBrowserFixture>
{
    private TenantWorld W => fixture.World;
    private TenantWorld.MerchantA A => W.A;
    private TenantWorld.MerchantB B => W.B;

    /// <summary>Every admin page's route, from the @page directives of the host's and the modules' pages.</summary>
    private static IReadOnlyList<string> AdminRoutes()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(root.FullName, "App.sln"))) root = root.Parent ?? throw new InvalidOperationException("No App.sln above the tests");
        var folders = Directory.GetDirectories(Path.Combine(root.FullName, "src", "Modules"))
            .Select(module => Path.Combine(module, "Pages", "Admin"))
            .Append(Path.Combine(root.FullName, "src", "App", "Pages", "Admin"))
            .Where(Directory.Exists);
        var routes = folders
            .SelectMany(folder => Directory.GetFiles(folder, "*.cshtml", SearchOption.AllDirectories))
            .Select(file => Regex.Match(File.ReadAllText(file), "^@page\\s+\"([^\"]+)\"", RegexOptions.Multiline))
            .Where(m => m.Success)
            .Select(m => m.Groups[1].Value)
            .Order()
            .ToList();
        Assert.Contains("/admin/promotions/{id:long}", routes);
        return routes;
    }

    /// <summary>Each route that takes an id, opened with A's ids (its downloads and partials too): every one a 404 for B.</summary>
    private Dictionary<string, string[]> IdPages() => new()
    {
        ["/admin/audience/{id:long}"] = [$"/admin/audience/{A.V1.Id}", $"/admin/audience/{A.V2.Id}"],
        ["/admin/content/assets/{id:long}"] = [$"/admin/content/assets/{A.Item}", $"/admin/content/assets/{A.ThirdItem}"],
        ["/admin/content/packages/{id:long}"] = [$"/admin/content/packages/{A.Package}"],
        ["/admin/transactions/subscriptions/{id:long}"] = [$"/admin/transactions/subscriptions/{A.Subscription}"],
        ["/admin/transactions/reports/schedules/{id:long}"] = [$"/admin/transactions/reports/schedules/{A.Schedule}"],
        ["/admin/reports/{id:long}/{handler?}"] = [$"/admin/reports/{A.Report}", $"/admin/reports/{A.Report}/download"],
        ["/admin/promotions/{id:long}"] =
        [
            .. new[] { A.Voucher, A.AccessVoucher, A.Gift }.Select(id => $"/admin/promotions/{id}"),
            $"/admin/promotions/{A.Voucher}?handler=Codes", $"/admin/promotions/{A.Voucher}?handler=CodeBatches",
            $"/admin/promotions/{A.Voucher}?handler=EmailsTemplate",
        ],
        ["/admin/webhooks/{id:long}"] = [$"/admin/webhooks/{A.Endpoint}", $"/admin/webhooks/{A.HeldEndpoint}"],
        ["/admin/webhooks/messages/{id:long}"] = [$"/admin/webhooks/messages/{A.DeliveredMessage}", $"/admin/webhooks/messages/{A.HeldMessage}"],
    };

    /// <summary>Pages without an id in their route that take one in the query: a download (a 404), or a search or filter (empty).</summary>
    private string[] QueryIdDownloads() => [$"/admin/access/bulk?handler=Results&id={A.BulkJob}"];

    private (string Path, string Echo)[] QueryIdSearches() =>
    [
        ($"/admin/access?status=all&filter=viewer_id&q={A.V1.Id}", ""),
        ($"/admin/access?status=all&filter=asset_id&q={A.Item}", ""),
        ($"/admin/access?status=all&filter=package_id&q={A.Package}", ""),
        ($"/admin/access?status=all&filter=email&q={A.V1.Email}", A.V1.Email),
        ("/admin/access?status=all&filter=asset_title&q=alphatitle", "alphatitle"),
        ($"/admin/audience?filter=viewer_id&q={A.V1.Id}", ""),
        ($"/admin/audience?filter=email&q={A.V2.Email}", A.V2.Email),
        ($"/admin/promotions?filter=id&q={A.Voucher}", ""),
        ($"/admin/promotions?filter=code&q={A.VoucherCode}", A.VoucherCode),
        ($"/admin/transactions?q={A.V1.Email}", A.V1.Email),
        ($"/admin/transactions?q={A.VoucherCode}", A.VoucherCode),
        ($"/admin/transactions/subscriptions?q={A.V1.Email}", A.V1.Email),
        ($"/admin/webhooks/messages?endpoint_id={A.Endpoint}", ""),
        ($"/admin/webhooks/messages?endpoint_id={A.HeldEndpoint}&status=held", ""),
    ];

    private void NoLeak(string where, string content, string echo = "")
    {
        var shown = echo.Length == 0 ? content : content.Replace(echo, "", StringComparison.OrdinalIgnoreCase);
        var leaks = W.Leaks(shown).ToList();
        Assert.True(leaks.Count == 0, $"{where} shows A's {string.Join(", ", leaks)}");
    }

    [Fact]
    public void Every_admin_page_whose_route_takes_an_id_is_covered()
    {
        var withId = AdminRoutes().Where(r => r.Contains('{')).ToList();
        var covered = IdPages().Keys.ToList();
        Assert.True(withId.Order().SequenceEqual(covered.Order()),
            $"Admin pages with an id in the route: {string.Join(", ", withId)}\nCovered here: {string.Join(", ", covered)}");
    }

    [Fact]
    public async Task Merchant_B_admin_gets_a_404_for_every_page_of_A_ids_and_sees_none_of_A_on_its_own_pages()
    {
        var page = await fixture.SignedIn(B.Merchant);
        foreach (var path in IdPages().Values.SelectMany(p => p).Concat(QueryIdDownloads()))
        {
            // Asked with B's cookie (a browser shows its own error page for a bodiless 404).
            var response = await page.APIRequest.GetAsync(path, new() { MaxRedirects = 0 });
            Assert.True(response.Status == 404, $"GET {path} as B's admin: {response.Status}");
            NoLeak(path, await response.TextAsync());
        }
        foreach (var (path, echo) in QueryIdSearches())
        {
            var response = await page.GotoAsync(path);
            Assert.True(response?.Status == 200, $"GET {path} as B's admin: {response?.Status}");
            NoLeak(path, await page.ContentAsync(), echo);
        }
        // Every page of B's own without an id: none of A's rows.
        foreach (var route in AdminRoutes().Where(r => !r.Contains('{') && r is not ("/admin/login" or "/admin/logout")))
        {
            var response = await page.GotoAsync(route);
            Assert.True(response?.Status == 200, $"GET {route} as B's admin: {response?.Status}");
            NoLeak(route, await page.ContentAsync());
        }
        // The control: B's own pages of each kind do open (the 404s above are not a broken session).
        foreach (var path in new[] { $"/admin/audience/{B.Viewer.Id}", $"/admin/content/assets/{B.Item}", $"/admin/promotions/{B.Voucher}", $"/admin/webhooks/{B.Endpoint}" })
            Assert.Equal(200, (await page.GotoAsync(path))?.Status);
    }

    /// <summary>A form posted with B's cookie and a real antiforgery token, as the page's own form would (redirects not followed).</summary>
    private static async Task<IAPIResponse> Post(IPage page, string token, string path, Dictionary<string, string>? fields = null,
        (string Name, string FileName, string Text)? file = null)
    {
        var form = page.APIRequest.CreateFormData();
        form.Set("__RequestVerificationToken", token);
        foreach (var (name, value) in fields ?? []) form.Set(name, value);
        if (file is { } f)
        {
            form.Set(f.Name, new FilePayload { Name = f.FileName, MimeType = "text/csv", Buffer = Encoding.UTF8.GetBytes(f.Text) });
            return await page.APIRequest.PostAsync(path, new() { Multipart = form, MaxRedirects = 0 });
        }
        return await page.APIRequest.PostAsync(path, new() { Form = form, MaxRedirects = 0 });
    }

    [Fact]
    public async Task Merchant_B_admin_forms_posted_with_A_ids_are_refused_and_change_nothing_of_A()
    {
        await TenantWorld.Settle(fixture.Db);
        var page = await fixture.SignedIn(B.Merchant);
        await page.GotoAsync($"/admin/webhooks/{B.Endpoint}");
        var token = await page.Locator("input[name=__RequestVerificationToken]").First.InputValueAsync();
        var day = fixture.Clock.GetUtcNow().AddDays(40).ToString("yyyy-MM-dd");
        var dateTime = fixture.Clock.GetUtcNow().AddDays(40).ToString("yyyy-MM-dd'T'HH:mm");
        var fee = new Dictionary<string, string>
        {
            ["EditedFee.AccessType"] = "ppv", ["EditedFee.Amount"] = "0.01", ["EditedFee.Currency"] = "EUR", ["EditedFee.Quantity"] = "1",
            ["EditedFee.Period"] = "day", ["EditedFee.Description"] = "Beta",
        };
        var newFee = fee.ToDictionary(p => p.Key.Replace("EditedFee.", "NewFee."), p => p.Value);
        var schedule = new Dictionary<string, string>
        {
            ["Form.Name"] = "Beta grab", ["Form.Type"] = "payments", ["Form.Kind"] = "once", ["Form.RunAt"] = dateTime,
            ["Form.DataFrom"] = "2020-01-01", ["Form.DataTo"] = "2020-02-01",
        };
        var voucherDetails = new Dictionary<string, string> { ["Form.Name"] = "Beta grab", ["Form.Discount"] = "99", ["Form.StartDate"] = "2020-01-01" };
        var csv = $"user_id,item_id,starts_at,expires_at\n{A.V1.Id},{A.Item},,{day}T00:00:00Z\n{B.Viewer.Id},{A.OtherItem},,{day}T00:00:00Z\n";

        // The control: B's own form works with this token.
        Assert.Equal(302, (await Post(page, token, $"/admin/webhooks/{B.Endpoint}?handler=Disable")).Status);
        Assert.Equal(302, (await Post(page, token, $"/admin/webhooks/{B.Endpoint}?handler=Enable")).Status);

        var before = await TenantWorld.Snapshot(fixture.Db, A.Merchant.Id);
        var posts = new List<(string Path, Dictionary<string, string>? Fields, int Status)>
        {
            // Audience: A's viewers, and A's passes or assets on B's viewer.
            ($"/admin/audience/{A.V1.Id}?status=all&handler=Revoke&passId={A.GrantedPass}", null, 404),
            ($"/admin/audience/{A.V1.Id}?status=all&handler=Grant", new() { ["Resource"] = $"item:{B.Item}", ["ExpiresOn"] = day }, 404),
            ($"/admin/audience/{B.Viewer.Id}?status=all&handler=Revoke&passId={A.GrantedPass}", null, 404),
            ($"/admin/audience/{B.Viewer.Id}?status=all&handler=Extend&passId={A.PaidPass}", new() { ["ExtendTo"] = day }, 404),
            ($"/admin/audience/{B.Viewer.Id}?status=all&handler=Grant", new() { ["Resource"] = $"item:{A.Item}", ["ExpiresOn"] = day }, 400),
            ($"/admin/audience/{B.Viewer.Id}?status=all&handler=Grant", new() { ["Resource"] = $"package:{A.Package}", ["ExpiresOn"] = day }, 400),
            // Content: A's asset and package, and A's price options and assets on B's.
            ($"/admin/content/assets/{A.Item}?handler=Save", new() { ["Form.Title"] = "Beta grab", ["Form.ItemType"] = "html" }, 404),
            ($"/admin/content/assets/{A.Item}?handler=SetActive&active=false", null, 404),
            ($"/admin/content/assets/{A.Item}?handler=AddFee", newFee, 404),
            ($"/admin/content/assets/{A.Item}?handler=EditFee&feeId={A.PpvFee}", fee, 404),
            ($"/admin/content/assets/{B.Item}?handler=EditFee&feeId={A.PpvFee}", fee, 404),
            ($"/admin/content/assets/{B.Item}?handler=SetFeeActive&feeId={A.PpvFee}&active=false", null, 404),
            ($"/admin/content/packages/{A.Package}?handler=Save", new() { ["Form.Title"] = "Beta grab" }, 404),
            ($"/admin/content/packages/{A.Package}?handler=SetActive&active=false", null, 404),
            ($"/admin/content/packages/{A.Package}?handler=AddAsset", new() { ["AssetId"] = B.Item.ToString() }, 404),
            ($"/admin/content/packages/{A.Package}?handler=RemoveAsset&assetId={A.Item}", null, 404),
            ($"/admin/content/packages/{B.Package}?handler=RemoveAsset&assetId={A.Item}", null, 404),
            ($"/admin/content/packages/{B.Package}?handler=AddAsset", new() { ["AssetId"] = A.OtherItem.ToString() }, 400),
            ($"/admin/content/packages/{B.Package}?handler=SetFeeActive&feeId={A.PackageFee}&active=false", null, 404),
            // Transactions and reports.
            ($"/admin/transactions/subscriptions/{A.Subscription}?handler=Cancel", null, 404),
            ($"/admin/transactions/reports/schedules/{A.Schedule}", schedule, 404),
            ($"/admin/transactions/reports/schedules/{A.Schedule}?handler=Delete", null, 404),
            ($"/admin/reports/{A.Report}/delete", null, 404),
            // Promotions: A's vouchers, and A's rules, assets and price options on B's voucher.
            ($"/admin/promotions/{A.Voucher}?handler=Save", voucherDetails, 404),
            ($"/admin/promotions/{A.Voucher}?handler=AddRule&type=emails", new() { ["value"] = "bv@beta.test" }, 404),
            ($"/admin/promotions/{A.Voucher}?handler=RemoveRule&ruleId={A.Rule}", null, 404),
            ($"/admin/promotions/{A.Voucher}?handler=SaveFees", new() { ["offered"] = A.PpvFee.ToString() }, 404),
            ($"/admin/promotions/{A.Voucher}?handler=GenerateCodes", new() { ["count"] = "3" }, 404),
            ($"/admin/promotions/{B.Voucher}?handler=RemoveRule&ruleId={A.Rule}", null, 404),
            ($"/admin/promotions/{B.Voucher}?handler=AddRule&type=assets", new() { ["value"] = A.Item.ToString() }, 400),
            ($"/admin/promotions/{B.Voucher}?handler=SaveFees", new() { ["offered"] = A.PpvFee.ToString(), ["chosen"] = A.PpvFee.ToString() }, 400),
            // Webhooks: A's endpoints and messages.
            ($"/admin/webhooks/{A.Endpoint}?handler=Save", new() { ["Form.Url"] = "http://127.0.0.1:9/beta", ["Form.Format"] = "standard" }, 404),
            ($"/admin/webhooks/{A.Endpoint}?handler=Disable", null, 404),
            ($"/admin/webhooks/{A.HeldEndpoint}?handler=Enable", null, 404),
            ($"/admin/webhooks/{A.Endpoint}?handler=Replay", new() { ["since"] = "2000-01-01T00:00" }, 404),
            ($"/admin/webhooks/{A.Endpoint}?handler=Rotate", new() { ["overlapHours"] = "0" }, 404),
            ($"/admin/webhooks/messages/{A.DeliveredMessage}?handler=Replay", null, 404),
            ($"/admin/webhooks/messages/{A.HeldMessage}?handler=Replay", null, 404),
        };
        // Deletes last, so that a leaking one would not hide what the others do.
        posts.AddRange(new[] { A.Voucher, A.AccessVoucher, A.Gift }.Select(id => ($"/admin/promotions/{id}?handler=Delete", (Dictionary<string, string>?)null, 404)));
        posts.AddRange(new[] { A.Endpoint, A.HeldEndpoint }.Select(id => ($"/admin/webhooks/{id}?handler=Delete", (Dictionary<string, string>?)null, 404)));

        var problems = new List<string>();
        // The Access tab: a pass of A's is not found, and the tab comes back saying so.
        foreach (var (handler, fields) in new[]
                 {
                     ("Revoke", new Dictionary<string, string> { ["passId"] = A.PaidPass.ToString() }),
                     ("Extend", new Dictionary<string, string> { ["passId"] = A.GrantedPass.ToString(), ["expiresAt"] = dateTime }),
                 })
        {
            var response = await Post(page, token, $"/admin/access?status=all&handler={handler}", fields);
            Assert.Equal(302, response.Status);
            await page.GotoAsync(response.Headers["location"]);
            await Expect(page.GetByText($"Could not {handler.ToLowerInvariant()} access: Access pass not found.")).ToBeVisibleAsync();
            NoLeak($"the Access tab after {handler}", await page.ContentAsync());
        }
        foreach (var (path, fields, status) in posts)
        {
            var response = await Post(page, token, path, fields);
            if (response.Status != status) problems.Add($"POST {path}: {response.Status}, expected {status}: {Regex.Replace(await response.TextAsync(), "<[^>]+>|\\s+", " ")}");
            if (W.Leaks(await response.TextAsync()).ToList() is [_, ..] leaks) problems.Add($"POST {path} shows A's {string.Join(", ", leaks)}");
        }
        var import = await Post(page, token, $"/admin/promotions/{A.Voucher}?handler=ImportEmails", file: ("file", "emails.csv", "email\nbv@beta.test\n"));
        if (import.Status != 404) problems.Add($"ImportEmails into A's voucher: {import.Status}");
        // A bulk file of A's ids is B's own job: every row refused, nothing applied.
        var upload = await Post(page, token, "/admin/access/bulk?handler=Upload", new() { ["action"] = "grant", ["applyValidRows"] = "true" },
            ("file", "beta-bulk.csv", csv));
        if (upload.Status != 302) problems.Add($"Bulk upload of A's ids: {upload.Status} {await upload.TextAsync()}");
        // B rotating its own API secret ends B's merchant tokens, not A's (B's token is not used by these tests after this).
        var rotate = await Post(page, token, "/admin/settings?handler=Rotate");
        if (rotate.Status != 302) problems.Add($"B's own secret rotation: {rotate.Status}");
        var aAccount = await TenantWorld.Call(fixture.Http, HttpMethod.Get, "/accounts", A.Token);
        if (aAccount.Status != 200) problems.Add($"A's merchant token after B rotated its secret: {aAccount.Status}");

        await TenantWorld.Settle(fixture.Db);
        await using (var connection = await fixture.Db.OpenConnectionAsync())
        {
            var job = await connection.QuerySingleAsync<(int Applied, int Errors)>(
                "select applied_rows, error_rows from access.bulk_jobs where merchant_id = @id order by id desc limit 1", new { id = B.Merchant.Id });
            if (job != (0, 2)) problems.Add($"B's bulk job of A's ids: {job.Applied} applied, {job.Errors} errors");
        }
        var after = await TenantWorld.Snapshot(fixture.Db, A.Merchant.Id);
        problems.AddRange(before.Keys.Where(t => before[t] != after[t]).Select(t => $"A's rows in {t} changed:\nbefore {before[t]}\nafter  {after[t]}"));
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public async Task Signed_out_every_admin_page_sends_to_the_login()
    {
        var page = await fixture.NewPage();
        var idPages = IdPages();
        var paths = AdminRoutes()
            .Where(r => r != "/admin/login")
            .SelectMany(r => idPages.TryGetValue(r, out var withIds) ? withIds : [r])
            .Concat(QueryIdDownloads())
            .ToList();
        foreach (var path in paths)
        {
            await page.GotoAsync(path);
            await Expect(page).ToHaveURLAsync(new Regex(@"/admin/login(\?ReturnUrl=.*)?$"));
            NoLeak($"{path} signed out", await page.ContentAsync());
        }
    }
}
