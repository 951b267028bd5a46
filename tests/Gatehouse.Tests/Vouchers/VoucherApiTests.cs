using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Gatehouse.Tests.Infrastructure;

namespace Gatehouse.Tests.Vouchers;

/// <summary>The voucher API of the reference (v1 and v2) and Gatehouse's rule paths, with every error.</summary>
public sealed class VoucherApiTests(AppFixture app) : IClassFixture<AppFixture>
{
    private Task<JsonElement> Send(string token, Action<Scenario> request, int status = 200) => VoucherShop.Send(app, token, request, status);

    /// <summary>A generated code differs each run: the snapshot shows its place, the test checks its form.</summary>
    private static string WithoutCode(JsonElement voucher)
    {
        var node = JsonNode.Parse(voucher.GetRawText())!;
        node["code"] = "<code>";
        return node.ToJsonString();
    }

    [Fact]
    public async Task The_reference_create_sample_works_as_written()
    {
        var shop = await VoucherShop.Open(app);
        // curl -X POST /vouchers -d name='Voucher title' -d length=7 -d perfix=AB17 -d perfix=BA17 -d discount=30
        //   -d start_date=2017-01-10 -d end_date=2017-03-12 -d usage_limit=50  (its "perfix" typo is ignored)
        var content = new FormUrlEncodedContent(
        [
            new("name", "Voucher title"), new("length", "7"), new("perfix", "AB17"), new("perfix", "BA17"), new("discount", "30"),
            new("start_date", "2017-01-10"), new("end_date", "2017-03-12"), new("usage_limit", "50"),
        ]);
        using var client = app.Host.Server.CreateClient();
        client.DefaultRequestHeaders.Authorization = new("Bearer", shop.Token);
        var response = await client.PostAsync("/vouchers", content);
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
        var voucher = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Matches(new Regex("^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{7}$"), voucher.GetProperty("code").GetString());
        Assert.Equal("2017-01-10T00:00:00.000Z", voucher.GetProperty("start_date").GetString());
        Assert.Equal("2017-03-12T00:00:00.000Z", voucher.GetProperty("end_date").GetString());
        Assert.Equal((30, 50), (voucher.GetProperty("discount").GetInt32(), voucher.GetProperty("usage_limit").GetInt32()));
        WithoutCode(voucher).MatchSnapshot();
    }

    [Fact]
    public async Task A_generated_code_has_its_prefix_and_suffix_and_the_length_counts_the_middle()
    {
        var shop = await VoucherShop.Open(app);
        var voucher = await shop.CreateVoucher(app, new() { ["discount"] = "15", ["length"] = "6", ["prefix"] = "SPRING-", ["suffix"] = "-X" }, path: "/vouchers");
        Assert.Matches(new Regex("^SPRING-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{6}-X$"), voucher.GetProperty("code").GetString());
        Assert.Equal(("SPRING-", "-X", 6), (voucher.GetProperty("prefix").GetString(), voucher.GetProperty("suffix").GetString(), voucher.GetProperty("length").GetInt32()));
    }

    [Fact]
    public async Task Codes_are_unique_per_merchant_whatever_their_case()
    {
        var shop = await VoucherShop.Open(app);
        await shop.CreateVoucher(app, new() { ["discount"] = "10", ["code"] = "Summer2026" });
        var clash = await shop.CreateVoucher(app, new() { ["discount"] = "10", ["code"] = "SUMMER2026" }, 409);
        clash.GetRawText().MatchSnapshot();
        // Another merchant may use the same code.
        var other = await VoucherShop.Open(app);
        await other.CreateVoucher(app, new() { ["discount"] = "10", ["code"] = "summer2026" });
    }

