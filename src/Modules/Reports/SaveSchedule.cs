using System.Security.Claims;
using System.Text.Json;
using Dapper;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Http;
using Npgsql;

namespace Gatehouse.Reports;

/// <summary>
/// POST /v2/reports/schedules and PATCH /v2/reports/schedules/{id} (merchant), the admin's Schedule report form and
/// its edit. kind once: run_at ("Run export on"), data_from and data_to ("Include data for"). kind recurring: run_at
/// ("Generate first report on"), repeat_every and repeat_unit (day|week|month: "Repeat"), data_last and data_unit
/// (the data of the last N days|weeks|months before each run: "Include data for"), ends_at ("Scheduled end date":
/// no run at or after it; a date takes in the whole day; none: no end). Plus the report's type, status, record_types and columns. Fields of the other kind are ignored.
/// A patch changes the fields it sends; the next run is worked out again from the new timing.
/// </summary>
public static class SaveSchedule
{
    public sealed record Request(
        string? Name, string? Type, string? Kind, string? RunAt, int? RepeatEvery, string? RepeatUnit, string? DataFrom, string? DataTo,
        int? DataLast, string? DataUnit, string? EndsAt, string? Status, JsonElement? RecordTypes, JsonElement? Columns);

    private static readonly string[] Units = ["day", "week", "month"];

    /// <summary>A schedule checked and ready to store.</summary>
    public sealed record Checked(string Name, ReportOptions Options, string Kind, DateTimeOffset RunAt, int? RepeatEvery, string? RepeatUnit,
        DateTimeOffset? DataFrom, DateTimeOffset? DataTo, int? DataLast, string? DataUnit, DateTimeOffset? EndsAt)
    {
        public RunSchedules.Timing Timing => new(Kind, RunAt, RepeatEvery, RepeatUnit, EndsAt);
    }

    /// <summary>Checks a schedule; a run_at in the past is refused unless it is the one already stored (<paramref name="storedRunAt"/>).</summary>
    public static Checked Check(Request request, DateTimeOffset now, DateTimeOffset? storedRunAt = null)
    {
        var errors = new FieldErrors();
        var name = ReportInput.Name(errors, request.Name, required: true);
        var options = ReportInput.Options(errors, request.Type, request.Status, request.RecordTypes, request.Columns);
        var kind = request.Kind?.Trim().ToLowerInvariant();
        if (kind is not ("once" or "recurring")) errors.Add("kind", "must be once or recurring");
        var runAt = ReportInput.Time(errors, "run_at", request.RunAt);
        if (string.IsNullOrWhiteSpace(request.RunAt))
            errors.Add("run_at", kind == "recurring" ? "is required: when the first report is generated (UTC)" : "is required: when the report is generated (UTC)");
        // A minute's grace: a form filled in for "now" reaches the server a little later.
        else if (runAt is { } at && at != storedRunAt && at < now.AddMinutes(-1)) errors.Add("run_at", "must be in the future");

        DateTimeOffset? dataFrom = null, dataTo = null, endsAt = null;
        int? repeatEvery = null, dataLast = null;
        string? repeatUnit = null, dataUnit = null;
        if (kind == "once")
        {
            dataFrom = ReportInput.Time(errors, "data_from", request.DataFrom);
            dataTo = ReportInput.Time(errors, "data_to", request.DataTo, endOfRange: true);
            if (string.IsNullOrWhiteSpace(request.DataFrom)) errors.Add("data_from", "is required: the start of the data the report includes");
            if (string.IsNullOrWhiteSpace(request.DataTo)) errors.Add("data_to", "is required: the end of the data the report includes");
            if (dataFrom is not null && dataTo is not null && dataTo <= dataFrom) errors.Add("data_to", "must be after data_from");
        }
        else if (kind == "recurring")
        {
            repeatEvery = request.RepeatEvery;
            repeatUnit = request.RepeatUnit?.Trim().ToLowerInvariant();
            dataLast = request.DataLast;
            dataUnit = request.DataUnit?.Trim().ToLowerInvariant();
            if (repeatEvery is null) errors.Add("repeat_every", "is required: a number from 1 to 366");
            else if (repeatEvery is < 1 or > 366) errors.Add("repeat_every", "must be a number from 1 to 366");
            if (!Units.Contains(repeatUnit)) errors.Add("repeat_unit", "must be day, week or month");
            if (dataLast is null) errors.Add("data_last", "is required: how many days, weeks or months of data each report includes (1 to 366)");
            else if (dataLast is < 1 or > 366) errors.Add("data_last", "must be a number from 1 to 366");
            if (!Units.Contains(dataUnit)) errors.Add("data_unit", "must be day, week or month");
            endsAt = ReportInput.Time(errors, "ends_at", request.EndsAt, endOfRange: true);
            if (endsAt is not null && runAt is not null && endsAt <= runAt) errors.Add("ends_at", "must be after the first report");
        }
        errors.ThrowIfAny();
        return new Checked(name!, options!, kind!, runAt!.Value, repeatEvery, repeatUnit, dataFrom, dataTo, dataLast, dataUnit, endsAt);
    }

    public static async Task<ScheduleView> Create(NpgsqlConnection connection, long merchantId, Checked schedule, DateTimeOffset now)
    {
        var id = await connection.ExecuteScalarAsync<long>(
            """
            insert into reports.schedules (merchant_id, name, type, kind, first_run_at, repeat_every, repeat_unit, data_from, data_to, data_last,
                                           data_unit, ends_at, access_status, record_types, columns, next_run_at, created_at, updated_at)
            values (@merchantId, @name, @type, @kind, @runAt, @repeatEvery, @repeatUnit, @dataFrom, @dataTo, @dataLast,
                    @dataUnit, @endsAt, @accessStatus, @recordTypes, @columns, @nextRunAt, @now, @now)
            returning id
            """, Parameters(merchantId, 0, schedule, schedule.RunAt, now));
        return (await ScheduleView.One(connection, merchantId, id))!;
    }

