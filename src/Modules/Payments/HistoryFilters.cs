using Gatehouse.Access;

namespace Gatehouse.Payments;

/// <summary>The filters the payment and subscription lists share: UTC days and the viewer-email search.</summary>
internal static class HistoryFilters
{
    /// <summary>The start of a UTC day given as start_date (included).</summary>
    public static DateTimeOffset? DayStart(DateTimeOffset? day) =>
        day?.UtcDateTime.Date is { } d ? new DateTimeOffset(d, TimeSpan.Zero) : null;

    /// <summary>The end of a UTC day given as end_date (included): the next day's start, compared with &lt;.</summary>
    public static DateTimeOffset? DayEnd(DateTimeOffset? day) =>
        day?.UtcDateTime.Date is { } d ? new DateTimeOffset(d.AddDays(1), TimeSpan.Zero) : null;

    /// <summary>
    /// "The viewer is the one with this email" (the Access section's rule: the whole address, or exactly its part before
    /// or after the @) on <paramref name="consumerColumn"/>, binding @merchantId and @email (the returned value).
    /// </summary>
    public static (string Condition, string Email) ViewerEmail(string consumerColumn, string q)
    {
        var (condition, email) = SearchAccess.EmailMatch(q);
        return ($"{consumerColumn} in (select id from accounts.consumers where merchant_id = @merchantId and {condition.Replace("@q", "@email")})", email);
    }
}
