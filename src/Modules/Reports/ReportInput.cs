using System.Globalization;
using System.Text.Json;
using Gatehouse.Kernel;

namespace Gatehouse.Reports;

/// <summary>What a report asks for, as a generated report and a schedule both take it: type, filters, columns.</summary>
public sealed record ReportOptions(ReportType Type, string AccessStatus, IReadOnlyList<string> RecordTypes, IReadOnlyList<string> Columns);

/// <summary>Reading and checking the fields reports and schedules share.</summary>
internal static class ReportInput
{
    public const int MaxNameLength = 200;

    /// <summary>
    /// type; status (access only: active|inactive|all, default all); record_types (access, with active or inactive:
    /// some of that status's types); columns (blank: all). Lists come as JSON arrays, repeated form fields
    /// (columns[]=a&amp;columns[]=b) or one comma-separated value. Unknown values are errors, not ignored.
    /// </summary>
    public static ReportOptions? Options(FieldErrors errors, string? type, string? status, JsonElement? recordTypes, JsonElement? columns)
    {
        var reportType = ReportType.Find(type?.Trim().ToLowerInvariant());
        if (reportType is null)
        {
            errors.Add("type", "must be access, payments or subscriptions");
            return null;
        }
        var accessStatus = string.IsNullOrWhiteSpace(status) ? "all" : status.Trim().ToLowerInvariant();
        var types = List(errors, "record_types", recordTypes);
        var chosen = List(errors, "columns", columns);
        if (reportType.Key != "access")
        {
            if (!string.IsNullOrWhiteSpace(status) && accessStatus != "all") errors.Add("status", "applies to access reports only");
            if (types.Count > 0) errors.Add("record_types", "apply to access reports only");
        }
        else if (!ReportType.AccessStatuses.Contains(accessStatus))
            errors.Add("status", "must be active, inactive or all");
        else if (types.Count > 0)
        {
            var allowed = accessStatus switch
            {
                "active" => ReportType.ActiveRecordTypes,
                "inactive" => ReportType.InactiveRecordTypes,
                _ => [],
            };
            if (allowed.Length == 0) errors.Add("record_types", "choose active or inactive records to pick record types");
            else if (types.FirstOrDefault(t => !allowed.Contains(t)) is { } wrong)
                errors.Add("record_types", $"{wrong} is not a type of {accessStatus} record; they are: {string.Join(", ", allowed)}");
        }
        if (chosen.FirstOrDefault(c => reportType.Columns.All(k => k.Key != c)) is { } unknown)
            errors.Add("columns", $"{unknown} is not a column of {reportType.Key} reports; they are: {string.Join(", ", reportType.Columns.Select(c => c.Key))}");
        return new ReportOptions(reportType, accessStatus, types, chosen);
    }

    /// <summary>A list filter's ?type=: one report type or several, comma-separated; none: all.</summary>
    public static IReadOnlyList<string> TypeFilter(string? type)
    {
        var types = (type ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (types.FirstOrDefault(t => ReportType.Find(t) is null) is { } unknown)
            throw ApiException.Invalid("type", $"{unknown} is not a report type; they are: access, payments, subscriptions");
        return types;
    }

    /// <summary>A list stored as text[] and read back with array_to_string (Dapper does not map arrays into records).</summary>
    public static string[] Split(string joined) => joined.Split(',', StringSplitOptions.RemoveEmptyEntries);

    public static string? Name(FieldErrors errors, string? name, bool required)
    {
        var trimmed = name?.Trim();
        if (string.IsNullOrEmpty(trimmed))
        {
            if (required) errors.Add("name", "is required");
            return null;
        }
        if (trimmed.Length > MaxNameLength) errors.Add("name", $"must be at most {MaxNameLength} characters");
        return trimmed;
    }

    /// <summary>
    /// A UTC date (yyyy-MM-dd) or date and time (ISO 8601; without an offset, UTC). A date as the end of a range means
    /// the whole of that day: the next day's start, compared with &lt;.
    /// </summary>
    public static DateTimeOffset? Time(FieldErrors errors, string field, string? text, bool endOfRange = false)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var trimmed = text.Trim();
        if (DateOnly.TryParseExact(trimmed, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
            return new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero).AddDays(endOfRange ? 1 : 0);
        if (long.TryParse(trimmed, NumberStyles.None, CultureInfo.InvariantCulture, out var unix) && unix < 253402300800)
            return DateTimeOffset.FromUnixTimeSeconds(unix);
        if (Json.TryParseUtc(trimmed, out var value)) return value;
        errors.Add(field, "must be a date (yyyy-MM-dd) or a date and time (ISO 8601, UTC)");
        return null;
    }

    /// <summary>A list field: a JSON array, repeated form fields, or one comma-separated value; duplicates dropped.</summary>
    public static IReadOnlyList<string> List(FieldErrors errors, string field, JsonElement? value)
    {
        IEnumerable<string> items = value switch
        {
            null or { ValueKind: JsonValueKind.Null } => [],
            { ValueKind: JsonValueKind.String } s => s.GetString()!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            { ValueKind: JsonValueKind.Array } a => a.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? e.GetString()!.Trim() : e.GetRawText()),
            // Form fields with indices (columns[0]=a) arrive as an object.
            { ValueKind: JsonValueKind.Object } o => o.EnumerateObject().Select(p => p.Value.ToString().Trim()),
            _ => Invalid(errors, field),
        };
        return items.Where(t => t.Length > 0).Select(t => t.ToLowerInvariant()).Distinct().ToList();
    }

    private static IEnumerable<string> Invalid(FieldErrors errors, string field)
    {
        errors.Add(field, "must be a list");
        return [];
    }
}
