using System.Net;
using System.Text;
using System.Text.Json;
using Dapper;
using Gatehouse.Reports;
using Gatehouse.Tests.Infrastructure;
using static Gatehouse.Tests.Reports.ReportKit;

namespace Gatehouse.Tests.Reports;

/// <summary>
/// The Reports API endpoint by endpoint: what each answers (its shape pinned by a snapshot), the bodies it reads, what it
/// refuses field by field without writing anything, and who may call it. The clock stays at ReportsFixture.Epoch.
/// </summary>
public sealed class ReportApiTests(ReportsFixture app) : IClassFixture<ReportsFixture>
{
    private sealed record Shop(TestMerchant Merchant, string Token);

    private async Task<Shop> OpenShop(string name = "Report Media")
    {
        var merchant = await Given.Merchant(app.Db, name);
        return new Shop(merchant, await Given.MerchantToken(app.Host, merchant));
    }

    /// <summary>One pass created in March 2030, so a March access report has a row.</summary>
    private async Task SeedOnePass(Shop shop)
    {
        await using var connection = await app.Db.OpenConnectionAsync();
        var seed = new ReportSeeder(connection, shop.Merchant.Id);
        var viewer = await seed.Viewer($"viewer-{shop.Merchant.Uuid:N}@viewers.test", Guid.NewGuid());
        await seed.AccessPass(new(viewer, "2030-03-10T10:00:00Z", "2030-03-10T10:00:00Z", "2030-04-10T10:00:00Z", ItemId: await seed.Item("Cup Final")));
    }

    private static Dictionary<string, string> March(string type = "access") => new() { ["type"] = type, ["from"] = "2030-03-01", ["to"] = "2030-03-31" };

    private Task<long> Count(string table, long merchantId) => Scalar<long>(app, $"select count(*) from {table} where merchant_id = @merchantId", new { merchantId });

    /// <summary>Sends a request that must be refused: a 400 in the error shape naming exactly <paramref name="fields"/>; its body is pinned under <paramref name="name"/>.</summary>
    private async Task Refused(string token, Action<Scenario> request, string name, params string[] fields)
    {
        var body = await Send(app, token, request, 400);
        Assert.Equal((400, "Invalid input"), (body.GetProperty("code").GetInt32(), body.GetProperty("message").GetString()));
        Assert.Equal(fields.Order(), body.GetProperty("errors").EnumerateObject().Select(e => e.Name).Order());
        body.GetRawText().MatchSnapshot(name, member: "Refused");
    }

