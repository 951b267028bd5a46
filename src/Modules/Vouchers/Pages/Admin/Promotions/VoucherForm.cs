using System.Globalization;
using Gatehouse.Access.Pages.Admin;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Vouchers.Pages.Admin.Promotions;

/// <summary>
/// A voucher's fields as the "New voucher" steps and the Details section carry them: text as typed, so that a refused
/// form shows back what was typed, and dates and times apart, as the guide's steps ask for them (all UTC).
/// </summary>
public sealed class VoucherForm
{
    public string? Name { get; set; }
    public string? Kind { get; set; } = "discount";
    /// <summary>"generated" (length, prefix, suffix) or "custom" (<see cref="Code"/>).</summary>
    public string? CodeMode { get; set; } = "generated";
    public string? Length { get; set; } = "8";
    public string? Prefix { get; set; }
    public string? Suffix { get; set; }
    public string? Code { get; set; }
    public string? Discount { get; set; }
    public string? DiscountPeriod { get; set; } = "once";
    public string? DiscountDuration { get; set; }
    /// <summary>"date" (expires on a date) or "period" (expires after a period).</summary>
    public string? AccessMode { get; set; } = "period";
    public string? AccessExpiresDate { get; set; }
    public string? AccessExpiresTime { get; set; } = "00:00";
    public string? AccessQuantity { get; set; } = "1";
    public string? AccessUnit { get; set; } = "month";
    public string? UsageLimit { get; set; }
    public string? PerCustomerLimit { get; set; }
    public string? StartDate { get; set; }
    public string? StartTime { get; set; } = "00:00";
    public string? EndDate { get; set; }
    public string? EndTime { get; set; } = "23:59";

    public bool IsAccess => Kind == "access";

    public static VoucherForm From(VoucherView v) => new()
    {
        Name = v.Name, Kind = v.VoucherType, Code = v.Code, Discount = Number(v.Discount), DiscountPeriod = v.DiscountPeriod,
        DiscountDuration = Number(v.DiscountDuration),
        AccessMode = v.AccessPeriod?.ExpiresAt is null ? "period" : "date",
        AccessExpiresDate = DateOf(v.AccessPeriod?.ExpiresAt), AccessExpiresTime = TimeOf(v.AccessPeriod?.ExpiresAt) ?? "00:00",
        AccessQuantity = Number(v.AccessPeriod?.Quantity) ?? "1", AccessUnit = v.AccessPeriod?.Unit ?? "month",
        UsageLimit = Number(v.UsageLimit), PerCustomerLimit = Number(v.PerCustomerLimit),
        StartDate = DateOf(v.StartDate), StartTime = TimeOf(v.StartDate), EndDate = DateOf(v.EndDate), EndTime = TimeOf(v.EndDate) ?? "23:59",
    };

    /// <summary>
    /// The request the use cases take. What does not even parse (letters for a number, a date that is not one) is added to
    /// <paramref name="errors"/> under the API's field names, so that it shows next to its field like the use case's own errors.
    /// </summary>
    public VoucherRequest ToRequest(IDictionary<string, string> errors)
    {
        var custom = CodeMode == "custom";
        DateTimeOffset? accessEnds = null;
        int? quantity = null;
        string? unit = null;
        if (IsAccess && AccessMode == "date") accessEnds = Moment(errors, "access_expires_at", AccessExpiresDate, AccessExpiresTime);
        else if (IsAccess)
        {
            quantity = Int(errors, "access_period_quantity", AccessQuantity);
            unit = AccessUnit;
        }
        // Blank, the use case would draw a code: on this form, choosing "Voucher code" and leaving it blank is a mistake.
        if (custom && string.IsNullOrWhiteSpace(Code)) errors.TryAdd("code", "is required (or choose a randomly generated code)");
        var period = IsAccess ? null : DiscountPeriod;
        return new VoucherRequest(
            Name: Name, VoucherType: Kind, Discount: IsAccess ? null : Int(errors, "discount", Discount), RebillDiscount: null,
            StartDate: Moment(errors, "start_date", StartDate, StartTime), EndDate: Moment(errors, "end_date", EndDate, EndTime),
            Code: custom ? Code?.Trim() ?? "" : null,
            Length: custom ? null : Int(errors, "length", Length), Prefix: custom ? null : Prefix?.Trim(), Suffix: custom ? null : Suffix?.Trim(),
            UsageLimit: Int(errors, "usage_limit", UsageLimit), PerCustomerLimit: Int(errors, "per_customer_limit", PerCustomerLimit),
            DiscountPeriod: period,
            // Only a repeating discount has a duration; a number left in the box for another period is ignored.
            DiscountDuration: period == "repeating" ? Int(errors, "discount_duration", DiscountDuration) : null,
            AccessExpiresAt: accessEnds, AccessPeriodQuantity: quantity, AccessPeriodUnit: unit, Rules: null);
    }

