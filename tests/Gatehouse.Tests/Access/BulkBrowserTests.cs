using System.Net.Http.Headers;
using System.Text.Json;
using Dapper;
using Gatehouse.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Gatehouse.Tests.Access;

/// <summary>The Bulk actions tab, clicked through: template, upload with options, progress to the end, results file.</summary>
public sealed class BulkBrowserTests(BrowserFixture fixture) : IClassFixture<BrowserFixture>
{
    private async Task<(long Viewer, long Item)> Data(TestMerchant merchant)
    {
        using var client = new HttpClient { BaseAddress = new Uri(fixture.BaseUrl) };
        var auth = await client.PostAsync("/accounts/authenticate", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials", ["client_id"] = merchant.Uuid.ToString(), ["client_secret"] = merchant.Secret,
        }));
        var token = JsonDocument.Parse(await auth.Content.ReadAsStringAsync()).RootElement.GetProperty("access_token").GetString();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var item = await client.PostAsync("/v2/items", new FormUrlEncodedContent(new Dictionary<string, string> { ["title"] = "Cup Final", ["item_type"] = "video" }));
        var viewer = await client.PostAsync("/v2/accounts/customers", new FormUrlEncodedContent(new Dictionary<string, string> { ["email"] = "bulk@viewer.tv" }));
        return (JsonDocument.Parse(await viewer.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetInt64(),
                JsonDocument.Parse(await item.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetInt64());
    }

    [Fact]
    public async Task An_admin_downloads_a_template_uploads_a_file_and_gets_the_results()
    {
        var merchant = await Given.Merchant(fixture.Db);
        var (viewer, item) = await Data(merchant);
        var page = await fixture.SignedIn(merchant);
        await page.GetByRole(AriaRole.Link, new() { Name = "Access", Exact = true }).ClickAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Bulk actions" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/admin/access/bulk$"));

        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByRole(AriaRole.Link, new() { Name = "grant", Exact = true }).ClickAsync());
        var template = await File.ReadAllTextAsync((await download.PathAsync())!);
        Assert.StartsWith("user_id,item_id,starts_at,expires_at\n", template);

        // A dry run first: it reports and changes nothing.
        var expires = fixture.Clock.GetUtcNow().AddDays(30).ToString("yyyy-MM-ddTHH:mm:ssZ");
        var csv = $"user_id,item_id,starts_at,expires_at\n{viewer},{item},,{expires}\n";
        var path = Path.Combine(Path.GetTempPath(), $"bulk-{Guid.NewGuid():N}.csv");
        await File.WriteAllTextAsync(path, csv);
        await page.GetByLabel("Action").SelectOptionAsync("grant");
        await page.GetByLabel("CSV file").SetInputFilesAsync(path);
        await page.GetByLabel("Dry run").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Submit" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("(dry run)");
        await Expect(page.GetByText("Dry run: 1 rows would be applied")).ToBeVisibleAsync(new() { Timeout = 30_000 });

        // Then for real: the page follows the job to the end and offers the results.
        await page.GetByLabel("Action").SelectOptionAsync("grant");
        await page.GetByLabel("CSV file").SetInputFilesAsync(path);
        await page.GetByRole(AriaRole.Button, new() { Name = "Submit" }).ClickAsync();
        await Expect(page.GetByText("1 rows applied, 0 skipped, 0 with errors.")).ToBeVisibleAsync(new() { Timeout = 30_000 });
        var results = await page.RunAndWaitForDownloadAsync(() => page.GetByRole(AriaRole.Link, new() { Name = "Download results" }).First.ClickAsync());
        Assert.Contains(",applied,", await File.ReadAllTextAsync((await results.PathAsync())!));
        await using (var connection = await fixture.Db.OpenConnectionAsync())
            Assert.Equal(1, await connection.ExecuteScalarAsync<int>("select count(*) from access.passes where merchant_id = @Id", new { merchant.Id }));

        // The same file again is refused with a message naming the job.
        await page.GetByLabel("CSV file").SetInputFilesAsync(path);
        await page.GetByRole(AriaRole.Button, new() { Name = "Submit" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("already uploaded as bulk job");
    }

    [Fact]
    public async Task A_file_with_the_wrong_columns_is_refused_with_a_clear_message()
    {
        var merchant = await Given.Merchant(fixture.Db);
        var page = await fixture.SignedIn(merchant);
        await page.GotoAsync("/admin/access/bulk");
        var path = Path.Combine(Path.GetTempPath(), $"bulk-{Guid.NewGuid():N}.csv");
        await File.WriteAllTextAsync(path, "user;item;from;to\n1;2;;\n");
        await page.GetByLabel("CSV file").SetInputFilesAsync(path);
        await page.GetByRole(AriaRole.Button, new() { Name = "Submit" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("must be comma-separated");
        await Expect(page.GetByText("No bulk jobs yet.")).ToBeVisibleAsync();
    }
}