    [Fact]
    public async Task The_types_list_each_types_columns_in_file_order_and_the_record_types_of_each_access_status()
    {
        var shop = await OpenShop();
        var types = await Send(app, shop.Token, x => x.Get.Url("/v2/reports/types"));
        Assert.Equal(["access", "payments", "subscriptions"], types.EnumerateArray().Select(t => t.GetProperty("type").GetString()));
        var access = types[0];
        Assert.Equal(ReportType.Access.Columns.Select(c => c.Key), access.GetProperty("columns").EnumerateArray().Select(c => c.GetProperty("key").GetString()));
        Assert.Equal(["purchased", "granted", "access-voucher", "full-discount"], access.GetProperty("active_record_types").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal(["expired", "revoked"], access.GetProperty("inactive_record_types").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal(0, types[1].GetProperty("active_record_types").GetArrayLength());
        types.GetRawText().MatchSnapshot();
    }

    [Fact]
    public async Task A_report_is_accepted_generated_read_listed_downloaded_and_deleted()
    {
        var shop = await OpenShop();
        await SeedOnePass(shop);
        var result = await app.Host.Scenario(x =>
        {
            x.Post.FormData(March()).ToUrl("/v2/reports");
            x.WithBearerToken(shop.Token);
            x.StatusCodeShouldBe(202);
        });
        var queued = JsonDocument.Parse(await result.ReadAsTextAsync()).RootElement.Clone();
        var id = queued.GetProperty("id").GetInt64();
        Assert.Equal($"/v2/reports/{id}", result.Context.Response.Headers.Location.ToString());
        Assert.Equal(("queued", "Access report, 2030-03-01 to 2030-03-31", "merchant:api", JsonValueKind.Null), (queued.GetProperty("status").GetString(),
            queued.GetProperty("name").GetString(), queued.GetProperty("requested_by").GetString(), queued.GetProperty("download_url").ValueKind));
        Assert.Equal(ReportType.Access.Columns.Select(c => c.Key), queued.GetProperty("columns").EnumerateArray().Select(c => c.GetString()));
        Shape(queued).MatchSnapshot("queued");

        var ready = await Ready(app, shop.Token, id);
        Assert.Equal((100, 1L, 1L, $"/v2/reports/{id}/download"), (ready.GetProperty("progress").GetInt32(), ready.GetProperty("rows_total").GetInt64(),
            ready.GetProperty("rows_written").GetInt64(), ready.GetProperty("download_url").GetString()));
        Assert.Equal(ready.GetProperty("finished_at").GetDateTimeOffset().AddDays(10), ready.GetProperty("expires_at").GetDateTimeOffset());
        Shape(ready).MatchSnapshot("ready");

        var (text, bytes, download) = await Download(app, shop.Token, id);
        Assert.Equal($"attachment; filename=\"access-report-{id}-access-report-2030-03-01-to-2030-03-31.csv\"",
            download.Context.Response.Headers.ContentDisposition.ToString());
        Assert.Equal(ready.GetProperty("size_bytes").GetInt64(), bytes.Length);
        Assert.Equal(2, Lines(text).Length);
        Assert.StartsWith("item_access_id,status,", text);

        var list = await Send(app, shop.Token, x => x.Get.Url("/v2/reports"));
        Assert.Equal(id, Assert.Single(list.GetProperty("collection").EnumerateArray()).GetProperty("id").GetInt64());
        Shape(list).MatchSnapshot("list");

        await app.Host.Scenario(x => { x.Delete.Url($"/v2/reports/{id}"); x.WithBearerToken(shop.Token); x.StatusCodeShouldBe(204); });
        (await Send(app, shop.Token, x => x.Get.Url($"/v2/reports/{id}"), 404)).GetRawText().MatchSnapshot("deleted");
        await Send(app, shop.Token, x => x.Get.Url($"/v2/reports/{id}/download"), 404);
        await Send(app, shop.Token, x => x.Delete.Url($"/v2/reports/{id}"), 404);
        Assert.Equal(0, (await Send(app, shop.Token, x => x.Get.Url("/v2/reports"))).GetProperty("total").GetInt64());
        Assert.Equal(0L, await Scalar<long>(app, "select count(*) from reports.report_chunks where report_id = @id", new { id }));
        await Send(app, shop.Token, x => x.Get.Url("/v2/reports/999999999/download"), 404);
    }

    [Fact]
    public async Task Lists_arrive_as_json_arrays_repeated_or_indexed_form_fields_or_one_comma_separated_value()
    {
        var shop = await OpenShop();
        // Whichever way they come, the columns are stored in the file's order and the record types as given.
        string[] columns = ["item_id", "consumer_email"];
        void Same(JsonElement report)
        {
            Assert.Equal(columns, report.GetProperty("columns").EnumerateArray().Select(c => c.GetString()));
            Assert.Equal(["revoked"], report.GetProperty("record_types").EnumerateArray().Select(c => c.GetString()));
            Assert.Equal("inactive", report.GetProperty("access_status").GetString());
        }

        var json = await Send(app, shop.Token, x => x.Post.Json(new
        {
            type = "access", from = "2030-03-01T00:00:00Z", to = "2030-04-01T00:00:00Z", status = "inactive", record_types = new[] { "revoked" },
            columns = new[] { "consumer_email", "item_id" }, name = "Revoked in March",
        }).ToUrl("/v2/reports"), 202);
        Same(json);
        Assert.Equal("Revoked in March", json.GetProperty("name").GetString());
        Shape(json).MatchSnapshot("json");

        using var client = app.Host.Server.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v2/reports")
        {
            Content = new StringContent("type=access&from=2030-03-01&to=2030-03-31&status=inactive&record_types[]=revoked"
                                        + "&columns[]=consumer_email&columns[]=item_id&columns[]=consumer_email", Encoding.UTF8, "application/x-www-form-urlencoded"),
        };
        request.Headers.Authorization = new("Bearer", shop.Token);
        var repeated = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Accepted, repeated.StatusCode);
        Same(JsonDocument.Parse(await repeated.Content.ReadAsStringAsync()).RootElement);

        Same(await Request(app, shop.Token, new(March()) { ["status"] = "Inactive", ["record_types[0]"] = "revoked", ["columns[0]"] = "consumer_email", ["columns[1]"] = "item_id" }));
        Same(await Request(app, shop.Token, new(March()) { ["status"] = "inactive", ["record_types"] = "revoked", ["columns"] = " consumer_email , ITEM_ID," }));

        foreach (var report in (await Send(app, shop.Token, x => x.Get.Url("/v2/reports"))).GetProperty("collection").EnumerateArray())
        {
            var id = report.GetProperty("id").GetInt64();
            await Ready(app, shop.Token, id);
            Assert.Equal("item_id,consumer_email\n", (await Download(app, shop.Token, id)).Text);
        }
    }

    [Fact]
    public async Task Reports_are_listed_newest_first_by_type_schedule_and_whether_scheduled_a_page_at_a_time()
    {
        var shop = await OpenShop();
        var access = (await Request(app, shop.Token, March("access"))).GetProperty("id").GetInt64();
        var payments = (await Request(app, shop.Token, March("payments"))).GetProperty("id").GetInt64();
        var subscriptions = (await Request(app, shop.Token, March("subscriptions"))).GetProperty("id").GetInt64();
        var schedule = (await Send(app, shop.Token, x => x.Post.FormData(new Dictionary<string, string>
        {
            ["name"] = "Weekly sales", ["type"] = "payments", ["kind"] = "recurring", ["run_at"] = "2030-04-02T12:00:00Z", ["repeat_every"] = "1",
            ["repeat_unit"] = "week", ["data_last"] = "1", ["data_unit"] = "week",
        }).ToUrl("/v2/reports/schedules"), 201)).GetProperty("id").GetInt64();
        await RunSchedules(app);
        var scheduled = await Scalar<long>(app, "select id from reports.reports where schedule_id = @schedule", new { schedule });
        var other = await OpenShop("Other Media");
        await Request(app, other.Token, March("payments"));

        async Task<long[]> Ids(string query, long total)
        {
            var page = await Send(app, shop.Token, x => x.Get.Url("/v2/reports" + query));
            Assert.Equal(total, page.GetProperty("total").GetInt64());
            return page.GetProperty("collection").EnumerateArray().Select(r => r.GetProperty("id").GetInt64()).ToArray();
        }

        Assert.Equal([scheduled, subscriptions, payments, access], await Ids("", 4));
        Assert.Equal([scheduled, subscriptions, payments], await Ids("?type=payments,subscriptions", 3));
        Assert.Equal([scheduled, payments], await Ids("?type=payments", 2));
        Assert.Equal([access], await Ids("?type=access", 1));
        Assert.Equal([scheduled], await Ids("?scheduled=true", 1));
        Assert.Equal([subscriptions, payments, access], await Ids("?scheduled=false", 3));
        Assert.Equal([scheduled], await Ids($"?schedule_id={schedule}", 1));
        Assert.Empty(await Ids("?schedule_id=999999999", 0));
        Assert.Equal([payments, access], await Ids("?page=2&limit=2", 4));
        var page = await Send(app, shop.Token, x => x.Get.Url("/v2/reports?page=2&limit=2"));
        Assert.Equal((2, 2, 2), (page.GetProperty("page").GetInt32(), page.GetProperty("offset").GetInt32(), page.GetProperty("limit").GetInt32()));
        Shape(page).MatchSnapshot("page");
        var one = await Send(app, shop.Token, x => x.Get.Url($"/v2/reports/{scheduled}"));
        Assert.Equal(("Weekly sales, 2030-04-02 12:00 UTC", $"schedule:{schedule}", "2030-03-26T12:00:00.000Z", "2030-04-02T12:00:00.000Z"),
            (one.GetProperty("name").GetString(), one.GetProperty("requested_by").GetString(), one.GetProperty("period_from").GetString(),
                one.GetProperty("period_to").GetString()));
        Shape(one).MatchSnapshot("scheduled");

        (await Send(app, shop.Token, x => x.Get.Url("/v2/reports?type=payments,sales"), 400)).GetRawText().MatchSnapshot("unknown_type");
        (await Send(app, shop.Token, x => x.Get.Url("/v2/reports?page=0"), 400)).GetRawText().MatchSnapshot("page_zero");
        await Send(app, shop.Token, x => x.Get.Url("/v2/reports?scheduled=perhaps"), 400);
        await Send(app, shop.Token, x => x.Get.Url("/v2/reports?schedule_id=weekly"), 400);
    }

    [Fact]
    public async Task A_report_not_ready_is_a_conflict_to_download_and_shows_its_progress()
    {
        var shop = await OpenShop();
        await using var connection = await app.Db.OpenConnectionAsync();
        // Queued as the API queues it, with the worker's lock on it taken here, so no worker starts it until the test lets go.
        long id;
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            var report = RequestReport.Check(new RequestReport.Request(null, "access", "2030-03-01", "2030-03-31", null, null, null));
            id = await RequestReport.Queue(connection, transaction, shop.Merchant.Id, report, "merchant:api", app.Clock.GetUtcNow());
            await connection.ExecuteAsync("select pg_advisory_lock(hashtextextended('report:' || @id, 0))", new { id }, transaction);
            await transaction.CommitAsync();
        }

        var queued = await Send(app, shop.Token, x => x.Get.Url($"/v2/reports/{id}"));
        Assert.Equal(("queued", 0), (queued.GetProperty("status").GetString(), queued.GetProperty("progress").GetInt32()));
        (await Send(app, shop.Token, x => x.Get.Url($"/v2/reports/{id}/download"), 409)).GetRawText().MatchSnapshot("queued");

        // Halfway through a run, as the worker records it.
        await connection.ExecuteAsync("update reports.reports set status = 'running', rows_total = 200, rows_written = 50 where id = @id", new { id });
        var running = await Send(app, shop.Token, x => x.Get.Url($"/v2/reports/{id}"));
        Assert.Equal(("running", 25, JsonValueKind.Null), (running.GetProperty("status").GetString(), running.GetProperty("progress").GetInt32(),
            running.GetProperty("download_url").ValueKind));
        (await Send(app, shop.Token, x => x.Get.Url($"/v2/reports/{id}/download"), 409)).GetRawText().MatchSnapshot("running");

        await connection.ExecuteAsync("select pg_advisory_unlock(hashtextextended('report:' || @id, 0))", new { id });
        var ready = await Ready(app, shop.Token, id);
        Assert.Equal((0L, 0L), (ready.GetProperty("rows_total").GetInt64(), ready.GetProperty("rows_written").GetInt64()));
        Assert.StartsWith("item_access_id,", (await Download(app, shop.Token, id)).Text);

        await connection.ExecuteAsync("update reports.reports set status = 'failed', message = 'The report could not be generated; generate it again' where id = @id", new { id });
        (await Send(app, shop.Token, x => x.Get.Url($"/v2/reports/{id}/download"), 409)).GetRawText().MatchSnapshot("failed");
    }