    /// <summary>What the Details section sends: everything it shows, so a blank usage limit or end date clears it;
    /// not the code (it never changes), the kind, nor the rebill discount (which the section does not show).</summary>
    public static bool DetailsSends(string field) => field is "name" or "discount" or "discount_period" or "discount_duration"
        or "usage_limit" or "per_customer_limit" or "start_date" or "end_date"
        or "access_expires_at" or "access_period_quantity" or "access_period_unit";

    // ---- the "New voucher" steps ----

    /// <summary>The API's fields that each step asks for, so that an error is shown on the step where it can be fixed.</summary>
    public static readonly string[][] StepFields =
    [
        ["name", "voucher_type"],
        ["code", "length", "prefix", "suffix", "discount", "rebill_discount", "discount_period", "discount_duration",
         "access_expires_at", "access_period_quantity", "access_period_unit"],
        ["usage_limit", "per_customer_limit", "start_date", "end_date"],
    ];

    public static int StepOf(string field)
    {
        for (var i = 0; i < StepFields.Length; i++)
            if (StepFields[i].Contains(field)) return i + 1;
        return StepFields.Length;
    }

    private static readonly Dictionary<string, int> PropertySteps = new()
    {
        [nameof(Name)] = 1, [nameof(Kind)] = 1,
        [nameof(CodeMode)] = 2, [nameof(Length)] = 2, [nameof(Prefix)] = 2, [nameof(Suffix)] = 2, [nameof(Code)] = 2,
        [nameof(Discount)] = 2, [nameof(DiscountPeriod)] = 2, [nameof(DiscountDuration)] = 2, [nameof(AccessMode)] = 2,
        [nameof(AccessExpiresDate)] = 2, [nameof(AccessExpiresTime)] = 2, [nameof(AccessQuantity)] = 2, [nameof(AccessUnit)] = 2,
        [nameof(UsageLimit)] = 3, [nameof(PerCustomerLimit)] = 3, [nameof(StartDate)] = 3, [nameof(StartTime)] = 3,
        [nameof(EndDate)] = 3, [nameof(EndTime)] = 3,
    };

    /// <summary>The fields of the other steps, carried along as hidden inputs (the wizard keeps no state on the server).</summary>
    public IEnumerable<(string Name, string? Value)> CarriedPast(int step) =>
        typeof(VoucherForm).GetProperties()
            .Where(p => p.CanWrite && PropertySteps.TryGetValue(p.Name, out var s) && s != step)
            .Select(p => ("Form." + p.Name, (string?)p.GetValue(this)));

    // ---- parsing ----

    private static int? Int(IDictionary<string, string> errors, string field, string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        if (int.TryParse(text.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)) return value;
        errors.TryAdd(field, "must be a whole number");
        return null;
    }

