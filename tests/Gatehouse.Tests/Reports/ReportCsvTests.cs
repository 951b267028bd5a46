using System.Runtime.CompilerServices;
using Snapshooter;
using Snapshooter.Xunit;
using static Gatehouse.Tests.Reports.ReportKit;

namespace Gatehouse.Tests.Reports;

/// <summary>
/// The files of the three report types over fixed data (ReportData, March 2030): every column, the columns chosen, the
/// access status and record type filters, the period's bounds, one merchant never seeing another's rows, and cells a
/// spreadsheet would run as formulas escaped. Every test reads the seeded data first, so its ids are the same on every run.
/// </summary>
public sealed class ReportCsvTests(ReportsFixture app) : IClassFixture<ReportsFixture>
{
    private async Task<string> Report(string type, Dictionary<string, string>? extra = null, Func<ReportData, string>? token = null)
    {
        var data = await app.Data;
        var form = new Dictionary<string, string> { ["type"] = type, ["from"] = ReportData.From, ["to"] = ReportData.To };
        foreach (var (k, v) in extra ?? []) form[k] = v;
        return await Generate(app, (token ?? (d => d.Token))(data), form);
    }

    /// <summary>The file's rows, each a map from its header's names to its cells (none of these files has a comma or line break in a cell).</summary>
    private static List<Dictionary<string, string>> Rows(string csv)
    {
        var lines = Lines(csv);
        var header = lines[0].Split(',');
        return lines.Skip(1).Select(l => header.Zip(l.Split(',')).ToDictionary(p => p.First, p => p.Second)).ToList();
    }

    /// <summary>Pins a file's text as it is: a .snap beside this file holding exactly the CSV.</summary>
    private static void MatchCsv(string csv, [CallerMemberName] string member = "", [CallerFilePath] string file = "") =>
        Snapshot.Match(csv, new SnapshotFullName($"{nameof(ReportCsvTests)}.{member}.snap", Path.GetDirectoryName(file)!));

    private async Task<string[]> ColumnsOf(string type)
    {
        var types = await Send(app, (await app.Data).Token, x => x.Get.Url("/v2/reports/types"));
        return types.EnumerateArray().Single(t => t.GetProperty("type").GetString() == type).GetProperty("columns").EnumerateArray()
            .Select(c => c.GetProperty("key").GetString()!).ToArray();
    }

    [Fact]
    public async Task An_access_report_has_every_column_one_row_per_pass_and_a_package_pass_once_as_the_package()
    {
        var csv = await Report("access");
        MatchCsv(csv);
        Assert.Equal(string.Join(",", await ColumnsOf("access")), Lines(csv)[0]);
        var rows = Rows(csv);
        Assert.Equal(8, rows.Count);
        // Ana's season pass is one row for the package (Cup Final is in it), with the price option it was bought with.
        var package = Assert.Single(rows, r => r["resource_type"] == "package");
        Assert.Equal(("Season pass", "ana@viewers.test", "Season ticket", "20.00", "EUR", "ppv"), (package["item_title"], package["consumer_email"],
            package["purchased_access_fee_description"], package["purchased_amount"], package["purchased_currency"], package["purchased_access_fee_type"]));
        // Ana's rows: that package pass, and her own trial pass of Cup Final; none for Cup Final through the package.
        Assert.Equal([("package", "Season pass", "false"), ("item", "Cup Final", "true")],
            rows.Where(r => r["consumer_email"] == "ana@viewers.test").Select(r => (r["resource_type"], r["item_title"], r["is_trial"])));
        var bought = Assert.Single(rows, r => r["consumer_email"] == "ben@viewers.test" && r["item_title"] == "Cup Final");
        Assert.Equal(("purchased", "item", "payment", "Two days", "4.99"), (bought["status"], bought["resource_type"], bought["source"],
            bought["purchased_access_fee_description"], bought["purchased_amount"]));
        var revoked = Assert.Single(rows, r => r["status"] == "revoked");
        Assert.Equal(("true", "2030-03-10T09:30:00Z", "granted"), (revoked["revoked"], revoked["revoked_at"], revoked["type"]));
        var expired = Assert.Single(rows, r => r["status"] == "expired");
        Assert.Equal(("access-voucher", "2030-03-14T12:00:00Z", "false"), (expired["type"], expired["expires_at"], expired["revoked"]));
        var trial = Assert.Single(rows, r => r["is_trial"] == "true");
        Assert.Equal(("Monthly", "subscription", "9.99"), (trial["purchased_access_fee_description"], trial["purchased_access_fee_type"], trial["purchased_amount"]));
        Assert.Equal("scheduled", Assert.Single(rows, r => r["source"] == "api")["status"]);
    }

