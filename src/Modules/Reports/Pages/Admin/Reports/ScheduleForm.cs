using System.Globalization;
using System.Text.Json;
using Gatehouse.Access.Pages.Admin;

namespace Gatehouse.Reports.Pages.Admin.Reports;

/// <summary>
/// The Schedule report form as posted. One time: "Run export on" (<see cref="RunAt"/>) and "Include data for" (dates).
/// Recurring: "Generate first report on" (<see cref="FirstRunAt"/>), "Repeat" every N units, "Include data for" the last
/// N units, "Scheduled end date". The two run times are separate fields, so the kind not chosen never decides run_at.
/// Times are datetime-local values, read as UTC.
/// </summary>
public sealed class ScheduleForm
{
    public string? Name { get; set; }
    public string Type { get; set; } = "payments";
    public string Kind { get; set; } = "once";
    public string? RunAt { get; set; }
    public string? DataFrom { get; set; }
    public string? DataTo { get; set; }
    public string? FirstRunAt { get; set; }
    public int? RepeatEvery { get; set; }
    public string? RepeatUnit { get; set; }
    public int? DataLast { get; set; }
    public string? DataUnit { get; set; }
    public string? EndsAt { get; set; }
    public string? Status { get; set; }
    public List<string> RecordTypes { get; set; } = [];
    public List<string> Columns { get; set; } = [];

    public static readonly IReadOnlyList<(string Key, string Label)> Units = [("day", "day(s)"), ("week", "week(s)"), ("month", "month(s)")];

    public SaveSchedule.Request ToRequest() => new(Name, Type, Kind, Kind == "recurring" ? FirstRunAt : RunAt, RepeatEvery, RepeatUnit,
        DataFrom, DataTo, DataLast, DataUnit, EndsAt, Status, JsonSerializer.SerializeToElement(RecordTypes), JsonSerializer.SerializeToElement(Columns));

    /// <summary>A new schedule of <paramref name="type"/>: at the next full hour, with last month's data (one time) or weekly with the last week's.</summary>
    public static ScheduleForm New(string type, DateTimeOffset now)
    {
        var nextHour = ReportsText.DateTimeInput(new DateTimeOffset(now.UtcDateTime.Date.AddHours(now.UtcDateTime.Hour + 1), TimeSpan.Zero));
        return new ScheduleForm
        {
            Type = ReportType.Find(type) is not null ? type : "payments", RunAt = nextHour, FirstRunAt = nextHour,
            DataFrom = ReportsText.Day(now.AddDays(-30)), DataTo = ReportsText.Day(now), RepeatEvery = 1, RepeatUnit = "week", DataLast = 1,
            DataUnit = "week",
        };
    }

    /// <summary>The form of a stored schedule; the fields of the other kind start as a new schedule's would.</summary>
    public static ScheduleForm From(ScheduleView schedule)
    {
        var runAt = ReportsText.DateTimeInput(schedule.RunAt);
        return new ScheduleForm
        {
            Name = schedule.Name, Type = schedule.Type, Kind = schedule.Kind, RunAt = runAt, FirstRunAt = runAt,
            DataFrom = schedule.DataFrom is { } from ? ReportsText.Day(from) : null,
            DataTo = schedule.DataTo is { } to ? ReportsText.LastDayInput(to) : null,
            RepeatEvery = schedule.RepeatEvery ?? 1, RepeatUnit = schedule.RepeatUnit ?? "week",
            DataLast = schedule.DataLast ?? 1, DataUnit = schedule.DataUnit ?? "week",
            EndsAt = schedule.EndsAt is { } end ? ReportsText.LastDayInput(end) : null,
            Status = schedule.Type == "access" ? schedule.AccessStatus : null,
            RecordTypes = schedule.RecordTypes.ToList(), Columns = schedule.Columns.ToList(),
        };
    }

    /// <summary>
    /// The API fields this form changes from <paramref name="stored"/> (the form the page showed): an edit sends only those,
    /// as a PATCH would, so what the form only shows rounded (a run time to the minute, a range's end as its last day) stays as stored.
    /// </summary>
    public IReadOnlySet<string> ChangedFrom(ScheduleForm stored)
    {
        var (mine, theirs) = (ToRequest(), stored.ToRequest());
        var changed = new HashSet<string>();
        void Compare(string field, object? a, object? b)
        {
            if (!Equals(a is string s ? s.Trim() : a, b is string t ? t.Trim() : b)) changed.Add(field);
        }
        static string Set(IEnumerable<string> items) => string.Join(",", items.Order(StringComparer.Ordinal));
        Compare("name", mine.Name, theirs.Name);
        Compare("type", mine.Type, theirs.Type);
        Compare("kind", mine.Kind, theirs.Kind);
        Compare("run_at", mine.RunAt, theirs.RunAt);
        Compare("data_from", mine.DataFrom, theirs.DataFrom);
        Compare("data_to", mine.DataTo, theirs.DataTo);
        Compare("repeat_every", mine.RepeatEvery, theirs.RepeatEvery);
        Compare("repeat_unit", mine.RepeatUnit, theirs.RepeatUnit);
        Compare("data_last", mine.DataLast, theirs.DataLast);
        Compare("data_unit", mine.DataUnit, theirs.DataUnit);
        Compare("ends_at", mine.EndsAt, theirs.EndsAt);
        Compare("status", mine.Status, theirs.Status);
        Compare("record_types", Set(RecordTypes), Set(stored.RecordTypes));
        Compare("columns", Set(Columns), Set(stored.Columns));
        return changed;
    }

    public static string Count(int? n) => n?.ToString(CultureInfo.InvariantCulture) ?? "";
}

/// <summary>_ScheduleFields' model: the form as typed and why it was refused.</summary>
public sealed record ScheduleFieldsView(ScheduleForm Form, FormErrors? Errors);
