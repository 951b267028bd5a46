using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using Dapper;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Gatehouse.Reports;

/// <summary>
/// POST /v2/reports (merchant), the admin's "Generate report": queues a report of the records created from
/// <c>from</c> to <c>to</c> (UTC dates, a date as <c>to</c> taking in the whole day, or date-times) and starts
/// generating it at once in the background. Answers 202 with the report; its status and progress are at
/// GET /v2/reports/{id}, and its file at its download_url once ready.
/// </summary>
public static class RequestReport
{
    public sealed record Request(string? Name, string? Type, string? From, string? To, string? Status, JsonElement? RecordTypes, JsonElement? Columns);

    /// <summary>A report checked and ready to queue.</summary>
    public sealed record Checked(string Name, ReportOptions Options, DateTimeOffset From, DateTimeOffset To);

    public static Checked Check(Request request)
    {
        var errors = new FieldErrors();
        var name = ReportInput.Name(errors, request.Name, required: false);
        var options = ReportInput.Options(errors, request.Type, request.Status, request.RecordTypes, request.Columns);
        var from = ReportInput.Time(errors, "from", request.From);
        var to = ReportInput.Time(errors, "to", request.To, endOfRange: true);
        if (string.IsNullOrWhiteSpace(request.From)) errors.Add("from", "is required: the start of the period (records created from then on)");
        if (string.IsNullOrWhiteSpace(request.To)) errors.Add("to", "is required: the end of the period");
        if (from is not null && to is not null && to <= from) errors.Add("to", "must be after from");
        errors.ThrowIfAny();
        return new Checked(name ?? DefaultName(options!.Type, from!.Value, to!.Value), options!, from!.Value, to!.Value);
    }

    /// <summary>"Access report, 2026-11-01 to 2026-11-30": the period as the merchant chose it (an end of range shown as its last day).</summary>
    public static string DefaultName(ReportType type, DateTimeOffset from, DateTimeOffset to)
    {
        static string Day(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var last = to.UtcDateTime.TimeOfDay == TimeSpan.Zero ? to.AddDays(-1) : to;
        return $"{type.Title} report, {Day(from)} to {Day(last)}";
    }

    /// <summary>Queues the report; with <paramref name="transaction"/>, as part of the caller's (a schedule's run).</summary>
    public static async Task<long> Queue(NpgsqlConnection connection, NpgsqlTransaction? transaction, long merchantId, Checked report,
        string requestedBy, DateTimeOffset now, long? scheduleId = null, DateTimeOffset? dueAt = null) =>
        await connection.ExecuteScalarAsync<long>(
            """
            insert into reports.reports (merchant_id, schedule_id, due_at, name, type, period_from, period_to, access_status, record_types, columns,
                                         status, requested_by, created_at, expires_at)
            values (@merchantId, @scheduleId, @dueAt, @name, @type, @from, @to, @accessStatus, @recordTypes, @columns,
                    'queued', @requestedBy, @now, @expiresAt)
            returning id
            """,
            new
            {
                merchantId, scheduleId, dueAt, name = report.Name, type = report.Options.Type.Key, from = report.From, to = report.To,
                accessStatus = report.Options.AccessStatus, recordTypes = report.Options.RecordTypes.ToArray(),
                // Stored as the list of columns the file has, so the report says what it holds whatever the type gains later.
                columns = report.Options.Type.Chosen(report.Options.Columns.ToList()).Select(c => c.Key).ToArray(),
                requestedBy, now, expiresAt = now + ReportView.KeptFor,
            }, transaction);

    public static async Task<IResult> Handle(RequestBody body, ClaimsPrincipal user, NpgsqlDataSource db, TimeProvider clock, IServiceScopeFactory scopes)
    {
        var report = Check(body.As<Request>());
        var merchantId = user.MerchantId();
        await using var connection = await db.OpenConnectionAsync();
        var id = await Queue(connection, null, merchantId, report, "merchant:api", clock.GetUtcNow());
        // Read before the worker starts: the answer is the report as accepted (queued), not whatever state the worker has reached.
        var view = await ReportView.One(connection, merchantId, id);
        RunReports.StartNow(scopes);
        return Results.Accepted($"/v2/reports/{id}", view);
    }
}