    [Fact]
    public async Task Invalid_vouchers_are_refused_with_every_reason_and_nothing_is_stored()
    {
        var shop = await VoucherShop.Open(app);
        var errors = await Send(shop.Token, x => x.Post.FormData(new Dictionary<string, string>
        {
            ["discount"] = "101", ["code"] = "abc", ["discount_period"] = "repeating", ["start_date"] = "2026-05-01", ["end_date"] = "2026-04-01",
            ["usage_limit"] = "0", ["per_customer_limit"] = "0",
        }).ToUrl("/vouchers"), 400);
        errors.GetRawText().MatchSnapshot("fields");
        (await Send(shop.Token, x => x.Post.FormData(new Dictionary<string, string> { ["name"] = "x", ["discount"] = "ten", ["start_date"] = "2026-01-01" })
            .ToUrl("/vouchers"), 400)).GetRawText().MatchSnapshot("type");
        (await shop.CreateVoucher(app, new() { ["voucher_type"] = "access" }, 400)).GetRawText().MatchSnapshot("access_period");
        (await shop.CreateVoucher(app, new() { ["voucher_type"] = "gift" }, 400)).GetRawText().MatchSnapshot("voucher_type");
        (await shop.CreateVoucher(app, new() { ["discount"] = "10", ["rules[0][rule_type]"] = "assets", ["rules[0][value]"] = "99999999" }, 400))
            .GetRawText().MatchSnapshot("rule");
        var list = await Send(shop.Token, x => x.Get.Url("/vouchers"));
        Assert.Equal(0, list.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task Vouchers_are_listed_and_searched_as_the_reference_shows()
    {
        var shop = await VoucherShop.Open(app);
        var foo = await shop.CreateVoucher(app, new() { ["name"] = "Foo deal", ["discount"] = "20", ["code"] = "FOODEAL1" });
        await shop.CreateVoucher(app, new() { ["name"] = "Bar deal", ["discount"] = "30", ["code"] = "BARDEAL1" });
        var other = await VoucherShop.Open(app);
        await other.CreateVoucher(app, new() { ["name"] = "Foo elsewhere", ["discount"] = "20", ["code"] = "FOODEAL2" });

        var all = await Send(shop.Token, x => x.Get.Url("/vouchers?page=1&limit=15"));
        Assert.Equal(2, all.GetProperty("total").GetInt32());
        all.GetRawText().MatchSnapshot("all");
        var byName = await Send(shop.Token, x => x.Get.Url("/vouchers?search=name:foo"));
        Assert.Equal(["Foo deal"], byName.GetProperty("collection").EnumerateArray().Select(v => v.GetProperty("name").GetString()));
        var byBoth = await Send(shop.Token, x => x.Get.Url($"/vouchers?search=id:{foo.GetProperty("id")}&search=name:Foo"));
        Assert.Equal(1, byBoth.GetProperty("total").GetInt32());
        var byCode = await Send(shop.Token, x => x.Get.Url("/vouchers?search=code:bardeal1"));
        Assert.Equal("Bar deal", byCode.GetProperty("collection")[0].GetProperty("name").GetString());
        var paged = await Send(shop.Token, x => x.Get.Url("/vouchers?page=2&limit=1"));
        Assert.Equal((2, 1, 1), (paged.GetProperty("page").GetInt32(), paged.GetProperty("offset").GetInt32(), paged.GetProperty("limit").GetInt32()));
        (await Send(shop.Token, x => x.Get.Url("/vouchers?search=colour:red"), 400)).GetRawText().MatchSnapshot("bad_search");
    }

    [Fact]
    public async Task One_voucher_is_read_updated_and_deleted_and_never_by_another_merchant()
    {
        var shop = await VoucherShop.Open(app);
        var other = await VoucherShop.Open(app);
        var id = (await shop.CreateVoucher(app, new() { ["discount"] = "30", ["code"] = "READ-ME-1", ["usage_limit"] = "10" })).GetProperty("id").GetInt64();
        (await Send(shop.Token, x => x.Get.Url($"/vouchers/{id}"))).GetRawText().MatchSnapshot("one");
        (await Send(other.Token, x => x.Get.Url($"/vouchers/{id}"), 404)).GetRawText().MatchSnapshot("not_found");
        await Send(other.Token, x => x.Put.FormData(new Dictionary<string, string> { ["name"] = "x", ["discount"] = "5", ["start_date"] = "2026-01-01" }).ToUrl($"/vouchers/{id}"), 404);
        await Send(other.Token, x => x.Delete.Url($"/vouchers/{id}"), 404);

        // The reference's PUT sample.
        var put = await Send(shop.Token, x => x.Put.FormData(new Dictionary<string, string>
        {
            ["name"] = "Voucher title", ["discount"] = "50", ["start_date"] = "2017-01-10", ["end_date"] = "2017-05-10", ["usage_limit"] = "100",
        }).ToUrl($"/vouchers/{id}"));
        Assert.Equal((50, 50, 100), (put.GetProperty("discount").GetInt32(), put.GetProperty("rebill_discount").GetInt32(), put.GetProperty("usage_limit").GetInt32()));
        put.GetRawText().MatchSnapshot("put");
        (await Send(shop.Token, x => x.Put.FormData(new Dictionary<string, string> { ["name"] = "No discount" }).ToUrl($"/vouchers/{id}"), 400))
            .GetRawText().MatchSnapshot("put_missing");
        (await Send(shop.Token, x => x.Put.FormData(new Dictionary<string, string>
            { ["name"] = "x", ["discount"] = "5", ["start_date"] = "2026-01-01", ["code"] = "NEW-CODE-1" }).ToUrl($"/vouchers/{id}"), 400))
            .GetRawText().MatchSnapshot("code_change");

        // The reference's PATCH sample, then every field it lists.
        var patched = await Send(shop.Token, x => x.Patch.FormData(new Dictionary<string, string> { ["name"] = "Foo bar", ["discount"] = "50" }).ToUrl($"/v2/vouchers/{id}"));
        Assert.Equal("Foo bar", patched.GetProperty("name").GetString());
        var everything = await Send(shop.Token, x => x.Patch.FormData(new Dictionary<string, string>
        {
            ["name"] = "50% discount", ["discount"] = "50", ["rebill_discount"] = "25", ["usage_limit"] = "10", ["discount_duration"] = "5",
            ["discount_period"] = "repeating", ["start_date"] = "2018-08-23", ["end_date"] = "2018-09-30", ["code"] = "READ-ME-1",
        }).ToUrl($"/v2/vouchers/{id}"));
        Assert.Equal((25, "repeating", 5), (everything.GetProperty("rebill_discount").GetInt32(), everything.GetProperty("discount_period").GetString(),
            everything.GetProperty("discount_duration").GetInt32()));
        everything.GetRawText().MatchSnapshot("patch");
        (await Send(shop.Token, x => x.Patch.FormData(new Dictionary<string, string> { ["end_date"] = "2018-01-01" }).ToUrl($"/v2/vouchers/{id}"), 400))
            .GetRawText().MatchSnapshot("patch_end_before_start");

        (await Send(shop.Token, x => x.Delete.Url($"/vouchers/{id}"))).GetRawText().MatchSnapshot("deleted");
        await Send(shop.Token, x => x.Get.Url($"/vouchers/{id}"), 404);
        await Send(shop.Token, x => x.Delete.Url($"/vouchers/{id}"), 404);
        // Its code is free again.
        await shop.CreateVoucher(app, new() { ["discount"] = "30", ["code"] = "read-me-1" });
    }

    [Fact]
    public async Task Rules_are_added_listed_and_removed()
    {
        var shop = await VoucherShop.Open(app);
        var other = await VoucherShop.Open(app);
        var id = (await shop.CreateVoucher(app, new() { ["discount"] = "30", ["code"] = "RULES-1" })).GetProperty("id").GetInt64();
        async Task<JsonElement> Add(string type, string value, int status = 200, string? token = null) =>
            await Send(token ?? shop.Token, x => x.Post.FormData(new Dictionary<string, string> { ["value"] = value }).ToUrl($"/vouchers/{id}/{type}"), status);

        (await Add("assets", shop.Item.ToString())).GetRawText().MatchSnapshot("added");
        await Add("packages", shop.Package.ToString());
        await Add("emails", "Fan@Mail.com");
        // Gatehouse's own rule types, also under /v2/vouchers/{id}/rules/{rule_type}.
        await Send(shop.Token, x => x.Post.FormData(new Dictionary<string, string> { ["value"] = shop.Fee.ToString() }).ToUrl($"/v2/vouchers/{id}/rules/access_fees"));
        await Add("payment_types", "ppv");
        (await Add("assets", shop.Item.ToString(), 409)).GetRawText().MatchSnapshot("duplicate");
        (await Add("assets", other.Item.ToString(), 400)).GetRawText().MatchSnapshot("foreign_asset");
        (await Add("emails", "not an email", 400)).GetRawText().MatchSnapshot("bad_email");
        (await Add("payment_types", "card", 400)).GetRawText().MatchSnapshot("bad_payment_type");
        (await Add("colours", "red", 400)).GetRawText().MatchSnapshot("bad_rule_type");
        await Add("assets", other.Item.ToString(), 404, other.Token);

        var rules = await Send(shop.Token, x => x.Get.Url($"/v2/vouchers/{id}/rules"));
        Assert.Equal(["assets", "packages", "emails", "access_fees", "payment_types"], rules.EnumerateArray().Select(r => r.GetProperty("rule_type").GetString()));
        Assert.Equal("fan@mail.com", rules[2].GetProperty("value").GetString());
        rules.GetRawText().MatchSnapshot("rules");
        await Send(other.Token, x => x.Get.Url($"/v2/vouchers/{id}/rules"), 404);

        var ruleId = rules[0].GetProperty("id").GetInt64();
        await Send(other.Token, x => x.Delete.Url($"/v2/vouchers/{id}/rules/{ruleId}"), 404);
        (await Send(shop.Token, x => x.Delete.Url($"/v2/vouchers/{id}/rules/{ruleId}"))).GetRawText().MatchSnapshot("removed");
        (await Send(shop.Token, x => x.Delete.Url($"/v2/vouchers/{id}/rules/{ruleId}"), 404)).GetRawText().MatchSnapshot("remove_again");
        Assert.Equal(4, (await Send(shop.Token, x => x.Get.Url($"/vouchers/{id}"))).GetProperty("rules").GetArrayLength());
    }

    [Fact]
    public async Task Access_vouchers_end_on_a_date_or_after_a_period()
    {
        var shop = await VoucherShop.Open(app);
        var onDate = await shop.CreateVoucher(app, new() { ["voucher_type"] = "access", ["code"] = "ACCESS-DATE", ["access_expires_at"] = "2030-01-31T00:00:00Z" });
        Assert.Equal(100, onDate.GetProperty("discount").GetInt32());
        onDate.GetRawText().MatchSnapshot("on_date");
        var afterPeriod = await shop.CreateVoucher(app, new()
            { ["voucher_type"] = "access", ["code"] = "ACCESS-30D", ["access_period_quantity"] = "30", ["access_period_unit"] = "day", ["per_customer_limit"] = "1" });
        afterPeriod.GetRawText().MatchSnapshot("after_period");
        (await shop.CreateVoucher(app, new()
            { ["voucher_type"] = "access", ["access_expires_at"] = "2030-01-31T00:00:00Z", ["access_period_quantity"] = "3", ["access_period_unit"] = "week" }, 400))
            .GetRawText().MatchSnapshot("both_and_bad_unit");
        (await Send(shop.Token, x => x.Patch.FormData(new Dictionary<string, string> { ["voucher_type"] = "discount" })
            .ToUrl($"/v2/vouchers/{afterPeriod.GetProperty("id")}"), 400)).GetRawText().MatchSnapshot("kind_change");
    }

    [Fact]
    public async Task Viewers_cannot_manage_vouchers()
    {
        var shop = await VoucherShop.Open(app);
        var viewer = await Given.Consumer(app.Host, shop.Merchant);
        await Send(viewer.AccessToken, x => x.Get.Url("/vouchers"), 403);
        await Send(viewer.AccessToken, x => x.Post.FormData(new Dictionary<string, string> { ["name"] = "x" }).ToUrl("/vouchers"), 403);
        await app.Host.Scenario(x => { x.Get.Url("/vouchers"); x.StatusCodeShouldBe(401); });
    }
}