    [Fact]
    public async Task Bad_report_requests_are_refused_field_by_field_and_store_nothing()
    {
        var shop = await OpenShop();
        Task Form(string name, Dictionary<string, string> form, params string[] fields) =>
            Refused(shop.Token, x => x.Post.FormData(form).ToUrl("/v2/reports"), "report_" + name, fields);
        Task Json(string name, object body, params string[] fields) =>
            Refused(shop.Token, x => x.Post.Json(body).ToUrl("/v2/reports"), "report_" + name, fields);

        await Form("no_type", new() { ["from"] = "2030-03-01", ["to"] = "2030-03-31" }, "type");
        await Form("unknown_type", new(March()) { ["type"] = "sales" }, "type");
        await Form("status_of_payments", new(March("payments")) { ["status"] = "active" }, "status");
        await Form("record_types_of_subscriptions", new(March("subscriptions")) { ["record_types"] = "revoked" }, "record_types");
        await Form("unknown_status", new(March()) { ["status"] = "revoked" }, "status");
        await Form("record_types_of_all", new(March()) { ["status"] = "all", ["record_types"] = "revoked" }, "record_types");
        await Form("record_type_of_the_other_status", new(March()) { ["status"] = "inactive", ["record_types"] = "revoked,purchased" }, "record_types");
        await Form("unknown_column", new(March()) { ["columns"] = "item_id,price" }, "columns");
        await Form("column_of_another_type", new(March("payments")) { ["columns"] = "item_access_id" }, "columns");
        await Form("long_name", new(March()) { ["name"] = new string('n', 201) }, "name");
        await Form("no_period", new() { ["type"] = "access" }, "from", "to");
        await Form("bad_times", new() { ["type"] = "access", ["from"] = "yesterday", ["to"] = "31/03/2030" }, "from", "to");
        await Form("to_before_from", new() { ["type"] = "access", ["from"] = "2030-03-31", ["to"] = "2030-03-01" }, "to");
        await Form("to_at_from", new() { ["type"] = "access", ["from"] = "2030-03-01T10:00:00Z", ["to"] = "2030-03-01T10:00:00Z" }, "to");
        await Form("everything_wrong", new() { ["name"] = new string('n', 201), ["type"] = "access", ["status"] = "some", ["columns"] = "x", ["from"] = "x" },
            "name", "status", "columns", "from", "to");
        await Json("columns_not_a_list", new { type = "access", from = "2030-03-01", to = "2030-03-31", columns = 5 }, "columns");
        await Json("record_types_not_a_list", new { type = "access", from = "2030-03-01", to = "2030-03-31", status = "inactive", record_types = true }, "record_types");
        await Json("number_in_columns", new { type = "access", from = "2030-03-01", to = "2030-03-31", columns = new object[] { "item_id", 7 } }, "columns");
        await Json("columns_nested", new { type = "access", from = "2030-03-01", to = "2030-03-31", columns = new { a = new { b = 1 } } }, "columns");
        await Json("type_not_text", new { type = new[] { "access" }, from = "2030-03-01", to = "2030-03-31" }, "type");

        Assert.Equal(0L, await Count("reports.reports", shop.Merchant.Id));
    }