    /// <summary>A PATCH's body: the fields it sends change, the others stay.</summary>
    public static Task<ScheduleView> Update(NpgsqlConnection connection, long merchantId, long id, RequestBody body, DateTimeOffset now) =>
        Update(connection, merchantId, id, body.As<Request>(), body.Fields.Select(f => f.Key).ToHashSet(), now);

    /// <summary>
    /// Applies a patch (the fields named in <paramref name="sent"/>; the admin's edit form sends those it changed) under the
    /// schedule's row lock (so a run being queued right now is not lost or doubled): the next run is the first due time of
    /// the new timing that is still to come.
    /// </summary>
    public static async Task<ScheduleView> Update(NpgsqlConnection connection, long merchantId, long id, Request patch, IReadOnlySet<string> sent,
        DateTimeOffset now)
    {
        await using var transaction = await connection.BeginTransactionAsync();
        var stored = await connection.QuerySingleOrDefaultAsync<ScheduleView.Row>(
            $"{ScheduleView.Select} where id = @id and merchant_id = @merchantId for update", new { id, merchantId }, transaction)
            ?? throw ApiException.NotFound("Schedule not found");
        string? Keep(string field, string? value, string? old) => sent.Contains(field) ? value : old;
        int? KeepInt(string field, int? value, int? old) => sent.Contains(field) ? value : old;
        string? Time(DateTimeOffset? t) => t?.ToString("O");
        var merged = new Request(
            Keep("name", patch.Name, stored.Name), Keep("type", patch.Type, stored.Type), Keep("kind", patch.Kind, stored.Kind),
            Keep("run_at", patch.RunAt, Time(stored.FirstRunAt)), KeepInt("repeat_every", patch.RepeatEvery, stored.RepeatEvery),
            Keep("repeat_unit", patch.RepeatUnit, stored.RepeatUnit), Keep("data_from", patch.DataFrom, Time(stored.DataFrom)),
            // A stored end of range is an instant already; read back as a date and time it is not moved a day on.
            Keep("data_to", patch.DataTo, Time(stored.DataTo)), KeepInt("data_last", patch.DataLast, stored.DataLast),
            Keep("data_unit", patch.DataUnit, stored.DataUnit), Keep("ends_at", patch.EndsAt, Time(stored.EndsAt)),
            Keep("status", patch.Status, stored.AccessStatus),
            sent.Contains("record_types") ? patch.RecordTypes : JsonSerializer.SerializeToElement(stored.RecordTypes),
            sent.Contains("columns") ? patch.Columns : JsonSerializer.SerializeToElement(stored.Columns));
        var schedule = Check(merged, now, stored.FirstRunAt);
        // Timing unchanged: the next run stays (a run due this very moment is not skipped); changed: the first due time still to come.
        var nextRunAt = schedule.Timing == new RunSchedules.Timing(stored.Kind, stored.FirstRunAt, stored.RepeatEvery, stored.RepeatUnit, stored.EndsAt)
            ? stored.NextRunAt
            : RunSchedules.FirstDue(schedule.Timing, schedule.RunAt > now ? schedule.RunAt : now);
        await connection.ExecuteAsync(
            """
            update reports.schedules
            set name = @name, type = @type, kind = @kind, first_run_at = @runAt, repeat_every = @repeatEvery, repeat_unit = @repeatUnit,
                data_from = @dataFrom, data_to = @dataTo, data_last = @dataLast, data_unit = @dataUnit, ends_at = @endsAt,
                access_status = @accessStatus, record_types = @recordTypes, columns = @columns, next_run_at = @nextRunAt, updated_at = @now
            where id = @id and merchant_id = @merchantId
            """, Parameters(merchantId, id, schedule, nextRunAt, now), transaction);
        await transaction.CommitAsync();
        return (await ScheduleView.One(connection, merchantId, id))!;
    }

    private static object Parameters(long merchantId, long id, Checked s, DateTimeOffset? nextRunAt, DateTimeOffset now) => new
    {
        merchantId, id, name = s.Name, type = s.Options.Type.Key, kind = s.Kind, runAt = s.RunAt, repeatEvery = s.RepeatEvery,
        repeatUnit = s.RepeatUnit, dataFrom = s.DataFrom, dataTo = s.DataTo, dataLast = s.DataLast, dataUnit = s.DataUnit, endsAt = s.EndsAt,
        accessStatus = s.Options.AccessStatus, recordTypes = s.Options.RecordTypes.ToArray(), columns = s.Options.Columns.ToArray(), nextRunAt, now,
    };

    public static async Task<IResult> HandleCreate(RequestBody body, ClaimsPrincipal user, NpgsqlDataSource db, TimeProvider clock)
    {
        var now = clock.GetUtcNow();
        var schedule = Check(body.As<Request>(), now);
        await using var connection = await db.OpenConnectionAsync();
        var view = await Create(connection, user.MerchantId(), schedule, now);
        return Results.Created($"/v2/reports/schedules/{view.Id}", view);
    }

    public static async Task<IResult> HandleUpdate(long id, RequestBody body, ClaimsPrincipal user, NpgsqlDataSource db, TimeProvider clock)
    {
        await using var connection = await db.OpenConnectionAsync();
        return Results.Ok(await Update(connection, user.MerchantId(), id, body, clock.GetUtcNow()));
    }
}
