using System.Globalization;

namespace Gatehouse.Reports.Pages.Admin.Reports;

/// <summary>How the report pages write times (always UTC), periods, sizes and statuses, and fill date inputs.</summary>
public static class ReportsText
{
    /// <summary>"2026-03-01 14:05 UTC".</summary>
    public static string Utc(DateTimeOffset at) => ScheduleView.Utc(at);

    public static string Day(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>
    /// A report's period as it was asked for: whole days as "2026-11-01 to 2026-11-30 UTC" (the stored end is the start of
    /// the day after the last), otherwise both instants.
    /// </summary>
    public static string Period(DateTimeOffset from, DateTimeOffset to) =>
        from.UtcDateTime.TimeOfDay == TimeSpan.Zero && to.UtcDateTime.TimeOfDay == TimeSpan.Zero
            ? $"{Day(from)} to {Day(to.AddDays(-1))} UTC"
            : $"{from.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} to {Utc(to)}";

    /// <summary>A date input's value for the end of a range (stored as the start of the next day): the last day it takes in.</summary>
    public static string LastDayInput(DateTimeOffset end) => Day(end.UtcDateTime.TimeOfDay == TimeSpan.Zero ? end.AddDays(-1) : end);

    /// <summary>A datetime-local input's value (minutes, no zone: the forms read it as UTC).</summary>
    public static string DateTimeInput(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm", CultureInfo.InvariantCulture);

    /// <summary>"512 B", "12.3 KB", "4.0 MB".</summary>
    public static string Size(long bytes) => bytes switch
    {
        < 1024 => bytes.ToString(CultureInfo.InvariantCulture) + " B",
        < 1024 * 1024 => (bytes / 1024.0).ToString("0.0", CultureInfo.InvariantCulture) + " KB",
        < 1024L * 1024 * 1024 => (bytes / 1024.0 / 1024).ToString("0.0", CultureInfo.InvariantCulture) + " MB",
        _ => (bytes / 1024.0 / 1024 / 1024).ToString("0.0", CultureInfo.InvariantCulture) + " GB",
    };

    public static string Status(string status) => status switch
    {
        "queued" => "Queued",
        "running" => "Generating",
        "ready" => "Ready",
        "failed" => "Failed",
        _ => status,
    };

    public static bool InProgress(ReportView report) => report.Status is "queued" or "running";

    /// <summary>"Purchased", "Access-voucher": a record type as the Access tab names it.</summary>
    public static string RecordType(string key) => char.ToUpperInvariant(key[0]) + key[1..];

    public static string Plural(long count, string thing) =>
        count.ToString(CultureInfo.InvariantCulture) + " " + (count == 1 ? thing : thing + "s");
}
