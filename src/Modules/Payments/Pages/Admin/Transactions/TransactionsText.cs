using System.Globalization;

namespace Gatehouse.Payments.Pages.Admin.Transactions;

/// <summary>How the Transactions pages name payment types and statuses and write times (UTC) and amounts.</summary>
public static class TransactionsText
{
    /// <summary>The payment types in the order the Type select shows them; the keys are <see cref="ListPayments.Types"/>.</summary>
    public static readonly IReadOnlyList<(string Key, string Label)> PaymentTypes =
        [("purchase", "Purchase"), ("subscribe", "Subscription"), ("rebill", "Rebill"), ("gift", "Gift"), ("voucher", "Voucher (no card)")];

    public static readonly IReadOnlyList<(string Key, string Label)> PaymentStatuses =
        [("succeeded", "Succeeded"), ("failed", "Failed"), ("pending", "Pending")];

    public static readonly IReadOnlyList<(string Key, string Label)> SubscriptionStatuses =
        [("active", "Active"), ("pending", "Pending"), ("cancelled", "Cancelled"), ("expired", "Expired"), ("failed", "Failed")];

    public static string PaymentType(string key) => Label(PaymentTypes, key);

    public static string PaymentStatus(string key) => Label(PaymentStatuses, key);

    public static string SubscriptionStatus(string key) => Label(SubscriptionStatuses, key);

    private static string Label(IReadOnlyList<(string Key, string Label)> labels, string key) =>
        labels.FirstOrDefault(l => l.Key == key).Label ?? key;

    /// <summary>"2026-03-01 14:05 UTC".</summary>
    public static string Utc(long unixSeconds) =>
        DateTimeOffset.FromUnixTimeSeconds(unixSeconds).ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);

    public static string Money(decimal amount, string currency) => amount.ToString("0.00", CultureInfo.InvariantCulture) + " " + currency;

    public static string Percent(int percent) => percent.ToString(CultureInfo.InvariantCulture) + " %";

    public static string Plural(long count, string thing, string? things = null) =>
        count.ToString(CultureInfo.InvariantCulture) + " " + (count == 1 ? thing : things ?? thing + "s");

    /// <summary>How long a subscription voucher's rebill discount lasts, in words.</summary>
    public static string DiscountPeriod(string? period, int? duration) => period switch
    {
        "once" => "Once: the first charge only",
        "repeating" => $"Repeating: the first charge and {Plural(duration ?? 0, "rebill")}",
        "forever" => "Forever: every rebill",
        null => "—",
        _ => period,
    };

    /// <summary>A date input's value ("2026-03-01").</summary>
    public static string? DateInput(DateOnly? date) => date?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>A date input's value as the start of that day, UTC.</summary>
    public static DateTimeOffset? StartOfDay(DateOnly? date) =>
        date is { } d ? new DateTimeOffset(d.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero) : null;
}
