using System.Globalization;
using System.Text;

namespace Gatehouse.Bench;

/// <summary>One line of the table: a figure, the reference measured in the same run, and the target on their ratio or on the figure.</summary>
public sealed record Result(string Name, double Figure, string Unit, double? Reference, string ReferenceName, string Target, bool Pass)
{
    public double? Ratio => Reference is > 0 ? Figure / Reference : null;

    public static string Table(IEnumerable<Result> results)
    {
        var sb = new StringBuilder();
        sb.AppendLine("| scenario | figure | reference (same run) | ratio | target | result |");
        sb.AppendLine("|---|---|---|---|---|---|");
        foreach (var r in results)
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {r.Name} | {r.Figure:0.##} {r.Unit} | {(r.Reference is { } reference ? $"{reference:0.##} {r.Unit} ({r.ReferenceName})" : r.ReferenceName)} | {(r.Ratio is { } ratio ? $"{ratio:0.00}" : "–")} | {r.Target} | {(r.Pass ? "pass" : "FAIL")} |"));
        return sb.ToString();
    }
}
