using Dapper;
using Gatehouse.Tests.Infrastructure;
using Npgsql;

namespace Gatehouse.Tests.Reports;

/// <summary>
/// Rows written straight into the other modules' tables, with fixed emails, titles, amounts, uuids and times, shaped as
/// those modules write them: what the reports.* views read, with every time chosen by the test (through the API every row
/// would be created at the clock's one instant).
/// </summary>
public sealed class ReportSeeder(NpgsqlConnection connection, long merchantId)
{
    public long MerchantId => merchantId;

    public static DateTimeOffset At(string utc) => DateTimeOffset.Parse(utc, null, System.Globalization.DateTimeStyles.AssumeUniversal);

    public Task<long> Viewer(string email, Guid uuid, string created = "2030-01-01T00:00:00Z") => connection.ExecuteScalarAsync<long>(
        """
        insert into accounts.consumers (merchant_id, uuid, email, full_name, created_at, updated_at)
        values (@merchantId, @uuid, @email, 'Report Viewer', @at, @at) returning id
        """, new { merchantId, uuid, email, at = At(created) });

    public Task<long> Item(string title, string type = "video") => connection.ExecuteScalarAsync<long>(
        """
        insert into access.items (merchant_id, title, item_type, created_at, updated_at)
        values (@merchantId, @title, @type, '2030-01-01Z', '2030-01-01Z') returning id
        """, new { merchantId, title, type });

    public async Task<long> Package(string title, params long[] items)
    {
        var id = await connection.ExecuteScalarAsync<long>(
            "insert into access.packages (merchant_id, title, created_at, updated_at) values (@merchantId, @title, '2030-01-01Z', '2030-01-01Z') returning id",
            new { merchantId, title });
        foreach (var item in items)
            await connection.ExecuteAsync(
                "insert into access.package_items (merchant_id, package_id, item_id, added_at) values (@merchantId, @id, @item, '2030-01-01Z')",
                new { merchantId, id, item });
        return id;
    }

    public sealed record Fee(long? ItemId = null, long? PackageId = null, string AccessType = "ppv", decimal Amount = 4.99m, string Currency = "EUR",
        int PeriodQuantity = 2, string Period = "day", string Description = "Two days", int? TrialQuantity = null, string? TrialPeriod = null);

    public Task<long> AccessFee(Fee fee) => connection.ExecuteScalarAsync<long>(
        """
        insert into access.access_fees (merchant_id, item_id, package_id, access_type, amount, currency, period_quantity, period, description,
                                        trial_quantity, trial_period, created_at, updated_at)
        values (@merchantId, @ItemId, @PackageId, @AccessType, @Amount, @Currency, @PeriodQuantity, @Period, @Description,
                @TrialQuantity, @TrialPeriod, '2030-01-01Z', '2030-01-01Z')
        returning id
        """, new { merchantId, fee.ItemId, fee.PackageId, fee.AccessType, fee.Amount, fee.Currency, fee.PeriodQuantity, fee.Period, fee.Description,
                   fee.TrialQuantity, fee.TrialPeriod });

    public sealed record Pass(long Viewer, string Created, string Starts, string Expires, long? ItemId = null, long? PackageId = null,
        string Type = "granted", string Source = "admin", long? FeeId = null, string? Revoked = null, bool Trial = false);

    public Task<long> AccessPass(Pass pass) => connection.ExecuteScalarAsync<long>(
        """
        insert into access.passes (merchant_id, consumer_id, item_id, package_id, access_fee_id, type, source, starts_at, expires_at, revoked_at,
                                   is_trial, created_at, updated_at)
        values (@merchantId, @Viewer, @ItemId, @PackageId, @FeeId, @Type, @Source, @starts, @expires, @revoked, @Trial, @created, @created)
        returning id
        """, new { merchantId, pass.Viewer, pass.ItemId, pass.PackageId, pass.FeeId, pass.Type, pass.Source, starts = At(pass.Starts),
                   expires = At(pass.Expires), revoked = pass.Revoked is null ? (DateTimeOffset?)null : At(pass.Revoked), pass.Trial,
                   created = At(pass.Created) });

    public sealed record Payment(long Viewer, long FeeId, string Created, decimal Amount, decimal Charged, long? ItemId = null, long? PackageId = null,
        string Action = "purchase", string Status = "succeeded", string Gateway = "test", string Method = "card", string? Last4 = "4242",
        string? Token = null, string? FailureReason = null, string? VoucherCode = null, int? VoucherDiscount = null, string? GiftCode = null,
        string? GiftReceiver = null, long? PassId = null, long? SubscriptionId = null, string Currency = "EUR");

