using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Html;

namespace Gatehouse.Reports;

/// <summary>
/// One dashboard series drawn as an inline SVG bar chart, rendered on the server: a bar per day, a y axis of round
/// numbers, day labels thinned to fit, a &lt;title&gt; per day for the hover value. The SVG is one image to assistive
/// technology (role="img", named with the series and its total); the page puts the same numbers in a table beside it.
/// </summary>
public sealed record DashboardChart(string Name, IReadOnlyList<DashboardSeries.Point> Points, Func<decimal, string> Format, bool WholeNumbers)
{
    // The viewBox; the SVG scales to its card's width (admin.css).
    private const double Width = 640, Height = 200, Left = 48, Right = 24, Top = 10, Bottom = 24;
    private const int MaxDayLabels = 8;
    private const int TargetTicks = 4;

    public decimal Total => Points.Sum(p => p.Value);

    /// <summary>"Passes granted, 2026-10-26 to 2026-11-24: 12 passes".</summary>
    public string Label(DashboardSeries.Range range) => $"{Name}, {Day(range.From)} to {Day(range.To)}: {Format(Total)}";

    /// <summary>A value without its unit, as the data table's cells show it under the series' name.</summary>
    public string Number(decimal value) => value.ToString(WholeNumbers ? "#,0" : "#,0.00", CultureInfo.InvariantCulture);

    public static string Day(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public IHtmlContent Svg(DashboardSeries.Range range)
    {
        var html = HtmlEncoder.Default;
        var (step, top) = Scale(Points.Count == 0 ? 0 : Points.Max(p => p.Value), WholeNumbers);
        var plotWidth = Width - Left - Right;
        var plotHeight = Height - Top - Bottom;
        var slot = plotWidth / Math.Max(1, Points.Count);
        double Y(decimal value) => Top + plotHeight - (double)(value / top) * plotHeight;

        var svg = new StringBuilder();
        svg.Append($"""<svg class="chart" viewBox="0 0 {N(Width)} {N(Height)}" role="img" aria-label="{html.Encode(Label(range))}">""");
        // The y axis: a grid line and a label per tick, 0 to the top tick.
        for (var tick = 0m; tick <= top; tick += step)
            svg.Append($"""<line class="chart-grid" x1="{N(Left)}" x2="{N(Width - Right)}" y1="{N(Y(tick))}" y2="{N(Y(tick))}"/>""")
                .Append($"""<text class="chart-tick" x="{N(Left - 6)}" y="{N(Y(tick) + 4)}" text-anchor="end">{Tick(tick)}</text>""");
        // A day label every few days, so that they never overlap however long the range.
        var labelEvery = (Points.Count + MaxDayLabels - 1) / MaxDayLabels;
        for (var i = 0; i < Points.Count; i++)
        {
            var point = Points[i];
            var x = Left + i * slot;
            // The whole column answers the hover, so that a day of zero has its title too.
            svg.Append($"""<g class="chart-day"><title>{Day(point.Day)}: {html.Encode(Format(point.Value))}</title>""")
                .Append($"""<rect class="chart-hit" x="{N(x)}" y="{N(Top)}" width="{N(slot)}" height="{N(plotHeight)}"/>""");
            if (point.Value > 0)
            {
                var barWidth = Math.Max(1, slot * 0.7);
                svg.Append($"""<rect class="chart-bar" x="{N(x + (slot - barWidth) / 2)}" y="{N(Y(point.Value))}" width="{N(barWidth)}" height="{N(Top + plotHeight - Y(point.Value))}"/>""");
            }
            svg.Append("</g>");
            if (i % labelEvery == 0)
                svg.Append($"""<text class="chart-day-label" x="{N(x + slot / 2)}" y="{N(Height - 6)}" text-anchor="middle">{point.Day.ToString("MMM d", CultureInfo.InvariantCulture)}</text>""");
        }
        svg.Append($"""<line class="chart-axis" x1="{N(Left)}" x2="{N(Width - Right)}" y1="{N(Top + plotHeight)}" y2="{N(Top + plotHeight)}"/>""");
        svg.Append("</svg>");
        return new HtmlString(svg.ToString());
    }

    /// <summary>
    /// The y axis: a round step (1, 2 or 5 times a power of ten) giving about <see cref="TargetTicks"/> ticks above zero,
    /// and the first multiple of it at or above the largest value. Counts step by whole numbers, amounts by cents at least;
    /// an empty series still has an axis from 0 to 1.
    /// </summary>
    public static (decimal Step, decimal Top) Scale(decimal max, bool wholeNumbers)
    {
        if (max <= 0) return (1, 1);
        var rough = (double)max / TargetTicks;
        var power = Math.Pow(10, Math.Floor(Math.Log10(rough)));
        var fraction = rough / power;
        var nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10;
        var step = (decimal)(nice * power);
        step = Math.Max(wholeNumbers ? 1 : 0.01m, step);
        return (step, Math.Ceiling(max / step) * step);
    }

    private static string Tick(decimal value) => value.ToString("#,0.##", CultureInfo.InvariantCulture);

    private static string N(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);
}