    [Fact]
    public async Task A_payments_report_has_every_column_with_vouchers_failures_and_gifts()
    {
        var csv = await Report("payments");
        MatchCsv(csv);
        Assert.Equal(string.Join(",", await ColumnsOf("payments")), Lines(csv)[0]);
        var rows = Rows(csv);
        Assert.Equal(6, rows.Count);
        var withVoucher = Assert.Single(rows, r => r["voucher_code"] == "SPRING25");
        Assert.Equal(("4.99", "3.74", "25", "succeeded", "2030-04-04T10:00:00Z"), (withVoucher["amount"], withVoucher["charged_amount"],
            withVoucher["voucher_discount"], withVoucher["status"], withVoucher["expires_at"]));
        var failed = Assert.Single(rows, r => r["status"] == "failed");
        Assert.Equal(("Your card was declined", "", "0002"), (failed["failure_reason"], failed["transaction_token"], failed["card_last4"]));
        var gift = Assert.Single(rows, r => r["action_type"] == "gift");
        Assert.Equal(("GIFT-7QX2K9PA4M", "friend@viewers.test", "package", "Season pass"), (gift["gift_code"], gift["gift_receiver_email"],
            gift["item_type"], gift["item_title"]));
        var accessVoucher = Assert.Single(rows, r => r["action_type"] == "voucher");
        Assert.Equal(("100", "0.00", "voucher", "none"), (accessVoucher["voucher_discount"], accessVoucher["charged_amount"],
            accessVoucher["payment_method_name"], accessVoucher["gateway_name"]));
    }

    [Fact]
    public async Task A_subscriptions_report_has_every_column_with_voucher_terms_and_cancellations()
    {
        var csv = await Report("subscriptions");
        MatchCsv(csv);
        Assert.Equal(string.Join(",", await ColumnsOf("subscriptions")), Lines(csv)[0]);
        var rows = Rows(csv);
        Assert.Equal(2, rows.Count);
        var withVoucher = Assert.Single(rows, r => r["voucher_code"] == "HALF");
        Assert.Equal(("active", "50", "25", "1 month", "2030-04-10T08:00:00Z"), (withVoucher["status"], withVoucher["discount"],
            withVoucher["rebill_discount"], withVoucher["billing_period"], withVoucher["next_rebill_at"]));
        var cancelled = Assert.Single(rows, r => r["status"] == "cancelled");
        Assert.Equal(("2030-03-25T14:30:00Z", "merchant:api", "package", "", "1"), (cancelled["cancelled_at"], cancelled["cancelled_by"],
            cancelled["resource_type"], cancelled["next_rebill_at"], cancelled["failed_attempts"]));
    }

    [Fact]
    public async Task Only_the_chosen_columns_are_written_in_the_files_column_order()
    {
        var access = await Report("access", new() { ["columns"] = "consumer_email, item_access_id,STATUS" });
        Assert.Equal("item_access_id,status,consumer_email", Lines(access)[0]);
        Assert.Equal("2,purchased,ana@viewers.test", Lines(access)[1]);
        Assert.Equal(9, Lines(access).Length);

        var payments = await Report("payments", new() { ["columns[0]"] = "voucher_code", ["columns[1]"] = "id" });
        Assert.Equal(["id,voucher_code", "1,SPRING25", "2,", "3,", "4,FREEDERBY", "5,HALF", "6,"], Lines(payments));

        var subscriptions = await Report("subscriptions", new() { ["columns"] = "cancelled_by" });
        Assert.Equal(["cancelled_by", "merchant:api", "\"\""], Lines(subscriptions));
    }