    /// <summary>A charge attempt, completed two seconds after it was created, as the gateway answered.</summary>
    public Task<long> Charge(Payment p) => connection.ExecuteScalarAsync<long>(
        """
        insert into payments.payments (merchant_id, consumer_id, access_fee_id, item_id, package_id, subscription_id, action_type, status, reference,
                                       amount, charged_amount, currency, gateway, payment_method, card_last4, transaction_token, failure_reason,
                                       voucher_code, voucher_discount, gift_code, gift_receiver_email, pass_id, cycle, attempt, created_at, completed_at)
        values (@merchantId, @Viewer, @FeeId, @ItemId, @PackageId, @SubscriptionId, @Action, @Status, gen_random_uuid(),
                @Amount, @Charged, @Currency, @Gateway, @Method, @Last4, @Token, @FailureReason,
                @VoucherCode, @VoucherDiscount, @GiftCode, @GiftReceiver, @PassId, @cycle, @attempt, @created, @completed)
        returning id
        """, new { merchantId, p.Viewer, p.FeeId, p.ItemId, p.PackageId, p.SubscriptionId, p.Action, p.Status, p.Amount, p.Charged, p.Currency,
                   p.Gateway, p.Method, p.Last4, p.Token, p.FailureReason, p.VoucherCode, p.VoucherDiscount, p.GiftCode, p.GiftReceiver, p.PassId,
                   cycle = p.SubscriptionId is null ? (int?)null : 0, attempt = p.SubscriptionId is null ? (int?)null : 1,
                   created = At(p.Created), completed = At(p.Created).AddSeconds(2) });

    public sealed record Subscription(long Viewer, long FeeId, string Created, string Description, decimal Amount, long? ItemId = null,
        long? PackageId = null, string Status = "active", int Charges = 1, string? NextRebill = null, int FailedAttempts = 0, string? VoucherCode = null,
        int Discount = 0, int RebillDiscount = 0, string? Cancelled = null, string? CancelledBy = null, string Period = "month", int PeriodQuantity = 1);

    public Task<long> Subscribe(Subscription s) => connection.ExecuteScalarAsync<long>(
        """
        insert into payments.subscriptions (merchant_id, consumer_id, access_fee_id, item_id, package_id, cancel_token, status, description, amount,
                                            currency, period_quantity, period, gateway, card_last4, voucher_code, discount, rebill_discount,
                                            discount_period, discount_duration, charges, cycle, next_rebill_at, failed_attempts, cancelled_at,
                                            cancelled_by, created_at, updated_at)
        values (@merchantId, @Viewer, @FeeId, @ItemId, @PackageId, gen_random_uuid()::text, @Status, @Description, @Amount,
                'EUR', @PeriodQuantity, @Period, 'test', '4242', @VoucherCode, @Discount, @RebillDiscount,
                case when @VoucherCode is null then null else 'repeating' end, case when @VoucherCode is null then null else 3 end,
                @Charges, @Charges - 1, @next, @FailedAttempts, @cancelled, @CancelledBy, @created, @created)
        returning id
        """, new { merchantId, s.Viewer, s.FeeId, s.ItemId, s.PackageId, s.Status, s.Description, s.Amount, s.PeriodQuantity, s.Period, s.VoucherCode,
                   s.Discount, s.RebillDiscount, s.Charges, next = s.NextRebill is null ? (DateTimeOffset?)null : At(s.NextRebill), s.FailedAttempts,
                   cancelled = s.Cancelled is null ? (DateTimeOffset?)null : At(s.Cancelled), s.CancelledBy, created = At(s.Created) });
}

/// <summary>
/// The CSV tests' data: a merchant's March 2030 of passes, payments and subscriptions (with rows just outside the month),
/// another merchant's rows in the same month, and a third merchant whose viewers and titles look like spreadsheet formulas.
/// </summary>
public sealed record ReportData(TestMerchant Merchant, string Token, TestMerchant Other, string OtherToken, TestMerchant Formulas, string FormulasToken)
{
    /// <summary>The report period: March 2030, as the admin's date fields send it.</summary>
    public const string From = "2030-03-01";
    public const string To = "2030-03-31";

    public static async Task<ReportData> Seed(AppFixture app)
    {
        var merchant = await Given.Merchant(app.Db, "Northwind Media");
        var other = await Given.Merchant(app.Db, "Other Media");
        var formulas = await Given.Merchant(app.Db, "Formula Media");
        await using var connection = await app.Db.OpenConnectionAsync();
        await SeedMerchant(new ReportSeeder(connection, merchant.Id));
        await SeedOther(new ReportSeeder(connection, other.Id));
        await SeedFormulas(new ReportSeeder(connection, formulas.Id));
        return new ReportData(merchant, await Given.MerchantToken(app.Host, merchant), other, await Given.MerchantToken(app.Host, other),
            formulas, await Given.MerchantToken(app.Host, formulas));
    }

