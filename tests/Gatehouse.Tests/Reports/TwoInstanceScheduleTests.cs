using System.Text.Json;
using Dapper;
using Gatehouse.Tests.Infrastructure;
using Npgsql;

namespace Gatehouse.Tests.Reports;

/// <summary>
/// Two app instances on one database, each with its own Coravel scheduler ticking RunSchedules and RunReports on the
/// real clock: every due time of every schedule gets exactly one report, generated once, with one report.ready event;
/// a schedule that missed three due times while no instance ran gets each of them once.
/// </summary>
public sealed class TwoInstanceScheduleTests : IAsyncLifetime
{
    private string _connectionString = "";
    private NpgsqlDataSource _db = null!;

    public async Task InitializeAsync()
    {
        _connectionString = await TestDatabase.CreateAsync();
        _db = NpgsqlDataSource.Create(_connectionString);
    }

    public async Task DisposeAsync()
    {
        await _db.DisposeAsync();
        await TestDatabase.DropAsync(_connectionString);
    }

    private sealed record ScheduleRuns(long Id, string Kind, int Runs, long Reports, long Ready, long Distinct);

    [Fact]
    public async Task Each_due_time_gets_one_report_whichever_instance_runs_it()
    {
        var merchant = await Given.Merchant(_db);
        await using var db = await _db.OpenConnectionAsync();
        await using var first = await AppFixture.StartHost(b => AppFixture.Configure(b, _connectionString, TimeProvider.System, new Dictionary<string, string?>()));
        await using var second = await AppFixture.StartHost(b => AppFixture.Configure(b, _connectionString, TimeProvider.System, new Dictionary<string, string?>()));
        var token = await Given.MerchantToken(first, merchant);

        // All due a few seconds from now, on both instances' next ticks (every 10 s, not in step with each other).
        var runAt = DateTimeOffset.UtcNow.AddSeconds(3).ToString("O");
        for (var i = 0; i < 12; i++)
        {
            var once = i % 2 == 0;
            var form = new Dictionary<string, string>
            {
                ["name"] = $"Schedule {i}", ["type"] = i % 3 == 0 ? "access" : "payments", ["kind"] = once ? "once" : "recurring", ["run_at"] = runAt,
            };
            if (once) (form["data_from"], form["data_to"]) = ("2020-01-01", "2030-01-01");
            else (form["repeat_every"], form["repeat_unit"], form["data_last"], form["data_unit"]) = ("1", "day", "1", "day");
            await (i % 2 == 0 ? first : second).Scenario(x =>
            {
                x.Post.FormData(form).ToUrl("/v2/reports/schedules");
                x.WithBearerToken(token);
                x.StatusCodeShouldBe(201);
            });
        }
        // A daily schedule whose last three due times passed while nothing ran (its next run is the oldest of them).
        var missedFrom = DateTimeOffset.UtcNow.AddDays(-3).AddMinutes(1);
        await db.ExecuteAsync(
            """
            insert into reports.schedules (merchant_id, name, type, kind, first_run_at, repeat_every, repeat_unit, data_last, data_unit, next_run_at, created_at, updated_at)
            values (@merchantId, 'Missed', 'subscriptions', 'recurring', @missedFrom, 1, 'day', 1, 'day', @missedFrom, @missedFrom, @missedFrom)
            """, new { merchantId = merchant.Id, missedFrom });

        const int expected = 12 + 3;
        var until = DateTime.UtcNow.AddSeconds(90);
        while (await db.ExecuteScalarAsync<long>("select count(*) from reports.reports where status = 'ready'") < expected)
        {
            Assert.True(DateTime.UtcNow < until, "the scheduled reports were not all ready within 90 s");
            await Task.Delay(250);
        }
        // Both instances tick at least once more: nothing is queued again.
        await Task.Delay(TimeSpan.FromSeconds(12));

        var schedules = (await db.QueryAsync<ScheduleRuns>(
            """
            select s.id, s.kind, s.runs, count(r.id) as reports, count(r.id) filter (where r.status = 'ready') as ready, count(distinct r.due_at) as distinct
            from reports.schedules s left join reports.reports r on r.schedule_id = s.id
            group by s.id order by s.id
            """)).ToList();
        Assert.Equal(13, schedules.Count);
        foreach (var s in schedules)
        {
            var runs = s.Id == schedules[^1].Id ? 3 : 1;
            Assert.Equal((runs, (long)runs, (long)runs, (long)runs), (s.Runs, s.Reports, s.Ready, s.Distinct));
        }
        Assert.Equal(3, await db.ExecuteScalarAsync<long>(
            "select count(*) from reports.reports where name like 'Missed, %' and due_at > now() - interval '3 days' and due_at < now()"));
        // One generation each: one report.ready per report, naming it.
        var events = (await db.QueryAsync<string>("select payload::text from kernel.outbox where type = 'report.ready'"))
            .Select(p => JsonDocument.Parse(p).RootElement.GetProperty("report_id").GetInt64()).ToList();
        Assert.Equal(expected, events.Count);
        Assert.Equal(expected, events.Distinct().Count());
        // The one-time schedules are finished; the recurring ones wait for tomorrow.
        Assert.Equal(6, await db.ExecuteScalarAsync<long>("select count(*) from reports.schedules where kind = 'once' and next_run_at is null"));
        Assert.Equal(7, await db.ExecuteScalarAsync<long>("select count(*) from reports.schedules where kind = 'recurring' and next_run_at > now()"));
    }
}
