using System.Globalization;
using System.Text.Json;
using Gatehouse.Reports;
using Gatehouse.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using static Gatehouse.Tests.Reports.ReportKit;

namespace Gatehouse.Tests.Reports;

/// <summary>
/// Schedules moved through by the clock, with the scheduler (RunSchedules) and the report worker run by hand: one-time and
/// recurring runs, each with its own data window, months that keep their day, end dates, catching up after downtime,
/// two schedulers at once, edits, and the report.ready event. Each test starts on the next New Year's Day of the shared
/// clock (which only moves forward) with a merchant of its own, and deletes its schedules when done.
/// </summary>
public sealed class ScheduleTests(ReportsFixture app) : IClassFixture<ReportsFixture>
{
    private sealed record ScheduledReport(long Id, DateTimeOffset DueAt, DateTimeOffset PeriodFrom, DateTimeOffset PeriodTo, string Name, string RequestedBy);

    private async Task<(TestMerchant Merchant, DateTimeOffset Start)> Begin(bool commonYear = false)
    {
        var year = app.Clock.GetUtcNow().Year + 1;
        while (commonYear && DateTime.IsLeapYear(year)) year++;
        var start = new DateTimeOffset(year, 1, 1, 0, 0, 0, TimeSpan.Zero);
        app.Clock.SetUtcNow(start);
        return (await Given.Merchant(app.Db, "Scheduled Media"), start);
    }

    /// <summary>A token valid at the clock's time (the clock moves past a token's 30 days).</summary>
    private Task<string> Token(TestMerchant merchant) => Given.MerchantToken(app.Host, merchant);

    private static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private async Task<long> Schedule(TestMerchant merchant, Dictionary<string, string> form) =>
        (await Send(app, await Token(merchant), x => x.Post.FormData(form).ToUrl("/v2/reports/schedules"), 201)).GetProperty("id").GetInt64();

    private static Dictionary<string, string> Recurring(DateTimeOffset first, int every, string unit, int dataLast, string dataUnit) => new()
    {
        ["name"] = "Access digest", ["type"] = "access", ["kind"] = "recurring", ["run_at"] = Iso(first), ["repeat_every"] = every.ToString(),
        ["repeat_unit"] = unit, ["data_last"] = dataLast.ToString(), ["data_unit"] = dataUnit, ["columns"] = "created_at",
    };

    private async Task<JsonElement> ScheduleView(TestMerchant merchant, long id) =>
        await Send(app, await Token(merchant), x => x.Get.Url($"/v2/reports/schedules/{id}"));

    private async Task<DateTimeOffset?> NextRun(TestMerchant merchant, long id) =>
        (await ScheduleView(merchant, id)).GetProperty("next_run_at") is { ValueKind: JsonValueKind.String } next ? next.GetDateTimeOffset() : null;

    private Task<List<ScheduledReport>> Reports(long scheduleId) => Query<ScheduledReport>(app,
        "select id, due_at, period_from, period_to, name, requested_by from reports.reports where schedule_id = @scheduleId order by due_at",
        new { scheduleId });

    /// <summary>Moves the clock and runs the scheduler once, as its tick would; answers the schedule's reports so far.</summary>
    private async Task<List<ScheduledReport>> RunAt(DateTimeOffset at, long scheduleId)
    {
        app.Clock.SetUtcNow(at);
        await RunSchedules(app);
        return await Reports(scheduleId);
    }

    /// <summary>The created_at cells of a generated report (its columns are just created_at).</summary>
    private async Task<string[]> CreatedIn(TestMerchant merchant, long reportId)
    {
        var token = await Token(merchant);
        await Ready(app, token, reportId);
        var lines = Lines((await Download(app, token, reportId)).Text);
        Assert.Equal("created_at", lines[0]);
        return lines[1..];
    }

