using System.Globalization;
using Dapper;
using Npgsql;

namespace Gatehouse.Reports;

/// <summary>
/// The admin home's dashboard: passes granted, vouchers redeemed and revenue (succeeded charges, per currency) per UTC
/// day of a range, every day of it present (a day with nothing is a zero). Each series is one set-based query over a
/// reports.* view: the range's days from generate_series, left-joined to the merchant's rows grouped by day, which the
/// (merchant_id, created_at) index of each table finds.
/// </summary>
public static class DashboardSeries
{
    public const int DefaultDays = 30;
    public const int MaxDays = 366;
    // Only so that the day arithmetic stays within DateOnly and PostgreSQL; nothing was sold before 2000.
    private static readonly DateOnly Earliest = new(2000, 1, 1);
    private static readonly DateOnly Latest = new(2099, 12, 31);

    /// <summary>The days from <see cref="From"/> to <see cref="To"/>, both included, UTC.</summary>
    public sealed record Range(DateOnly From, DateOnly To)
    {
        public int Days => To.DayNumber - From.DayNumber + 1;

        /// <summary>The range as times: from the first day's start up to (not including) the day after the last.</summary>
        public DateTime Start => From.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);

        public DateTime End => To.AddDays(1).ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);

        /// <summary>The <paramref name="days"/> days ending <paramref name="today"/>.</summary>
        public static Range Last(int days, DateOnly today) => new(today.AddDays(1 - days), today);
    }

    public sealed record Point(DateOnly Day, decimal Value);

    public sealed record Revenue(string Currency, IReadOnlyList<Point> Points)
    {
        public decimal Total => Points.Sum(p => p.Value);
    }

    public sealed record Result(Range Range, IReadOnlyList<Point> Passes, IReadOnlyList<Point> Redemptions, IReadOnlyList<Revenue> Revenue);

    /// <summary>
    /// The range a request asks for (from, to: yyyy-MM-dd, UTC). Neither: the last 30 days ending today. Only to: the 30
    /// days ending then. Only from: from then to today (that one day if it is after today). Anything that cannot be
    /// shown gives the default range and the reason, for the page to say.
    /// </summary>
    public static (Range Range, string? Problem) Read(string? from, string? to, DateOnly today)
    {
        var fallback = Range.Last(DefaultDays, today);
        var fromProblem = Date("From", from, out var first);
        var toProblem = Date("To", to, out var last);
        if ((fromProblem ?? toProblem) is { } problem) return (fallback, problem);
        last ??= first is null ? today : Max(today, first.Value);
        first ??= last.Value.AddDays(1 - DefaultDays);
        var range = new Range(first.Value, last.Value);
        if (range.Days < 1) return (fallback, "From must be on or before To.");
        if (range.Days > MaxDays) return (fallback, $"A range is at most {MaxDays} days.");
        return (range, null);
    }

    private static DateOnly Max(DateOnly a, DateOnly b) => a > b ? a : b;

    private static string? Date(string label, string? text, out DateOnly? date)
    {
        date = null;
        if (string.IsNullOrWhiteSpace(text)) return null;
        if (!DateOnly.TryParseExact(text.Trim(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
            return $"{label} must be a date (yyyy-MM-dd).";
        if (day < Earliest || day > Latest) return string.Create(CultureInfo.InvariantCulture, $"{label} must be between {Earliest:yyyy-MM-dd} and {Latest:yyyy-MM-dd}.");
        date = day;
        return null;
    }

    public static async Task<Result> Run(NpgsqlConnection connection, long merchantId, Range range) => new(range,
        await Counts(connection, "reports.pass_grants", merchantId, range),
        await Counts(connection, "reports.voucher_redemptions", merchantId, range),
        await Revenues(connection, merchantId, range));

    private sealed record DayCount(DateOnly Day, long Count);

    // The days as UTC dates: "at time zone 'UTC'" makes both the series and the grouping independent of the session's
    // time zone. view is one of the two constants above, never input.
    private static async Task<IReadOnlyList<Point>> Counts(NpgsqlConnection connection, string view, long merchantId, Range range)
    {
        var rows = await connection.QueryAsync<DayCount>(
            $"""
             select d.day::date as day, coalesce(c.count, 0) as count
             from generate_series(@start at time zone 'UTC', (@end at time zone 'UTC') - interval '1 day', interval '1 day') as d(day)
             left join (select (created_at at time zone 'UTC')::date as day, count(*) as count
                        from {view}
                        where merchant_id = @merchantId and created_at >= @start and created_at < @end
                        group by 1) c on c.day = d.day::date
             order by d.day
             """, new { merchantId, start = range.Start, end = range.End });
        return rows.Select(r => new Point(r.Day, r.Count)).ToList();
    }

    private sealed record DayAmount(string Currency, DateOnly Day, decimal Amount);

    /// <summary>Each currency charged in the range, every day of it. Free checkouts (a 100 % voucher, a trial's card
    /// check) succeed with nothing charged: they earn nothing, and alone they would add a currency of zeros.</summary>
    private static async Task<IReadOnlyList<Revenue>> Revenues(NpgsqlConnection connection, long merchantId, Range range)
    {
        var rows = await connection.QueryAsync<DayAmount>(
            """
            with sums as (select currency_iso as currency, (created_at at time zone 'UTC')::date as day, sum(charged_amount) as amount
                          from reports.payment_amounts
                          where merchant_id = @merchantId and created_at >= @start and created_at < @end
                            and status = 'succeeded' and charged_amount > 0
                          group by 1, 2)
            select c.currency, d.day::date as day, coalesce(s.amount, 0) as amount
            from (select distinct currency from sums) c
            cross join generate_series(@start at time zone 'UTC', (@end at time zone 'UTC') - interval '1 day', interval '1 day') as d(day)
            left join sums s on s.currency = c.currency and s.day = d.day::date
            order by c.currency, d.day
            """, new { merchantId, start = range.Start, end = range.End });
        return rows.GroupBy(r => r.Currency)
            .Select(g => new Revenue(g.Key, g.Select(r => new Point(r.Day, r.Amount)).ToList()))
            .ToList();
    }
}