    private static Dictionary<string, string> Once() => new()
    {
        ["name"] = "Quarter close", ["type"] = "payments", ["kind"] = "once", ["run_at"] = "2030-04-03T06:00:00Z", ["data_from"] = "2030-01-01",
        ["data_to"] = "2030-03-31",
    };

    private static Dictionary<string, string> Recurring() => new()
    {
        ["name"] = "Weekly access", ["type"] = "access", ["kind"] = "recurring", ["run_at"] = "2030-04-07T06:00:00Z", ["repeat_every"] = "1",
        ["repeat_unit"] = "week", ["data_last"] = "7", ["data_unit"] = "day", ["ends_at"] = "2030-06-30",
    };

    [Fact]
    public async Task Bad_schedules_are_refused_field_by_field_and_store_nothing()
    {
        var shop = await OpenShop();
        Task Form(string name, Dictionary<string, string> form, params string[] fields) =>
            Refused(shop.Token, x => x.Post.FormData(form).ToUrl("/v2/reports/schedules"), "schedule_" + name, fields);
        Dictionary<string, string> Without(Dictionary<string, string> form, params string[] keys)
        {
            foreach (var key in keys) form.Remove(key);
            return form;
        }

        await Form("no_name", Without(Once(), "name"), "name");
        await Form("blank_name", new(Once()) { ["name"] = "   " }, "name");
        await Form("long_name", new(Once()) { ["name"] = new string('n', 201) }, "name");
        await Form("no_type", Without(Once(), "type"), "type");
        await Form("options", new(Recurring()) { ["status"] = "inactive", ["record_types"] = "purchased", ["columns"] = "nope" }, "record_types", "columns");
        await Form("no_kind", Without(Once(), "kind"), "kind");
        await Form("unknown_kind", new(Once()) { ["kind"] = "weekly" }, "kind");
        await Form("once_without_times", Without(Once(), "run_at", "data_from", "data_to"), "run_at", "data_from", "data_to");
        await Form("once_bad_times", new(Once()) { ["run_at"] = "soon", ["data_from"] = "x", ["data_to"] = "2030-13-01" }, "run_at", "data_from", "data_to");
        await Form("data_to_before_data_from", new(Once()) { ["data_from"] = "2030-03-31", ["data_to"] = "2030-03-01" }, "data_to");
        await Form("run_at_in_the_past", new(Once()) { ["run_at"] = "2030-04-02T11:58:59Z" }, "run_at");
        await Form("recurring_without_timing", Without(Recurring(), "run_at", "repeat_every", "repeat_unit", "data_last", "data_unit"),
            "run_at", "repeat_every", "repeat_unit", "data_last", "data_unit");
        await Form("repeat_every_zero", new(Recurring()) { ["repeat_every"] = "0", ["data_last"] = "0" }, "repeat_every", "data_last");
        await Form("repeat_every_too_many", new(Recurring()) { ["repeat_every"] = "367", ["data_last"] = "367" }, "repeat_every", "data_last");
        await Form("repeat_every_not_a_number", new(Recurring()) { ["repeat_every"] = "often" }, "repeat_every");
        await Form("unknown_units", new(Recurring()) { ["repeat_unit"] = "year", ["data_unit"] = "hour" }, "repeat_unit", "data_unit");
        await Form("bad_ends_at", new(Recurring()) { ["ends_at"] = "never" }, "ends_at");
        await Form("ends_before_the_first_run", new(Recurring()) { ["ends_at"] = "2030-04-06" }, "ends_at");
        await Form("ends_at_the_first_run", new(Recurring()) { ["ends_at"] = "2030-04-07T06:00:00Z" }, "ends_at");
        Assert.Equal(0L, await Count("reports.schedules", shop.Merchant.Id));

        // A patch is checked the same way, merged with what is stored, and changes nothing when refused.
        var id = (await Send(app, shop.Token, x => x.Post.FormData(Recurring()).ToUrl("/v2/reports/schedules"), 201)).GetProperty("id").GetInt64();
        await Refused(shop.Token, x => x.Patch.FormData(new Dictionary<string, string> { ["repeat_unit"] = "year", ["name"] = "Renamed" })
            .ToUrl($"/v2/reports/schedules/{id}"), "schedule_patch", "repeat_unit");
        await Refused(shop.Token, x => x.Patch.Json(new { kind = "once" }).ToUrl($"/v2/reports/schedules/{id}"), "schedule_patch_kind", "data_from", "data_to");
        var stored = await Send(app, shop.Token, x => x.Get.Url($"/v2/reports/schedules/{id}"));
        Assert.Equal(("Weekly access", "week", "recurring"), (stored.GetProperty("name").GetString(), stored.GetProperty("repeat_unit").GetString(),
            stored.GetProperty("kind").GetString()));
        Assert.Equal(0L, await Count("reports.reports", shop.Merchant.Id));
    }