    /// <summary>Passes created at the given times, for a report's data window to take or leave.</summary>
    private async Task Passes(TestMerchant merchant, params DateTimeOffset[] created)
    {
        await using var connection = await app.Db.OpenConnectionAsync();
        var seed = new ReportSeeder(connection, merchant.Id);
        var viewer = await seed.Viewer($"viewer-{merchant.Uuid:N}@viewers.test", Guid.NewGuid());
        var item = await seed.Item("Cup Final");
        foreach (var at in created) await seed.AccessPass(new(viewer, Iso(at), Iso(at), Iso(at.AddYears(1)), ItemId: item));
    }

    private async Task Delete(TestMerchant merchant, long id)
    {
        var token = await Token(merchant);
        await app.Host.Scenario(x => { x.Delete.Url($"/v2/reports/schedules/{id}"); x.WithBearerToken(token); x.StatusCodeShouldBe(204); });
    }

    [Fact]
    public async Task A_one_time_schedule_runs_once_at_its_time_with_its_data_range_and_never_again()
    {
        var (merchant, start) = await Begin();
        var runAt = start.AddDays(3).AddHours(6);
        await Passes(merchant, start.AddDays(-1), start, start.AddDays(1).AddSeconds(-1), start.AddDays(1), start.AddDays(2));
        var id = await Schedule(merchant, new()
        {
            ["name"] = "New Year's Day", ["type"] = "access", ["kind"] = "once", ["run_at"] = Iso(runAt), ["data_from"] = start.ToString("yyyy-MM-dd"),
            ["data_to"] = start.ToString("yyyy-MM-dd"), ["columns"] = "created_at",
        });
        Assert.Equal(runAt, await NextRun(merchant, id));

        Assert.Empty(await RunAt(runAt.AddSeconds(-1), id));
        var report = Assert.Single(await RunAt(runAt, id));
        Assert.Equal((runAt, start, start.AddDays(1), $"New Year's Day, {runAt:yyyy-MM-dd} 06:00 UTC", $"schedule:{id}"),
            (report.DueAt, report.PeriodFrom, report.PeriodTo, report.Name, report.RequestedBy));
        Assert.Equal([Iso(start), Iso(start.AddDays(1).AddSeconds(-1))], await CreatedIn(merchant, report.Id));
        var schedule = await ScheduleView(merchant, id);
        Assert.Equal((JsonValueKind.Null, 1), (schedule.GetProperty("next_run_at").ValueKind, schedule.GetProperty("runs").GetInt32()));

        Assert.Single(await RunAt(runAt.AddMinutes(1), id));
        Assert.Single(await RunAt(runAt.AddDays(40), id));

        // Its report is listed under the schedule's, and stays when the schedule is deleted.
        var listed = await Send(app, await Token(merchant), x => x.Get.Url($"/v2/reports?scheduled=true&schedule_id={id}"));
        Assert.Equal(report.Id, Assert.Single(listed.GetProperty("collection").EnumerateArray()).GetProperty("id").GetInt64());
        await Delete(merchant, id);
        var kept = await Send(app, await Token(merchant), x => x.Get.Url($"/v2/reports/{report.Id}"));
        Assert.Equal((JsonValueKind.Null, "ready"), (kept.GetProperty("schedule_id").ValueKind, kept.GetProperty("status").GetString()));
    }

