using System.Globalization;
using System.Security.Claims;
using System.Text;
using Dapper;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Http;
using Npgsql;

namespace Gatehouse.Reports;

/// <summary>
/// GET /v2/reports/{id}/download (merchant; the admin's download link goes through the same code): the report's CSV,
/// streamed from the database a chunk at a time, so any instance serves it and a large file takes no memory.
/// A report not yet ready is a 409; a deleted or expired one, or another merchant's, a 404.
/// </summary>
public static class DownloadReport
{
    public static async Task Write(NpgsqlConnection connection, long merchantId, long id, HttpResponse response, CancellationToken cancellation)
    {
        var report = await ReportView.One(connection, merchantId, id) ?? throw ApiException.NotFound("Report not found");
        if (report.Status != "ready")
            throw ApiException.Conflict(report.Status == "failed"
                ? "The report could not be generated; generate it again"
                : $"The report is not ready yet ({report.Progress}% done)");
        response.ContentType = "text/csv; charset=utf-8";
        response.ContentLength = report.SizeBytes;
        response.Headers.ContentDisposition = $"attachment; filename=\"{FileName(report)}\"";
        await using var command = new NpgsqlCommand("select data from reports.report_chunks where report_id = @id order by seq", connection);
        command.Parameters.AddWithValue("id", id);
        await using var reader = await command.ExecuteReaderAsync(System.Data.CommandBehavior.SequentialAccess, cancellation);
        while (await reader.ReadAsync(cancellation))
        {
            await using var chunk = await reader.GetStreamAsync(0, cancellation);
            await chunk.CopyToAsync(response.Body, cancellation);
        }
    }

    /// <summary>"payments-report-12-monthly-sales.csv": the type, the id, and the name in ASCII letters, digits and dashes.</summary>
    public static string FileName(ReportView report)
    {
        var slug = new StringBuilder();
        foreach (var c in report.Name.ToLowerInvariant())
        {
            if (c is >= 'a' and <= 'z' or >= '0' and <= '9') slug.Append(c);
            else if (slug.Length > 0 && slug[^1] != '-') slug.Append('-');
            if (slug.Length >= 60) break;
        }
        var name = slug.ToString().Trim('-');
        return string.Create(CultureInfo.InvariantCulture, $"{report.Type}-report-{report.Id}{(name.Length > 0 ? "-" + name : "")}.csv");
    }

    public static async Task Handle(long id, ClaimsPrincipal user, NpgsqlDataSource db, HttpContext http)
    {
        await using var connection = await db.OpenConnectionAsync();
        await Write(connection, user.MerchantId(), id, http.Response, http.RequestAborted);
    }
}
