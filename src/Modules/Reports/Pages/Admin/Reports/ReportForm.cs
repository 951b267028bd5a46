using System.Text.Json;
using Gatehouse.Access.Pages.Admin;

namespace Gatehouse.Reports.Pages.Admin.Reports;

/// <summary>The Generate report form as posted: the period's dates (UTC), for access the status and record types, the ticked columns.</summary>
public sealed class ReportForm
{
    public string? Type { get; set; }
    public string? Name { get; set; }
    public string? From { get; set; }
    public string? To { get; set; }
    public string Status { get; set; } = "all";
    public List<string> RecordTypes { get; set; } = [];
    public List<string> Columns { get; set; } = [];

    public RequestReport.Request ToRequest() =>
        new(Name, Type, From, To, Status, JsonSerializer.SerializeToElement(RecordTypes), JsonSerializer.SerializeToElement(Columns));

    /// <summary>A new form: the last 30 days, today included.</summary>
    public static ReportForm New(string type, DateTimeOffset now) =>
        new() { Type = type, From = ReportsText.Day(now.AddDays(-30)), To = ReportsText.Day(now) };
}

/// <summary>
/// _ReportFields' model: a type's filters (access: active, inactive or all, and the record types of each) and its
/// columns, as ticked, with why the form was refused.
/// </summary>
public sealed record ReportFieldsView(ReportType Type, string? Status, IReadOnlyList<string> RecordTypes, IReadOnlyList<string> Columns,
    FormErrors? Errors);