    [Theory]
    [InlineData(1, "day", 1, "day", 1)]
    [InlineData(3, "day", 3, "day", 3)]
    [InlineData(1, "week", 7, "day", 7)]
    [InlineData(2, "week", 2, "week", 14)]
    public async Task A_recurring_schedule_runs_from_its_first_time_at_each_interval_with_the_data_before_each_run(
        int every, string unit, int dataLast, string dataUnit, int days)
    {
        var (merchant, start) = await Begin();
        var first = start.AddDays(20).AddHours(6);
        var step = TimeSpan.FromDays(days);
        // Each window [due - step, due) takes a record created at its start and one a second before its end.
        await Passes(merchant, first - step - TimeSpan.FromSeconds(1), first - step, first - TimeSpan.FromSeconds(1), first,
            first + step - TimeSpan.FromSeconds(1), first + step, first + 2 * step - TimeSpan.FromSeconds(1), first + 2 * step);
        var id = await Schedule(merchant, Recurring(first, every, unit, dataLast, dataUnit));

        Assert.Empty(await RunAt(start.AddDays(1), id));
        Assert.Empty(await RunAt(first.AddMinutes(-1), id));
        Assert.Single(await RunAt(first, id));
        Assert.Single(await RunAt(first + step - TimeSpan.FromSeconds(1), id));
        Assert.Equal(2, (await RunAt(first + step, id)).Count);
        var reports = await RunAt(first + 2 * step, id);

        Assert.Equal([first, first + step, first + 2 * step], reports.Select(r => r.DueAt));
        foreach (var report in reports)
        {
            Assert.Equal((report.DueAt - step, report.DueAt), (report.PeriodFrom, report.PeriodTo));
            Assert.Equal($"Access digest, {report.DueAt:yyyy-MM-dd HH:mm} UTC", report.Name);
            Assert.Equal([Iso(report.DueAt - step), Iso(report.DueAt - TimeSpan.FromSeconds(1))], await CreatedIn(merchant, report.Id));
        }
        var schedule = await ScheduleView(merchant, id);
        Assert.Equal((first + 3 * step, 3), (schedule.GetProperty("next_run_at").GetDateTimeOffset(), schedule.GetProperty("runs").GetInt32()));
        await Delete(merchant, id);
    }

    [Fact]
    public async Task A_monthly_schedule_keeps_its_day_of_the_month_where_a_month_has_it()
    {
        var (merchant, start) = await Begin(commonYear: true);
        DateTimeOffset At(int month, int day) => new(start.Year, month, day, 6, 0, 0, TimeSpan.Zero);
        var (january, february, march, april) = (At(1, 31), At(2, 28), At(3, 31), At(4, 30));
        DateTimeOffset[] created = [january.AddMonths(-1), At(1, 28), january, february, At(3, 30), march, At(4, 29)];
        await Passes(merchant, created);
        var id = await Schedule(merchant, Recurring(january, 1, "month", 1, "month"));

        Assert.Single(await RunAt(january, id));
        Assert.Equal(february, await NextRun(merchant, id));
        Assert.Single(await RunAt(february.AddSeconds(-1), id));
        Assert.Equal(2, (await RunAt(february, id)).Count);
        Assert.Equal(march, await NextRun(merchant, id));
        Assert.Equal(3, (await RunAt(march, id)).Count);
        Assert.Equal(april, await NextRun(merchant, id));
        var reports = await RunAt(april, id);
        Assert.Equal([january, february, march, april], reports.Select(r => r.DueAt));
        Assert.Equal(At(5, 31), await NextRun(merchant, id));

        // Each with the month before its run: Dec 31 to Jan 31, Jan 28 to Feb 28, Feb 28 to Mar 31, Mar 30 to Apr 30.
        Assert.Equal([At(1, 31).AddMonths(-1), At(1, 28), At(2, 28), At(3, 30)], reports.Select(r => r.PeriodFrom));
        foreach (var report in reports)
        {
            Assert.Equal(report.DueAt, report.PeriodTo);
            Assert.Equal(created.Where(t => t >= report.PeriodFrom && t < report.PeriodTo).Select(Iso), await CreatedIn(merchant, report.Id));
        }
        await Delete(merchant, id);
    }

