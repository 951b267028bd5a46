using System.Globalization;

namespace Gatehouse.Access.Pages.Admin;

/// <summary>How the Content and Audience pages write times, prices and periods.</summary>
public static class AdminText
{
    public static string Utc(long unixSeconds) =>
        DateTimeOffset.FromUnixTimeSeconds(unixSeconds).ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);

    public static string Money(decimal amount, string currency) => amount.ToString("0.00", CultureInfo.InvariantCulture) + " " + currency;

    /// <summary>"1 day", "2 weeks".</summary>
    public static string Period(int quantity, string period) =>
        quantity.ToString(CultureInfo.InvariantCulture) + " " + (quantity == 1 ? period : period + "s");

    public static string Price(AccessFeeView fee) =>
        $"{Money(fee.Amount, fee.Currency)} · {(fee.AccessType.Name == "ppv" ? "Pay-per-view" : "Subscription")} · " +
        Period(fee.AccessType.Quantity, fee.AccessType.Period) +
        (fee.TrialPeriod is { } trial ? $" · {Period(trial.Quantity, trial.Period)} trial" : "");

    /// <summary>A date input's value as the start of that day, UTC (as the API reads "2026-03-01").</summary>
    public static DateTimeOffset StartOfDay(DateOnly date) => new(date.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);

    /// <summary>A date input's value.</summary>
    public static string DateInput(long unixSeconds) =>
        DateTimeOffset.FromUnixTimeSeconds(unixSeconds).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public static string? DateInput(DateOnly? date) => date?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