    private static async Task SeedMerchant(ReportSeeder s)
    {
        var ana = await s.Viewer("ana@viewers.test", Guid.Parse("a0000000-0000-4000-8000-000000000001"));
        var ben = await s.Viewer("ben@viewers.test", Guid.Parse("a0000000-0000-4000-8000-000000000002"));
        var cara = await s.Viewer("cara@viewers.test", Guid.Parse("a0000000-0000-4000-8000-000000000003"));
        var dan = await s.Viewer("dan@viewers.test", Guid.Parse("a0000000-0000-4000-8000-000000000004"));
        var final = await s.Item("Cup Final");
        var derby = await s.Item("Derby");
        var season = await s.Package("Season pass", final);
        var twoDays = await s.AccessFee(new(ItemId: final));
        var seasonTicket = await s.AccessFee(new(PackageId: season, Amount: 20.00m, PeriodQuantity: 1, Period: "month", Description: "Season ticket"));
        var monthly = await s.AccessFee(new(ItemId: final, AccessType: "subscription", Amount: 9.99m, PeriodQuantity: 1, Period: "month",
            Description: "Monthly", TrialQuantity: 7, TrialPeriod: "day"));
        var matchDay = await s.AccessFee(new(ItemId: derby, Amount: 3.50m, PeriodQuantity: 1, Period: "day", Description: "Match day"));

        // Access, in order of creation. The clock (ReportsFixture.Epoch) is 2030-04-02 12:00 UTC when the reports run.
        await s.AccessPass(new(ben, "2030-02-28T23:59:59Z", "2030-02-28T23:59:59Z", "2030-03-07T00:00:00Z", ItemId: derby)); // just before the period
        // The package pass, purchased: one row for the package, never one per asset it holds. Created exactly at the period's start.
        await s.AccessPass(new(ana, "2030-03-01T00:00:00Z", "2030-03-01T00:00:00Z", "2030-05-01T00:00:00Z", PackageId: season, Type: "purchased",
            Source: "payment", FeeId: seasonTicket));
        // An asset pass purchased with a price option.
        var bought = await s.AccessPass(new(ben, "2030-03-05T10:00:00Z", "2030-03-05T10:00:00Z", "2030-04-04T10:00:00Z", ItemId: final,
            Type: "purchased", Source: "payment", FeeId: twoDays));
        await s.AccessPass(new(cara, "2030-03-06T08:00:00Z", "2030-03-06T08:00:00Z", "2030-06-01T00:00:00Z", ItemId: derby, Revoked: "2030-03-10T09:30:00Z"));
        var expired = await s.AccessPass(new(dan, "2030-03-07T12:00:00Z", "2030-03-07T12:00:00Z", "2030-03-14T12:00:00Z", ItemId: derby,
            Type: "access-voucher", Source: "voucher", FeeId: matchDay));
        await s.AccessPass(new(ben, "2030-03-09T07:15:00Z", "2030-03-09T07:15:00Z", "2030-04-09T07:15:00Z", ItemId: derby, Type: "full-discount",
            Source: "voucher", FeeId: matchDay));
        // Granted for later: neither active nor inactive yet, so only "all" has it.
        await s.AccessPass(new(cara, "2030-03-11T16:45:00Z", "2030-04-20T00:00:00Z", "2030-05-20T00:00:00Z", ItemId: final, Source: "api"));
        var trial = await s.AccessPass(new(ana, "2030-03-30T18:00:00Z", "2030-03-30T18:00:00Z", "2030-04-06T18:00:00Z", ItemId: final, Type: "purchased",
            Source: "payment", FeeId: monthly, Trial: true));
        await s.AccessPass(new(dan, "2030-03-31T23:59:59Z", "2030-03-31T23:59:59Z", "2031-03-31T23:59:59Z", ItemId: final, Source: "bulk"));
        await s.AccessPass(new(ana, "2030-04-01T00:00:00Z", "2030-04-01T00:00:00Z", "2030-05-01T00:00:00Z", ItemId: derby)); // the day after the period

        // Subscriptions: one taken with a voucher (its terms copied), one cancelled.
        var withVoucher = await s.Subscribe(new(ana, monthly, "2030-03-10T08:00:00Z", "Monthly", 9.99m, ItemId: final, Charges: 1,
            NextRebill: "2030-04-10T08:00:00Z", VoucherCode: "HALF", Discount: 50, RebillDiscount: 25));
        await s.Subscribe(new(ben, seasonTicket, "2030-03-02T09:00:00Z", "Season ticket", 20.00m, PackageId: season, Status: "cancelled", Charges: 2,
            FailedAttempts: 1, Cancelled: "2030-03-25T14:30:00Z", CancelledBy: "merchant:api"));
        await s.Subscribe(new(cara, monthly, "2030-04-01T00:00:00Z", "Monthly", 9.99m, ItemId: final)); // after the period

        // Payments: with a voucher code and its discount, declined with its reason, a gift, a subscription's first charge, an access voucher.
        await s.Charge(new(ben, twoDays, "2030-03-05T10:00:00Z", 4.99m, 3.74m, ItemId: final, Token: "T-0000000000000000a001", VoucherCode: "SPRING25",
            VoucherDiscount: 25, PassId: bought));
        await s.Charge(new(cara, matchDay, "2030-03-06T11:00:00Z", 3.50m, 3.50m, ItemId: derby, Status: "failed", Last4: "0002",
            FailureReason: "Your card was declined"));
        await s.Charge(new(dan, seasonTicket, "2030-03-07T09:00:00Z", 20.00m, 20.00m, PackageId: season, Action: "gift", Token: "T-0000000000000000a003",
            GiftCode: "GIFT-7QX2K9PA4M", GiftReceiver: "friend@viewers.test"));
        await s.Charge(new(dan, matchDay, "2030-03-07T12:00:00Z", 3.50m, 0m, ItemId: derby, Action: "voucher", Gateway: "none", Method: "voucher",
            Last4: null, VoucherCode: "FREEDERBY", VoucherDiscount: 100, PassId: expired));
        await s.Charge(new(ana, monthly, "2030-03-10T08:00:00Z", 9.99m, 5.00m, ItemId: final, Action: "subscribe", Token: "T-0000000000000000a005",
            VoucherCode: "HALF", VoucherDiscount: 50, SubscriptionId: withVoucher));
        await s.Charge(new(ana, monthly, "2030-03-30T18:00:00Z", 9.99m, 0m, ItemId: final, Action: "subscribe", Token: "T-0000000000000000a006",
            PassId: trial));
        await s.Charge(new(ben, twoDays, "2030-04-01T00:00:00Z", 4.99m, 4.99m, ItemId: final, Token: "T-0000000000000000a007")); // after the period
    }