    [Fact]
    public async Task Schedules_are_created_listed_read_changed_and_deleted()
    {
        var shop = await OpenShop();
        var result = await app.Host.Scenario(x =>
        {
            x.Post.FormData(Once()).ToUrl("/v2/reports/schedules");
            x.WithBearerToken(shop.Token);
            x.StatusCodeShouldBe(201);
        });
        var once = JsonDocument.Parse(await result.ReadAsTextAsync()).RootElement.Clone();
        var onceId = once.GetProperty("id").GetInt64();
        Assert.Equal($"/v2/reports/schedules/{onceId}", result.Context.Response.Headers.Location.ToString());
        // data_to, a date, takes in the whole of March 31.
        Assert.Equal(("2030-04-03T06:00:00.000Z", "2030-01-01T00:00:00.000Z", "2030-04-01T00:00:00.000Z", "2030-04-03T06:00:00.000Z", 0),
            (once.GetProperty("run_at").GetString(), once.GetProperty("data_from").GetString(), once.GetProperty("data_to").GetString(),
                once.GetProperty("next_run_at").GetString(), once.GetProperty("runs").GetInt32()));
        once.GetRawText().MatchSnapshot("once");

        var recurring = await Send(app, shop.Token, x => x.Post.Json(new
        {
            name = "Weekly access", type = "access", kind = "recurring", run_at = "2030-04-07T06:00:00Z", repeat_every = 1, repeat_unit = "week",
            data_last = 7, data_unit = "day", ends_at = "2030-06-30", status = "inactive", record_types = new[] { "revoked" },
            columns = new[] { "consumer_email", "item_access_id" },
        }).ToUrl("/v2/reports/schedules"), 201);
        var recurringId = recurring.GetProperty("id").GetInt64();
        Assert.Equal("2030-07-01T00:00:00.000Z", recurring.GetProperty("ends_at").GetString());
        recurring.GetRawText().MatchSnapshot("recurring");

        var list = await Send(app, shop.Token, x => x.Get.Url("/v2/reports/schedules"));
        Assert.Equal([recurringId, onceId], list.GetProperty("collection").EnumerateArray().Select(s => s.GetProperty("id").GetInt64()));
        list.GetRawText().MatchSnapshot("list");
        var payments = await Send(app, shop.Token, x => x.Get.Url("/v2/reports/schedules?type=payments,subscriptions"));
        Assert.Equal(onceId, Assert.Single(payments.GetProperty("collection").EnumerateArray()).GetProperty("id").GetInt64());
        var paged = await Send(app, shop.Token, x => x.Get.Url("/v2/reports/schedules?page=2&limit=1"));
        Assert.Equal((2L, onceId), (paged.GetProperty("total").GetInt64(), Assert.Single(paged.GetProperty("collection").EnumerateArray()).GetProperty("id").GetInt64()));
        (await Send(app, shop.Token, x => x.Get.Url("/v2/reports/schedules?type=weekly"), 400)).GetRawText().MatchSnapshot("unknown_type");

        (await Send(app, shop.Token, x => x.Get.Url($"/v2/reports/schedules/{recurringId}"))).GetRawText().MatchSnapshot("one");
        var renamed = await Send(app, shop.Token, x => x.Patch.FormData(new Dictionary<string, string> { ["name"] = "Revoked this week", ["columns"] = "item_title" })
            .ToUrl($"/v2/reports/schedules/{recurringId}"));
        Assert.Equal(("Revoked this week", "inactive", "2030-04-07T06:00:00.000Z"), (renamed.GetProperty("name").GetString(),
            renamed.GetProperty("access_status").GetString(), renamed.GetProperty("next_run_at").GetString()));
        Assert.Equal(["item_title"], renamed.GetProperty("columns").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal(["revoked"], renamed.GetProperty("record_types").EnumerateArray().Select(c => c.GetString()));
        renamed.GetRawText().MatchSnapshot("patched");

        await app.Host.Scenario(x => { x.Delete.Url($"/v2/reports/schedules/{onceId}"); x.WithBearerToken(shop.Token); x.StatusCodeShouldBe(204); });
        (await Send(app, shop.Token, x => x.Get.Url($"/v2/reports/schedules/{onceId}"), 404)).GetRawText().MatchSnapshot("deleted");
        await Send(app, shop.Token, x => x.Patch.FormData(new Dictionary<string, string> { ["name"] = "x" }).ToUrl($"/v2/reports/schedules/{onceId}"), 404);
        await Send(app, shop.Token, x => x.Delete.Url($"/v2/reports/schedules/{onceId}"), 404);
        Assert.Equal(1L, (await Send(app, shop.Token, x => x.Get.Url("/v2/reports/schedules"))).GetProperty("total").GetInt64());
    }

    [Fact]
    public async Task Only_merchants_reach_reports_and_one_merchant_never_reaches_anothers()
    {
        var shop = await OpenShop();
        await SeedOnePass(shop);
        var reportId = (await Request(app, shop.Token, March())).GetProperty("id").GetInt64();
        await Ready(app, shop.Token, reportId);
        var scheduleId = (await Send(app, shop.Token, x => x.Post.FormData(Once()).ToUrl("/v2/reports/schedules"), 201)).GetProperty("id").GetInt64();
        string[] reads = ["/v2/reports", "/v2/reports/types", $"/v2/reports/{reportId}", $"/v2/reports/{reportId}/download", "/v2/reports/schedules",
            $"/v2/reports/schedules/{scheduleId}"];
        Action<Scenario>[] writes =
        [
            x => x.Post.FormData(March()).ToUrl("/v2/reports"),
            x => x.Delete.Url($"/v2/reports/{reportId}"),
            x => x.Post.FormData(Once()).ToUrl("/v2/reports/schedules"),
            x => x.Patch.FormData(new Dictionary<string, string> { ["name"] = "Mine now" }).ToUrl($"/v2/reports/schedules/{scheduleId}"),
            x => x.Delete.Url($"/v2/reports/schedules/{scheduleId}"),
        ];
        var requests = reads.Select(url => (Action<Scenario>)(x => x.Get.Url(url))).Concat(writes).ToList();

        // No token: 401; a viewer's token: 403.
        foreach (var request in requests) await app.Host.Scenario(x => { request(x); x.StatusCodeShouldBe(401); });
        var viewer = await Given.Consumer(app.Host, shop.Merchant);
        foreach (var request in requests) await Send(app, viewer.AccessToken, request, 403);
        (await Send(app, viewer.AccessToken, x => x.Get.Url("/v2/reports"), 403)).GetRawText().MatchSnapshot("viewer");

        // Another merchant: the ids are not found, the lists are empty.
        var other = await OpenShop("Other Media");
        await Send(app, other.Token, x => x.Get.Url($"/v2/reports/{reportId}"), 404);
        (await Send(app, other.Token, x => x.Get.Url($"/v2/reports/{reportId}/download"), 404)).GetRawText().MatchSnapshot("not_yours");
        await Send(app, other.Token, x => x.Delete.Url($"/v2/reports/{reportId}"), 404);
        await Send(app, other.Token, x => x.Get.Url($"/v2/reports/schedules/{scheduleId}"), 404);
        await Send(app, other.Token, x => x.Patch.FormData(new Dictionary<string, string> { ["name"] = "Mine now" }).ToUrl($"/v2/reports/schedules/{scheduleId}"), 404);
        await Send(app, other.Token, x => x.Delete.Url($"/v2/reports/schedules/{scheduleId}"), 404);
        Assert.Equal(0L, (await Send(app, other.Token, x => x.Get.Url("/v2/reports"))).GetProperty("total").GetInt64());
        Assert.Equal(0L, (await Send(app, other.Token, x => x.Get.Url($"/v2/reports?schedule_id={scheduleId}"))).GetProperty("total").GetInt64());
        Assert.Equal(0L, (await Send(app, other.Token, x => x.Get.Url("/v2/reports/schedules"))).GetProperty("total").GetInt64());

        // Everything is still there, unchanged, for its merchant.
        Assert.Equal("Access report, 2030-03-01 to 2030-03-31", (await Send(app, shop.Token, x => x.Get.Url($"/v2/reports/{reportId}"))).GetProperty("name").GetString());
        Assert.Equal(2, Lines((await Download(app, shop.Token, reportId)).Text).Length);
        Assert.Equal("Quarter close", (await Send(app, shop.Token, x => x.Get.Url($"/v2/reports/schedules/{scheduleId}"))).GetProperty("name").GetString());
        Assert.Equal(1L, await Count("reports.reports", shop.Merchant.Id));
        Assert.Equal(1L, await Count("reports.schedules", shop.Merchant.Id));
        Assert.Equal(0L, await Count("reports.reports", other.Merchant.Id) + await Count("reports.schedules", other.Merchant.Id));
    }
}
