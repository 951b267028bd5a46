using System.Globalization;
using System.Security.Claims;
using Dapper;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Http;
using Npgsql;

namespace Gatehouse.Reports;

/// <summary>
/// A report schedule as the API and Scheduled reports show it. One-time: run_at, data_from to data_to. Recurring:
/// run_at (the first report), then every repeat_every repeat_unit, each run before ends_at (a date: to the end of that day; none: no end), each report with
/// the data_last data_unit before its run. next_run_at is null once no run is left. All times UTC.
/// GET /v2/reports/schedules, GET /v2/reports/schedules/{id}, DELETE /v2/reports/schedules/{id}.
/// </summary>
public sealed record ScheduleView(
    long Id, string Name, string Type, string Kind, DateTimeOffset RunAt, int? RepeatEvery, string? RepeatUnit, DateTimeOffset? DataFrom,
    DateTimeOffset? DataTo, int? DataLast, string? DataUnit, DateTimeOffset? EndsAt, string AccessStatus, IReadOnlyList<string> RecordTypes,
    IReadOnlyList<string> Columns, DateTimeOffset? NextRunAt, int Runs, string Description, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    internal const string Select = """
        select id, name, type, kind, first_run_at, repeat_every, repeat_unit, data_from, data_to, data_last, data_unit, ends_at, access_status,
               array_to_string(record_types, ',') as record_types, array_to_string(columns, ',') as columns, next_run_at, runs, created_at, updated_at
        from reports.schedules
        """;

    internal sealed record Row(long Id, string Name, string Type, string Kind, DateTimeOffset FirstRunAt, int? RepeatEvery, string? RepeatUnit,
        DateTimeOffset? DataFrom, DateTimeOffset? DataTo, int? DataLast, string? DataUnit, DateTimeOffset? EndsAt, string AccessStatus,
        string RecordTypes, string Columns, DateTimeOffset? NextRunAt, int Runs, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

    internal static ScheduleView View(Row r) => new(r.Id, r.Name, r.Type, r.Kind, r.FirstRunAt, r.RepeatEvery, r.RepeatUnit, r.DataFrom, r.DataTo,
        r.DataLast, r.DataUnit, r.EndsAt, r.AccessStatus, ReportInput.Split(r.RecordTypes), ReportInput.Split(r.Columns), r.NextRunAt, r.Runs, Describe(r), r.CreatedAt, r.UpdatedAt);

    public static string Utc(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) + " UTC";

    private static string Units(int n, string unit) => n == 1 ? unit : $"{n} {unit}s";

    /// <summary>"Every week from 2026-12-01 06:00 UTC, the last run before 2027-06-01 00:00 UTC, with the data of the last week before each run".</summary>
    private static string Describe(Row r) => r.Kind == "once"
        ? $"Once on {Utc(r.FirstRunAt)}, with the data from {Utc(r.DataFrom!.Value)} to {Utc(r.DataTo!.Value)}"
        : $"Every {Units(r.RepeatEvery!.Value, r.RepeatUnit!)} from {Utc(r.FirstRunAt)}{(r.EndsAt is { } end ? $", the last run before {Utc(end)}" : "")}, "
          + $"with the data of the {(r.DataLast == 1 ? "last " + r.DataUnit : $"last {r.DataLast} {r.DataUnit}s")} before each run";

    public static async Task<ScheduleView?> One(NpgsqlConnection connection, long merchantId, long id, NpgsqlTransaction? transaction = null) =>
        await connection.QuerySingleOrDefaultAsync<Row>($"{Select} where id = @id and merchant_id = @merchantId", new { id, merchantId }, transaction)
            is { } row ? View(row) : null;

    public static async Task<OffsetPage<ScheduleView>> List(NpgsqlConnection connection, long merchantId, IReadOnlyList<string> types, PageRequest page)
    {
        var where = "where merchant_id = @merchantId" + (types.Count > 0 ? " and type = any(@types)" : "");
        var parameters = new { merchantId, types = types.ToArray(), limit = page.Size, offset = page.Offset };
        var total = await connection.ExecuteScalarAsync<long>($"select count(*) from reports.schedules {where}", parameters);
        var rows = await connection.QueryAsync<Row>($"{Select} {where} order by id desc limit @limit offset @offset", parameters);
        return OffsetPage<ScheduleView>.Of(rows.Select(View).ToList(), total, page);
    }

    public static async Task<IResult> HandleOne(long id, ClaimsPrincipal user, NpgsqlDataSource db)
    {
        await using var connection = await db.OpenConnectionAsync();
        return Results.Ok(await One(connection, user.MerchantId(), id) ?? throw ApiException.NotFound("Schedule not found"));
    }

    public static async Task<IResult> HandleList(ClaimsPrincipal user, NpgsqlDataSource db, string? type, int? page, int? limit)
    {
        var types = ReportInput.TypeFilter(type);
        await using var connection = await db.OpenConnectionAsync();
        return Results.Ok(await List(connection, user.MerchantId(), types, PageRequest.From(page, limit)));
    }

    /// <summary>Deletes a schedule; the reports it generated stay until they expire.</summary>
    public static async Task<bool> Delete(NpgsqlConnection connection, long merchantId, long id) =>
        await connection.ExecuteAsync("delete from reports.schedules where id = @id and merchant_id = @merchantId", new { id, merchantId }) > 0;

    public static async Task<IResult> HandleDelete(long id, ClaimsPrincipal user, NpgsqlDataSource db)
    {
        await using var connection = await db.OpenConnectionAsync();
        return await Delete(connection, user.MerchantId(), id) ? Results.NoContent() : throw ApiException.NotFound("Schedule not found");
    }
}