    [Fact]
    public async Task An_end_date_stops_a_schedule_a_date_taking_in_its_whole_day_and_no_run_at_or_after_it()
    {
        var (merchant, start) = await Begin();
        var first = start.AddDays(1).AddHours(6);
        // A date: the runs of its whole day are in (the third run, at 06:00 on the end date).
        var byDate = await Schedule(merchant, new(Recurring(first, 1, "day", 1, "day")) { ["ends_at"] = first.AddDays(2).ToString("yyyy-MM-dd") });
        Assert.Equal(start.AddDays(4), (await ScheduleView(merchant, byDate)).GetProperty("ends_at").GetDateTimeOffset());
        // A date and time: a run due exactly then is out.
        var byTime = await Schedule(merchant, new(Recurring(first, 1, "day", 1, "day")) { ["ends_at"] = Iso(first.AddDays(2)) });

        Assert.Equal(2, (await RunAt(first.AddDays(1), byDate)).Count);
        Assert.Equal(first.AddDays(2), await NextRun(merchant, byDate));
        Assert.Equal(2, (await Reports(byTime)).Count);
        Assert.Null(await NextRun(merchant, byTime));

        var byDateReports = await RunAt(first.AddDays(2), byDate);
        Assert.Equal([first, first.AddDays(1), first.AddDays(2)], byDateReports.Select(r => r.DueAt));
        Assert.Null(await NextRun(merchant, byDate));
        Assert.Equal([first, first.AddDays(1)], (await Reports(byTime)).Select(r => r.DueAt));
        Assert.Null(await NextRun(merchant, byTime));

        Assert.Equal(3, (await RunAt(first.AddDays(10), byDate)).Count);
        Assert.Equal(2, (await Reports(byTime)).Count);
        Assert.Equal(2, (await ScheduleView(merchant, byTime)).GetProperty("runs").GetInt32());
        await Delete(merchant, byDate);
        await Delete(merchant, byTime);
    }

    [Fact]
    public async Task After_downtime_each_missed_due_time_gets_one_report_with_its_own_data_and_those_past_retention_are_skipped()
    {
        var (merchant, start) = await Begin();
        var first = start.AddDays(1).AddHours(6);
        await Passes(merchant, first.AddHours(-12), first.AddHours(12), first.AddDays(1).AddHours(12), first.AddDays(2).AddHours(12));
        var id = await Schedule(merchant, Recurring(first, 1, "day", 1, "day"));

        // Down from before the first run until an hour after the fourth: one run of the scheduler queues all four.
        var caughtUp = await RunAt(first.AddDays(3).AddHours(1), id);
        Assert.Equal([first, first.AddDays(1), first.AddDays(2), first.AddDays(3)], caughtUp.Select(r => r.DueAt));
        Assert.Equal(caughtUp.Select(r => $"Access digest, {r.DueAt:yyyy-MM-dd} 06:00 UTC"), caughtUp.Select(r => r.Name));
        Assert.All(caughtUp, r => Assert.Equal((r.DueAt.AddDays(-1), r.DueAt), (r.PeriodFrom, r.PeriodTo)));
        Assert.Equal([Iso(first.AddHours(-12))], await CreatedIn(merchant, caughtUp[0].Id));
        Assert.Equal([Iso(first.AddHours(12))], await CreatedIn(merchant, caughtUp[1].Id));
        Assert.Equal([Iso(first.AddDays(2).AddHours(12))], await CreatedIn(merchant, caughtUp[3].Id));
        Assert.Equal(first.AddDays(4), await NextRun(merchant, id));

        // Running again adds nothing.
        await RunSchedules(app);
        Assert.Equal(caughtUp.Select(r => r.Id), (await Reports(id)).Select(r => r.Id));

        // Down for 17 days: the due times more than 10 days ago are skipped (their reports would be deleted at once).
        var now = first.AddDays(20).AddHours(1);
        var later = await RunAt(now, id);
        Assert.Equal(Enumerable.Range(11, 10).Select(d => first.AddDays(d)), later.Skip(4).Select(r => r.DueAt));
        Assert.All(later.Skip(4), r => Assert.True(r.DueAt >= now - ReportView.KeptFor));
        Assert.Equal(first.AddDays(21), await NextRun(merchant, id));
        Assert.Equal(14, (await ScheduleView(merchant, id)).GetProperty("runs").GetInt32());
        await Delete(merchant, id);
    }

