using System.Security.Cryptography;
using Gatehouse.Kernel;

namespace Gatehouse.Vouchers;

/// <summary>A voucher's fields as create, PUT and PATCH receive them (form or JSON, snake_case).</summary>
public sealed record VoucherRequest(
    string? Name, string? VoucherType, int? Discount, int? RebillDiscount, DateTimeOffset? StartDate, DateTimeOffset? EndDate,
    string? Code, int? Length, string? Prefix, string? Suffix, int? UsageLimit, int? PerCustomerLimit, string? DiscountPeriod,
    int? DiscountDuration, DateTimeOffset? AccessExpiresAt, int? AccessPeriodQuantity, string? AccessPeriodUnit,
    List<RuleRequest>? Rules);

public sealed record RuleRequest(string? RuleType, string? Value);

/// <summary>The checks every voucher write shares, in the API reference's terms.</summary>
internal static class VoucherInput
{
    /// <summary>No 0/O, 1/I/L: a code read aloud or copied from a printed card survives. Code batches draw from the same.</summary>
    public const string Alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";

    public static readonly string[] Periods = ["once", "repeating", "forever"];
    public static readonly string[] AccessUnits = ["day", "month", "year"];

    /// <summary>The voucher's settings after applying <paramref name="request"/> to <paramref name="current"/> (null when
    /// creating); <paramref name="isSent"/> says which fields a PATCH carried.</summary>
    public sealed record Settings(string Name, string Kind, int Discount, int RebillDiscount, DateTimeOffset StartDate, DateTimeOffset? EndDate,
        int? UsageLimit, int? PerCustomerLimit, string DiscountPeriod, int? DiscountDuration, DateTimeOffset? AccessExpiresAt,
        int? AccessPeriodQuantity, string? AccessPeriodUnit);

    public static Settings Check(FieldErrors errors, VoucherRequest request, VoucherView? current, Func<string, bool> isSent, int usageCounter = 0)
    {
        T Pick<T>(string field, T sent, T existing) => current is null || isSent(field) ? sent : existing;

        var name = Pick("name", request.Name?.Trim(), current?.Name);
        if (string.IsNullOrEmpty(name)) errors.Add("name", "is required");
        else if (name.Length > 255) errors.Add("name", "must be at most 255 characters");

        var kind = current?.VoucherType ?? request.VoucherType ?? "discount";
        if (current is null && kind is not ("discount" or "access")) errors.Add("voucher_type", "must be discount or access");
        if (current is not null && isSent("voucher_type") && request.VoucherType != current.VoucherType)
            errors.Add("voucher_type", "cannot be changed");

        // An access voucher gives access for free: it is a 100 % voucher with its own access period.
        int? discount = kind == "access" ? 100 : Pick("discount", request.Discount, current?.Discount);
        if (discount is null) errors.Add("discount", "is required");
        else if (discount is < 1 or > 100) errors.Add("discount", "must be between 1 and 100");
        // The rebill discount follows the discount unless it was set apart from it.
        var rebillFollows = current is null || current.RebillDiscount == current.Discount;
        var rebill = Pick("rebill_discount", request.RebillDiscount, rebillFollows ? null : current?.RebillDiscount)
                     ?? (discount is >= 1 and <= 100 ? discount.Value : 0);
        if (rebill is < 0 or > 100) errors.Add("rebill_discount", "must be between 0 and 100");

        var start = Pick("start_date", request.StartDate, current?.StartDate);
        if (start is null) errors.Add("start_date", "is required");
        var end = Pick("end_date", request.EndDate, current?.EndDate);
        if (start is not null && end is not null && end <= start) errors.Add("end_date", "must be after start_date");

        var usageLimit = Pick("usage_limit", request.UsageLimit, current?.UsageLimit);
        if (usageLimit is < 1) errors.Add("usage_limit", "must be at least 1 (leave it out for no limit)");
        else if (usageLimit < usageCounter) errors.Add("usage_limit", $"cannot be lower than the {usageCounter} uses so far");
        var perCustomer = Pick("per_customer_limit", request.PerCustomerLimit, current?.PerCustomerLimit);
        if (perCustomer is < 1) errors.Add("per_customer_limit", "must be at least 1 (leave it out for no limit)");

        var period = Pick("discount_period", request.DiscountPeriod, current?.DiscountPeriod) ?? "once";
        if (!Periods.Contains(period)) errors.Add("discount_period", "must be once, repeating or forever");
        var duration = Pick("discount_duration", request.DiscountDuration, current?.DiscountDuration);
        if (period == "repeating" && duration is null) errors.Add("discount_duration", "is required when discount_period is repeating");
        if (duration is < 1) errors.Add("discount_duration", "must be at least 1");
        if (period != "repeating") duration = null;

        DateTimeOffset? accessEnds = null;
        int? quantity = null;
        string? unit = null;
        if (kind == "access")
        {
            // The two ways the guide offers: "expires on a date" or "expires after a period".
            var sentEnd = isSent("access_expires_at");
            var sentPeriod = isSent("access_period_quantity") || isSent("access_period_unit");
            if (current is not null && !sentEnd && !sentPeriod)
                (accessEnds, quantity, unit) = (current.AccessPeriod!.ExpiresAt, current.AccessPeriod.Quantity, current.AccessPeriod.Unit);
            else
                (accessEnds, quantity, unit) = (request.AccessExpiresAt, request.AccessPeriodQuantity, request.AccessPeriodUnit);
            if (accessEnds is null == quantity is null)
                errors.Add("access_expires_at", "send either access_expires_at, or access_period_quantity with access_period_unit");
            if (quantity is not null && (quantity is < 1 or > 1000)) errors.Add("access_period_quantity", "must be between 1 and 1000");
            if (quantity is not null && !AccessUnits.Contains(unit)) errors.Add("access_period_unit", "must be day, month or year");
            if (accessEnds is not null && start is not null && accessEnds <= start) errors.Add("access_expires_at", "must be after start_date");
        }

        return new Settings(name ?? "", kind, discount ?? 0, rebill, start ?? default, end, usageLimit, perCustomer, period, duration,
            accessEnds, quantity, unit);
    }

    /// <summary>A custom code: at least 5 characters as the reference says, printable, no spaces.</summary>
    public static void CheckCustomCode(FieldErrors errors, string code)
    {
        if (code.Length < 5) errors.Add("code", "must be at least 5 characters");
        else if (code.Length > 64) errors.Add("code", "must be at most 64 characters");
        else if (code.Any(c => char.IsWhiteSpace(c) || char.IsControl(c))) errors.Add("code", "cannot contain spaces");
    }

    public static void CheckAffixes(FieldErrors errors, int? length, string? prefix, string? suffix)
    {
        if (length is < 1 or > 64) errors.Add("length", "must be between 1 and 64");
        if (prefix is { Length: > 20 } || prefix?.Any(char.IsWhiteSpace) == true) errors.Add("prefix", "must be at most 20 characters, no spaces");
        if (suffix is { Length: > 20 } || suffix?.Any(char.IsWhiteSpace) == true) errors.Add("suffix", "must be at most 20 characters, no spaces");
    }

    /// <summary>prefix + <paramref name="length"/> random characters of <see cref="Alphabet"/> + suffix (the length counts the middle only).</summary>
    public static string Generate(int length, string prefix, string suffix) =>
        prefix + RandomNumberGenerator.GetString(Alphabet, length) + suffix;
}