    /// <summary>A date and a time of day, both UTC; no date is no value (the time alone has its default).</summary>
    private static DateTimeOffset? Moment(IDictionary<string, string> errors, string field, string? date, string? time)
    {
        if (string.IsNullOrWhiteSpace(date)) return null;
        if (!DateOnly.TryParseExact(date.Trim(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
        {
            errors.TryAdd(field, "must be a date (YYYY-MM-DD)");
            return null;
        }
        var at = TimeOnly.MinValue;
        if (!string.IsNullOrWhiteSpace(time)
            && !TimeOnly.TryParseExact(time.Trim(), ["HH:mm", "HH:mm:ss"], CultureInfo.InvariantCulture, DateTimeStyles.None, out at))
        {
            errors.TryAdd(field, "must have a time of day (HH:MM)");
            return null;
        }
        return new DateTimeOffset(day.ToDateTime(at), TimeSpan.Zero);
    }

    private static string? Number(int? value) => value?.ToString(CultureInfo.InvariantCulture);
    private static string? DateOf(DateTimeOffset? at) => at?.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
    private static string? TimeOf(DateTimeOffset? at) => at?.UtcDateTime.ToString("HH:mm", CultureInfo.InvariantCulture);
}

/// <summary>What the field partials show: the form and the errors of the last refused submit.</summary>
public sealed record VoucherFieldsView(VoucherForm Form, FormErrors? Errors);

/// <summary>How the Promotions pages write vouchers: times in UTC, discounts, access periods, uses.</summary>
public static class PromotionsText
{
    public static string Utc(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) + " UTC";

    public static string Plural(int count, string unit) =>
        count.ToString(CultureInfo.InvariantCulture) + " " + (count == 1 ? unit : unit + "s");

    public static string Kind(VoucherView v) => v.VoucherType == "access" ? "Access" : "Discount";

    /// <summary>"25 %", "25 % · 3 payments", "20 % · forever", "1 month of access", "access until 2026-05-01 00:00 UTC".</summary>
    public static string Discount(VoucherView v)
    {
        if (v.AccessPeriod is { } access)
            return access.ExpiresAt is { } until ? $"Access until {Utc(until)}" : $"{Plural(access.Quantity ?? 0, access.Unit ?? "day")} of access";
        var percent = v.Discount.ToString(CultureInfo.InvariantCulture) + " %";
        return v.DiscountPeriod switch
        {
            "repeating" => $"{percent} · {Plural(v.DiscountDuration ?? 0, "payment")}",
            "forever" => $"{percent} · every payment",
            _ => percent,
        };
    }

    public static string Uses(VoucherView v) =>
        $"{v.UsageCounter.ToString(CultureInfo.InvariantCulture)} / {(v.UsageLimit is { } limit ? limit.ToString(CultureInfo.InvariantCulture) : "unlimited")}";

    public static string Validity(VoucherView v) =>
        v.EndDate is { } end ? $"{Utc(v.StartDate)} – {Utc(end)}" : $"from {Utc(v.StartDate)}, no end";

    public static string Money(decimal amount, string currency) => amount.ToString("0.00", CultureInfo.InvariantCulture) + " " + currency;

    public static string Fee(VoucherCatalog.Fee fee) =>
        $"{fee.ForTitle} — {(string.IsNullOrEmpty(fee.Description) ? "price option #" + fee.Id : fee.Description)}: " +
        $"{Money(fee.Amount, fee.Currency)} · {(fee.AccessType == "ppv" ? "Pay-per-view" : "Subscription")} · {Plural(fee.PeriodQuantity, fee.Period)}" +
        (fee.IsActive ? "" : " (inactive)");

    /// <summary>A refusal that names no field (a taken code is a 409) shown against <paramref name="field"/>.</summary>
    public static FormErrors ErrorsOf(ApiException e, string? field = null) =>
        FormErrors.From(e.Errors is { Count: > 0 } || field is null ? e
            : new ApiException(e.Status, e.Message, new Dictionary<string, string> { [field] = e.Message }));
}

/// <summary>Previous / next links for one paged list of a page (several lists page apart, each with its own query parameter).</summary>
public sealed record PromotionsPager(long Total, int Page, int Size, string Param = "page", string? Fragment = null, string Label = "Pages")
{
    public long LastPage => Math.Max(1, (Total + Size - 1) / Size);

    public string Url(HttpRequest request, int page) =>
        request.Path + QueryString.Create(request.Query.Where(p => p.Key != Param && p.Key != "handler")
            .Select(p => new KeyValuePair<string, string?>(p.Key, p.Value.ToString()))
            .Append(new(Param, page.ToString(CultureInfo.InvariantCulture)))).ToUriComponent()
        + (Fragment is null ? "" : "#" + Fragment);
}