    [Theory]
    [InlineData("active", "", "purchased purchased full-discount purchased granted")]
    [InlineData("inactive", "", "revoked expired")]
    [InlineData("all", "", "purchased purchased revoked expired full-discount scheduled purchased granted")]
    [InlineData("", "", "purchased purchased revoked expired full-discount scheduled purchased granted")]
    [InlineData("inactive", "revoked", "revoked")]
    [InlineData("inactive", "expired", "expired")]
    [InlineData("inactive", "revoked,expired", "revoked expired")]
    [InlineData("active", "purchased", "purchased purchased purchased")]
    [InlineData("active", "granted,access-voucher", "granted")]
    [InlineData("active", "full-discount", "full-discount")]
    public async Task Access_reports_keep_the_records_of_the_status_and_record_types_chosen(string status, string recordTypes, string expected)
    {
        var csv = await Report("access", new() { ["status"] = status, ["record_types"] = recordTypes, ["columns"] = "status" });
        Assert.Equal(expected.Split(' '), Lines(csv).Skip(1));
    }

    [Fact]
    public async Task The_period_takes_records_created_from_its_start_and_before_its_end_a_date_end_taking_in_its_whole_day()
    {
        string[] Created(string csv) => Lines(csv).Skip(1).ToArray();
        var columns = new Dictionary<string, string> { ["columns"] = "created_at" };

        // Date-times: a record created exactly at from is in, one created exactly at to is out.
        var times = await Report("access", new(columns) { ["from"] = "2030-03-05T10:00:00Z", ["to"] = "2030-03-07T12:00:00Z" });
        Assert.Equal(["2030-03-05T10:00:00Z", "2030-03-06T08:00:00Z"], Created(times));
        var last = await Report("access", new(columns) { ["from"] = "2030-03-30T18:00:00Z", ["to"] = "2030-03-31T23:59:59Z" });
        Assert.Equal(["2030-03-30T18:00:00Z"], Created(last));

        // Dates: from the first day's start to the end of the last day (the next day's start, excluded).
        var days = await Report("access", new(columns) { ["from"] = "2030-03-31", ["to"] = "2030-03-31" });
        Assert.Equal(["2030-03-31T23:59:59Z"], Created(days));
        var data = await app.Data;
        var report = await Request(app, data.Token, new() { ["type"] = "access", ["from"] = "2030-03-31", ["to"] = "2030-03-31" });
        Assert.Equal(("2030-03-31T00:00:00.000Z", "2030-04-01T00:00:00.000Z", "Access report, 2030-03-31 to 2030-03-31"),
            (report.GetProperty("period_from").GetString(), report.GetProperty("period_to").GetString(), report.GetProperty("name").GetString()));
        var april = await Report("access", new(columns) { ["from"] = "2030-04-01", ["to"] = "2030-04-01" });
        Assert.Equal(["2030-04-01T00:00:00Z"], Created(april));
        var february = await Report("payments", new(columns) { ["from"] = "2030-02-01", ["to"] = "2030-02-28" });
        Assert.Equal(["created_at"], Lines(february));
    }

    [Theory]
    [InlineData("access", "item_title,consumer_email", "Other show,other@viewers.test")]
    [InlineData("payments", "consumer_email,item_title", "other@viewers.test,Other show")]
    [InlineData("subscriptions", "consumer_email,item_title", "other@viewers.test,Other show")]
    public async Task Another_merchants_rows_never_appear(string type, string header, string row)
    {
        var mine = await Report(type, new() { ["columns"] = "consumer_email" });
        Assert.DoesNotContain("other@viewers.test", mine);
        Assert.True(Lines(mine).Length > 2);

        var theirs = await Report(type, new() { ["columns"] = "consumer_email,item_title" }, d => d.OtherToken);
        Assert.Equal([header, row], Lines(theirs));
    }

    [Fact]
    public async Task Cells_a_spreadsheet_would_run_as_formulas_are_escaped_with_a_quote_mark()
    {
        var csv = await Report("access", new() { ["columns"] = "consumer_email,item_title" }, d => d.FormulasToken);
        Assert.Equal(
            "item_title,consumer_email\n"
            + "\"'+SUM(A1:A9)\",\"'=1+2@evil.test\"\n"
            + "\"'@import\",\"'-1@evil.test\"\n"
            + "\"'\tTabbed\",\"'@me@evil.test\"\n"
            + "\"'\rReturned\",\"'+plus@evil.test\"\n"
            + "\"Plain, = not first\",plain@evil.test\n",
            csv);
    }
}
