using Coravel.Invocable;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Gatehouse.Reports;

/// <summary>
/// Queues the reports schedules are due for. Every instance runs this; due schedules are claimed with
/// FOR UPDATE SKIP LOCKED, each due time's report is inserted (unique per schedule and due time) and next_run_at moved
/// on in the same transaction, so each due time gets exactly one report whatever the number of instances. After
/// downtime, every due time missed runs once when the app is back, with the data it would have had (its window is
/// counted from the due time, not from the catch-up), except those older than the reports' 10 days of retention,
/// whose reports would be deleted at once.
/// </summary>
public sealed class RunSchedules(NpgsqlDataSource db, TimeProvider clock, IServiceScopeFactory scopes, ILogger<RunSchedules> log) : IInvocable
{
    /// <summary>When a schedule runs: once at RunAt, or every RepeatEvery RepeatUnit from RunAt, each run before EndsAt.</summary>
    public sealed record Timing(string Kind, DateTimeOffset RunAt, int? RepeatEvery, string? RepeatUnit, DateTimeOffset? EndsAt)
    {
        /// <summary>The k-th run. Months count from the first run, so the 31st stays the 31st where a month has one.</summary>
        public DateTimeOffset Due(int k) => RepeatUnit switch
        {
            "month" => RunAt.AddMonths(k * RepeatEvery!.Value),
            "week" => RunAt.AddDays(7.0 * k * RepeatEvery!.Value),
            _ => RunAt.AddDays((double)k * RepeatEvery!.Value),
        };
    }

    /// <summary>The first run at or after <paramref name="from"/>; null when there is none (a one-time run passed, or the end date).</summary>
    public static DateTimeOffset? FirstDue(Timing timing, DateTimeOffset from)
    {
        if (timing.Kind == "once") return timing.RunAt >= from ? timing.RunAt : null;
        var k = 0;
        if (from > timing.RunAt)
        {
            // A guess from below, then forward: months differ in length.
            var days = (from - timing.RunAt).TotalDays;
            var perRun = timing.RepeatUnit switch { "month" => 31.0, "week" => 7.0, _ => 1.0 } * timing.RepeatEvery!.Value;
            k = Math.Max(0, (int)(days / perRun) - 1);
            while (timing.Due(k) < from) k++;
        }
        var due = timing.Due(k);
        return timing.EndsAt is { } end && due >= end ? null : due;
    }

    /// <summary>The run after <paramref name="due"/>.</summary>
    public static DateTimeOffset? After(Timing timing, DateTimeOffset due) => FirstDue(timing, due.AddTicks(1));

    private sealed record Due(long Id, long MerchantId, string Name, string Type, string Kind, DateTimeOffset FirstRunAt, int? RepeatEvery,
        string? RepeatUnit, DateTimeOffset? DataFrom, DateTimeOffset? DataTo, int? DataLast, string? DataUnit, DateTimeOffset? EndsAt,
        string AccessStatus, string RecordTypes, string Columns, DateTimeOffset NextRunAt);

    public async Task Invoke()
    {
        var queued = 0;
        while (true)
        {
            var now = clock.GetUtcNow();
            await using var connection = await db.OpenConnectionAsync();
            await using var transaction = await connection.BeginTransactionAsync();
            var due = (await connection.QueryAsync<Due>(
                """
                select id, merchant_id, name, type, kind, first_run_at, repeat_every, repeat_unit, data_from, data_to, data_last, data_unit, ends_at,
                       access_status, array_to_string(record_types, ',') as record_types, array_to_string(columns, ',') as columns, next_run_at
                from reports.schedules where next_run_at <= @now
                order by next_run_at limit 50
                for update skip locked
                """, new { now }, transaction)).ToList();
            if (due.Count == 0) break;
            foreach (var schedule in due)
            {
                var timing = new Timing(schedule.Kind, schedule.FirstRunAt, schedule.RepeatEvery, schedule.RepeatUnit, schedule.EndsAt);
                DateTimeOffset? next = schedule.NextRunAt;
                var runs = 0;
                for (; next is { } at && at <= now; next = After(timing, at))
                {
                    if (at < now - ReportView.KeptFor) continue;
                    await RequestReport.Queue(connection, transaction, schedule.MerchantId, Report(schedule, at), $"schedule:{schedule.Id}", now,
                        schedule.Id, at);
                    runs++;
                }
                await connection.ExecuteAsync("update reports.schedules set next_run_at = @next, runs = runs + @runs where id = @Id",
                    new { schedule.Id, next, runs }, transaction);
                queued += runs;
            }
            await transaction.CommitAsync();
        }
        if (queued > 0)
        {
            log.LogInformation("Queued {Count} scheduled reports", queued);
            RunReports.StartNow(scopes);
        }
    }

    /// <summary>The report of one due time: one-time, the schedule's data range; recurring, the data of the last N units before the due time.</summary>
    private static RequestReport.Checked Report(Due s, DateTimeOffset at)
    {
        var (from, to) = s.Kind == "once"
            ? (s.DataFrom!.Value, s.DataTo!.Value)
            : (s.DataUnit switch
            {
                "month" => at.AddMonths(-s.DataLast!.Value),
                "week" => at.AddDays(-7.0 * s.DataLast!.Value),
                _ => at.AddDays(-(double)s.DataLast!.Value),
            }, at);
        var options = new ReportOptions(ReportType.Find(s.Type)!, s.AccessStatus, ReportInput.Split(s.RecordTypes), ReportInput.Split(s.Columns));
        return new RequestReport.Checked($"{s.Name}, {ScheduleView.Utc(at)}", options, from, to);
    }
}