    /// <summary>Another merchant's rows in the same month: never in the first merchant's reports.</summary>
    private static async Task SeedOther(ReportSeeder s)
    {
        var viewer = await s.Viewer("other@viewers.test", Guid.Parse("b0000000-0000-4000-8000-000000000001"));
        var show = await s.Item("Other show");
        var fee = await s.AccessFee(new(ItemId: show, Amount: 1.00m, Description: "Other fee"));
        await s.AccessPass(new(viewer, "2030-03-15T00:00:00Z", "2030-03-15T00:00:00Z", "2030-05-01T00:00:00Z", ItemId: show, Type: "purchased",
            Source: "payment", FeeId: fee));
        await s.Charge(new(viewer, fee, "2030-03-15T00:00:00Z", 1.00m, 1.00m, ItemId: show, Token: "T-0000000000000000b001"));
        await s.Subscribe(new(viewer, fee, "2030-03-15T00:00:00Z", "Other fee", 1.00m, ItemId: show));
    }

    /// <summary>Viewers and titles a spreadsheet would run as formulas (= + - @, a tab, a CR at the start), and harmless ones.</summary>
    private static async Task SeedFormulas(ReportSeeder s)
    {
        (string Email, string Title)[] rows =
        [
            ("=1+2@evil.test", "+SUM(A1:A9)"),
            ("-1@evil.test", "@import"),
            ("@me@evil.test", "\tTabbed"),
            ("+plus@evil.test", "\rReturned"),
            ("plain@evil.test", "Plain, = not first"),
        ];
        for (var i = 0; i < rows.Length; i++)
        {
            var viewer = await s.Viewer(rows[i].Email, Guid.Parse($"c0000000-0000-4000-8000-00000000000{i + 1}"));
            var item = await s.Item(rows[i].Title);
            await s.AccessPass(new(viewer, $"2030-03-1{i}T00:00:00Z", $"2030-03-1{i}T00:00:00Z", "2030-05-01T00:00:00Z", ItemId: item));
        }
    }
}
