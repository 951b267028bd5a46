using Carter;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Reports;

public static class ReportsModule
{
    /// <summary>The report worker, the scheduler's run of due schedules, and retention; the pages link from Access and Transactions.</summary>
    public static WebApplicationBuilder AddReports(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<RunReports>();
        builder.Services.AddTransient<RunSchedules>();
        builder.Services.AddTransient<PruneReports>();
        return builder;
    }
}

/// <summary>Reports (access, payments, subscriptions), their downloads and schedules (merchant).</summary>
public sealed class ReportsRoutes : ICarterModule
{
    public sealed record ColumnInfo(string Key, string Label);

    public sealed record TypeInfo(string Type, string Title, IReadOnlyList<ColumnInfo> Columns, IReadOnlyList<string> ActiveRecordTypes,
        IReadOnlyList<string> InactiveRecordTypes);

    public void AddRoutes(IEndpointRouteBuilder app)
    {
        var reports = app.MapGroup("/v2/reports").WithTags("Reports").RequireAuthorization(Auth.Merchant);
        reports.MapGet("/types", () => ReportType.All.Select(t => new TypeInfo(t.Key, t.Title, t.Columns.Select(c => new ColumnInfo(c.Key, c.Label)).ToList(),
                t.Key == "access" ? ReportType.ActiveRecordTypes : [], t.Key == "access" ? ReportType.InactiveRecordTypes : [])).ToList())
            .WithSummary("The report types, their columns (in CSV order) and, for access reports, the record types of each status")
            .Produces<List<TypeInfo>>();
        reports.MapPost("", RequestReport.Handle)
            .WithSummary("Generate a report in the background: type (access|payments|subscriptions), from, to (records created within), status and record_types (access), columns (none: all)")
            .AcceptsBody<RequestReport.Request>().Produces<ReportView>(StatusCodes.Status202Accepted).Produces<ApiError>(400);
        reports.MapGet("", ReportView.HandleList)
            .WithSummary("The merchant's reports, newest first: type (one or several, comma-separated), schedule_id, scheduled (true|false), page, limit")
            .Produces<OffsetPage<ReportView>>().Produces<ApiError>(400);
        reports.MapGet("/{id:long}", ReportView.HandleOne).WithSummary("A report: its status, progress and, once ready, download_url")
            .Produces<ReportView>().Produces<ApiError>(404);
        reports.MapGet("/{id:long}/download", DownloadReport.Handle).WithSummary("The report's CSV file")
            .Produces(200, contentType: "text/csv").Produces<ApiError>(404).Produces<ApiError>(409);
        reports.MapDelete("/{id:long}", ReportView.HandleDelete).WithSummary("Delete a report and its file").Produces(204).Produces<ApiError>(404);

        var schedules = app.MapGroup("/v2/reports/schedules").WithTags("Report schedules").RequireAuthorization(Auth.Merchant);
        schedules.MapPost("", SaveSchedule.HandleCreate)
            .WithSummary("Schedule a report: kind once (run_at, data_from, data_to) or recurring (run_at, repeat_every, repeat_unit, data_last, data_unit, ends_at); all times UTC")
            .AcceptsBody<SaveSchedule.Request>().Produces<ScheduleView>(StatusCodes.Status201Created).Produces<ApiError>(400);
        schedules.MapGet("", ScheduleView.HandleList).WithSummary("The merchant's schedules, newest first: type, page, limit")
            .Produces<OffsetPage<ScheduleView>>().Produces<ApiError>(400);
        schedules.MapGet("/{id:long}", ScheduleView.HandleOne).WithSummary("A schedule").Produces<ScheduleView>().Produces<ApiError>(404);
        schedules.MapPatch("/{id:long}", SaveSchedule.HandleUpdate).WithSummary("Change a schedule; the next run follows the new timing")
            .AcceptsBody<SaveSchedule.Request>().Produces<ScheduleView>().Produces<ApiError>(400).Produces<ApiError>(404);
        schedules.MapDelete("/{id:long}", ScheduleView.HandleDelete).WithSummary("Delete a schedule (its reports stay until they expire)")
            .Produces(204).Produces<ApiError>(404);
    }
}
