namespace Gatehouse.Reports.Pages.Admin.Reports;

/// <summary>
/// A table of reports (_ReportList), as the Access reports tab, Generated reports and each schedule's files show them.
/// <paramref name="ReturnUrl"/> is where Delete comes back to.
/// </summary>
public sealed record ReportList(string Label, IReadOnlyList<ReportView> Reports, string Empty, string ReturnUrl)
{
    /// <summary>Whether the page should refresh itself: some report is still being generated.</summary>
    public bool InProgress => Reports.Any(ReportsText.InProgress);
}