    [Fact]
    public async Task Two_schedulers_running_at_once_queue_each_due_time_exactly_once()
    {
        var (merchant, start) = await Begin();
        var first = start.AddDays(1).AddHours(6);
        // More schedules than one claim takes (50), so each scheduler loops while the other holds rows.
        var ids = new List<long>();
        for (var i = 0; i < 60; i++) ids.Add(await Schedule(merchant, Recurring(first.AddMinutes(i), 1, "day", 1, "day")));

        for (var round = 1; round <= 3; round++)
        {
            // Each round, two due times of every schedule have passed.
            app.Clock.SetUtcNow(first.AddDays(2 * round - 1).AddHours(2));
            var schedulers = Enumerable.Range(0, 2).Select(_ => app.Host.Services.GetRequiredService<RunSchedules>()).ToList();
            Assert.NotSame(schedulers[0], schedulers[1]);
            await Task.WhenAll(schedulers.Select(s => s.Invoke()));

            var counts = await Query<(long ScheduleId, long Reports, long DueTimes)>(app,
                "select schedule_id, count(*), count(distinct due_at) from reports.reports where schedule_id = any(@ids) group by schedule_id",
                new { ids = ids.ToArray() });
            Assert.Equal(60, counts.Count);
            Assert.All(counts, c => Assert.Equal((2L * round, 2L * round), (c.Reports, c.DueTimes)));
        }
        Assert.All(await Query<int>(app, "select runs from reports.schedules where id = any(@ids)", new { ids = ids.ToArray() }), runs => Assert.Equal(6, runs));
        Assert.Equal(60L, await Scalar<long>(app, "with deleted as (delete from reports.schedules where id = any(@ids) returning 1) select count(*) from deleted",
            new { ids = ids.ToArray() }));
    }

    [Fact]
    public async Task Changing_a_schedules_timing_moves_its_next_run_and_changing_only_its_name_keeps_it()
    {
        var (merchant, start) = await Begin();
        var first = start.AddDays(7).AddHours(6);
        var id = await Schedule(merchant, Recurring(first, 1, "week", 1, "week"));
        async Task<JsonElement> Patch(Dictionary<string, string> form, int status = 200) =>
            await Send(app, await Token(merchant), x => x.Patch.FormData(form).ToUrl($"/v2/reports/schedules/{id}"), status);

        Assert.Single(await RunAt(first, id));
        // The next run (a week on) was missed: an hour after it, renaming keeps it due, so the scheduler still makes it.
        app.Clock.SetUtcNow(first.AddDays(7).AddHours(1));
        var renamed = await Patch(new() { ["name"] = "Weekly digest", ["columns"] = "item_title" });
        Assert.Equal(("Weekly digest", first.AddDays(7)), (renamed.GetProperty("name").GetString(), renamed.GetProperty("next_run_at").GetDateTimeOffset()));
        Assert.Equal(2, (await RunAt(first.AddDays(7).AddHours(1), id)).Count);
        Assert.Equal(first.AddDays(14), await NextRun(merchant, id));

        // Every three weeks from the first run: the next run is the first of those still to come.
        Assert.Equal(first.AddDays(21), (await Patch(new() { ["repeat_every"] = "3" })).GetProperty("next_run_at").GetDateTimeOffset());
        // That run missed too: the same timing sent again with other fields keeps it due.
        app.Clock.SetUtcNow(first.AddDays(22));
        var resent = await Patch(new() { ["repeat_every"] = "3", ["repeat_unit"] = "week", ["run_at"] = Iso(first), ["data_last"] = "2" });
        Assert.Equal((first.AddDays(21), 2), (resent.GetProperty("next_run_at").GetDateTimeOffset(), resent.GetProperty("data_last").GetInt32()));
        var reports = await RunAt(first.AddDays(22), id);
        Assert.Equal([first, first.AddDays(7), first.AddDays(21)], reports.Select(r => r.DueAt));
        Assert.Equal((first.AddDays(7), first.AddDays(21)), (reports[2].PeriodFrom, reports[2].PeriodTo));
        Assert.Equal(first.AddDays(42), await NextRun(merchant, id));

        // A new first run: it is the next one. A first run in the past is refused (other than the one stored), as on creation.
        var moved = first.AddDays(30).AddHours(3);
        Assert.Equal(moved, (await Patch(new() { ["run_at"] = Iso(moved) })).GetProperty("next_run_at").GetDateTimeOffset());
        await Patch(new() { ["run_at"] = Iso(first.AddDays(21)) }, 400);
        Assert.Equal(moved, await NextRun(merchant, id));
        // A one-time schedule now: its run_at is the next run.
        var once = await Patch(new() { ["kind"] = "once", ["data_from"] = Iso(first), ["data_to"] = Iso(moved) });
        Assert.Equal(("once", moved), (once.GetProperty("kind").GetString(), once.GetProperty("next_run_at").GetDateTimeOffset()));
        Assert.Equal(4, (await RunAt(moved, id)).Count);
        Assert.Null(await NextRun(merchant, id));

        // On creation, a run_at more than a minute ago is refused; within the minute (a form filled in for "now") it is due at once.
        var now = app.Clock.GetUtcNow();
        await Send(app, await Token(merchant), x => x.Post.FormData(Recurring(now.AddMinutes(-2), 1, "day", 1, "day")).ToUrl("/v2/reports/schedules"), 400);
        var justNow = await Schedule(merchant, Recurring(now.AddSeconds(-30), 1, "day", 1, "day"));
        Assert.Equal(now.AddSeconds(-30), await NextRun(merchant, justNow));
        Assert.Single(await RunAt(now, justNow));
        await Delete(merchant, justNow);
        await Delete(merchant, id);
    }

