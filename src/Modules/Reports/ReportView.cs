using System.Security.Claims;
using Dapper;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Npgsql;

namespace Gatehouse.Reports;

/// <summary>
/// A report as the API and the admin show it: what it holds, its progress while it is generated, its file's size and
/// download link once ready, and when it will be deleted. GET /v2/reports (type, schedule_id, page, limit),
/// GET /v2/reports/{id}, DELETE /v2/reports/{id}.
/// </summary>
public sealed record ReportView(
    long Id, string Name, string Type, string Status, int Progress, long? RowsTotal, long RowsWritten, long SizeBytes,
    DateTimeOffset PeriodFrom, DateTimeOffset PeriodTo, string AccessStatus, IReadOnlyList<string> RecordTypes, IReadOnlyList<string> Columns,
    long? ScheduleId, DateTimeOffset? DueAt, string? Message, string RequestedBy, DateTimeOffset CreatedAt, DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt, DateTimeOffset ExpiresAt, string? DownloadUrl)
{
    /// <summary>How long a report is kept: the guide's 10 days.</summary>
    public static readonly TimeSpan KeptFor = TimeSpan.FromDays(10);

    private const string Select = """
        select id, name, type, status, rows_total, rows_written, size_bytes, period_from, period_to, access_status, array_to_string(record_types, ',') as record_types, array_to_string(columns, ',') as columns,
               schedule_id, due_at, message, requested_by, created_at, started_at, finished_at, expires_at
        from reports.reports
        """;

    private sealed record Row(long Id, string Name, string Type, string Status, long? RowsTotal, long RowsWritten, long SizeBytes,
        DateTimeOffset PeriodFrom, DateTimeOffset PeriodTo, string AccessStatus, string RecordTypes, string Columns, long? ScheduleId,
        DateTimeOffset? DueAt, string? Message, string RequestedBy, DateTimeOffset CreatedAt, DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt,
        DateTimeOffset ExpiresAt);

    private static ReportView View(Row r) => new(r.Id, r.Name, r.Type, r.Status, Percent(r), r.RowsTotal, r.RowsWritten, r.SizeBytes,
        r.PeriodFrom, r.PeriodTo, r.AccessStatus, ReportInput.Split(r.RecordTypes), ReportInput.Split(r.Columns), r.ScheduleId, r.DueAt, r.Message, r.RequestedBy, r.CreatedAt,
        r.StartedAt, r.FinishedAt, r.ExpiresAt, r.Status == "ready" ? $"/v2/reports/{r.Id}/download" : null);

    private static int Percent(Row r) => r.Status switch
    {
        "ready" => 100,
        "running" when r.RowsTotal is > 0 => (int)Math.Min(99, 100 * r.RowsWritten / r.RowsTotal.Value),
        _ => 0,
    };

    public static async Task<ReportView?> One(NpgsqlConnection connection, long merchantId, long id, NpgsqlTransaction? transaction = null) =>
        await connection.QuerySingleOrDefaultAsync<Row>(Select + " where id = @id and merchant_id = @merchantId", new { id, merchantId }, transaction)
            is { } row ? View(row) : null;

    /// <summary>
    /// The merchant's reports, newest first: of some types (none: all), of one schedule, only the scheduled ones (or only
    /// the others), only those whose schedule still exists (or only the others: the admin lists a deleted schedule's
    /// reports beside those made on demand).
    /// </summary>
    public static async Task<OffsetPage<ReportView>> List(NpgsqlConnection connection, long merchantId, IReadOnlyList<string> types, long? scheduleId,
        bool? scheduled, PageRequest page, bool? ofSchedule = null)
    {
        var where = "where merchant_id = @merchantId"
                    + (types.Count > 0 ? " and type = any(@types)" : "")
                    + (scheduleId is not null ? " and schedule_id = @scheduleId" : "")
                    + (scheduled switch { true => " and due_at is not null", false => " and due_at is null", null => "" })
                    + (ofSchedule switch { true => " and schedule_id is not null", false => " and schedule_id is null", null => "" });
        var parameters = new { merchantId, types = types.ToArray(), scheduleId, limit = page.Size, offset = page.Offset };
        var total = await connection.ExecuteScalarAsync<long>($"select count(*) from reports.reports {where}", parameters);
        var rows = await connection.QueryAsync<Row>($"{Select} {where} order by id desc limit @limit offset @offset", parameters);
        return OffsetPage<ReportView>.Of(rows.Select(View).ToList(), total, page);
    }

    public static async Task<IResult> HandleOne(long id, ClaimsPrincipal user, NpgsqlDataSource db)
    {
        await using var connection = await db.OpenConnectionAsync();
        return Results.Ok(await One(connection, user.MerchantId(), id) ?? throw ApiException.NotFound("Report not found"));
    }

    public static async Task<IResult> HandleList(ClaimsPrincipal user, NpgsqlDataSource db, string? type, [FromQuery(Name = "schedule_id")] long? scheduleId, bool? scheduled,
        int? page, int? limit)
    {
        var types = ReportInput.TypeFilter(type);
        await using var connection = await db.OpenConnectionAsync();
        return Results.Ok(await List(connection, user.MerchantId(), types, scheduleId, scheduled, PageRequest.From(page, limit)));
    }

    /// <summary>Deletes a report and its file; one still being generated stops being written (its worker finds it gone).</summary>
    public static async Task<bool> Delete(NpgsqlConnection connection, long merchantId, long id) =>
        await connection.ExecuteAsync("delete from reports.reports where id = @id and merchant_id = @merchantId", new { id, merchantId }) > 0;

    public static async Task<IResult> HandleDelete(long id, ClaimsPrincipal user, NpgsqlDataSource db)
    {
        await using var connection = await db.OpenConnectionAsync();
        return await Delete(connection, user.MerchantId(), id) ? Results.NoContent() : throw ApiException.NotFound("Report not found");
    }
}