    [Fact]
    public async Task Each_report_ready_raises_one_report_ready_event_with_its_download_link()
    {
        var (merchant, start) = await Begin();
        var runAt = start.AddDays(2).AddHours(6);
        await Passes(merchant, start.AddDays(1));
        var id = await Schedule(merchant, new()
        {
            ["name"] = "Once", ["type"] = "access", ["kind"] = "once", ["run_at"] = Iso(runAt), ["data_from"] = Iso(start), ["data_to"] = Iso(runAt),
        });
        var report = Assert.Single(await RunAt(runAt, id));
        var ready = await Ready(app, await Token(merchant), report.Id);

        var events = await Query<(string Payload, DateTimeOffset CreatedAt)>(app,
            "select payload::text, created_at from kernel.outbox where merchant_id = @Id and type = 'report.ready'", new { merchant.Id });
        var (payload, createdAt) = Assert.Single(events);
        var body = JsonDocument.Parse(payload).RootElement;
        Assert.Equal((report.Id, id, "Once, " + runAt.ToString("yyyy-MM-dd") + " 06:00 UTC", "access", 1L),
            (body.GetProperty("report_id").GetInt64(), body.GetProperty("schedule_id").GetInt64(), body.GetProperty("name").GetString(),
                body.GetProperty("type").GetString(), body.GetProperty("rows").GetInt64()));
        Assert.Equal(($"/v2/reports/{report.Id}/download", ready.GetProperty("size_bytes").GetInt64(), ready.GetProperty("expires_at").GetDateTimeOffset()),
            (body.GetProperty("download_url").GetString(), body.GetProperty("size_bytes").GetInt64(), body.GetProperty("expires_at").GetDateTimeOffset()));
        Assert.Equal(ready.GetProperty("finished_at").GetDateTimeOffset(), createdAt);

        // A report asked for through the API raises its own, once; running the worker again raises nothing more.
        var token = await Token(merchant);
        var asked = (await Request(app, token, new() { ["type"] = "payments", ["from"] = Iso(start), ["to"] = Iso(runAt) })).GetProperty("id").GetInt64();
        await Ready(app, token, asked);
        await Ready(app, token, asked);
        var all = await Query<string>(app, "select payload::text from kernel.outbox where merchant_id = @Id and type = 'report.ready' order by id", new { merchant.Id });
        Assert.Equal([report.Id, asked], all.Select(p => JsonDocument.Parse(p).RootElement.GetProperty("report_id").GetInt64()));
        Assert.Equal(JsonValueKind.Null, JsonDocument.Parse(all[1]).RootElement.GetProperty("schedule_id").ValueKind);
    }
}
