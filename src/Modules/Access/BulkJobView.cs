using System.Globalization;
using System.Security.Claims;
using CsvHelper;
using Dapper;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Http;
using Npgsql;

namespace Gatehouse.Access;

/// <summary>
/// A bulk job as the API and the Bulk actions tab show it, with its progress. GET /v2/access/bulk (list),
/// GET /v2/access/bulk/{id}, GET /v2/access/bulk/{id}/results (CSV: line, the row, outcome, reason). An outcome is
/// applied, skipped or error; a dry run's (or a rejected file's) good rows are valid.
/// </summary>
public sealed record BulkJobView(
    long Id, string Action, string Status, bool DryRun, bool ApplyValidRows, string FileName, int TotalRows, int LoadedRows,
    int AppliedRows, int SkippedRows, int ErrorRows, int Progress, string? Message, string Actor, long CreatedAt, long? FinishedAt)
{
    public static readonly string[] Finished = ["completed", "rejected", "failed"];

    private const string Select = """
        select id, action, status, dry_run, apply_valid_rows, file_name, total_rows, loaded_rows, applied_rows, skipped_rows,
               error_rows, message, actor, created_at, finished_at
        from access.bulk_jobs
        """;

    private sealed record Row(long Id, string Action, string Status, bool DryRun, bool ApplyValidRows, string FileName, int TotalRows,
        int LoadedRows, int AppliedRows, int SkippedRows, int ErrorRows, string? Message, string Actor, DateTimeOffset CreatedAt,
        DateTimeOffset? FinishedAt);

    private static BulkJobView View(Row r) => new(r.Id, r.Action, r.Status, r.DryRun, r.ApplyValidRows, r.FileName, r.TotalRows,
        r.LoadedRows, r.AppliedRows, r.SkippedRows, r.ErrorRows, Percent(r), r.Message, r.Actor, r.CreatedAt.ToUnixTimeSeconds(),
        r.FinishedAt?.ToUnixTimeSeconds());

    /// <summary>Loading is most of the work; validating and applying take the last fifth.</summary>
    private static int Percent(Row r) => r.Status switch
    {
        "queued" => 0,
        "loading" => r.TotalRows == 0 ? 0 : Math.Min(80, 80 * r.LoadedRows / Math.Max(1, r.TotalRows)),
        "validating" => 85,
        "applying" => 92,
        _ => 100,
    };

    public static async Task<BulkJobView?> One(NpgsqlConnection connection, long merchantId, long id) =>
        (await connection.QueryAsync<Row>(Select + " where id = @id and merchant_id = @merchantId", new { id, merchantId }))
        .Select(View).SingleOrDefault();

    public static async Task<OffsetPage<BulkJobView>> List(NpgsqlConnection connection, long merchantId, PageRequest page)
    {
        var total = await connection.ExecuteScalarAsync<long>("select count(*) from access.bulk_jobs where merchant_id = @merchantId", new { merchantId });
        var rows = await connection.QueryAsync<Row>(Select + " where merchant_id = @merchantId order by id desc limit @limit offset @offset",
            new { merchantId, limit = page.Size, offset = page.Offset });
        return OffsetPage<BulkJobView>.Of(rows.Select(View).ToList(), total, page);
    }

    public static async Task<IResult> HandleOne(long id, ClaimsPrincipal user, NpgsqlDataSource db)
    {
        await using var connection = await db.OpenConnectionAsync();
        return Results.Ok(await One(connection, user.MerchantId(), id) ?? throw ApiException.NotFound("Bulk job not found"));
    }

    public static async Task<IResult> HandleList(ClaimsPrincipal user, NpgsqlDataSource db, int? page, int? limit)
    {
        await using var connection = await db.OpenConnectionAsync();
        return Results.Ok(await List(connection, user.MerchantId(), PageRequest.From(page, limit)));
    }

    /// <summary>Streams the per-row results as CSV, however many rows: nothing is held in memory.</summary>
    public static async Task WriteResults(NpgsqlConnection connection, long jobId, Stream output, CancellationToken cancellation)
    {
        // Cells that a spreadsheet would run as formulas are escaped: the rows come from an uploaded file.
        await using var csv = CsvWriter.Create(output, new CsvWriterOptions { Injection = CsvInjection.Escape, NewLine = "\n" }, true);
        csv.WriteRecord(["line", "user_id", "item_id", "starts_at", "expires_at", "outcome", "reason"]);
        await using var command = new NpgsqlCommand(
            """
            select r.line, r.raw,
                   coalesce(r.outcome, case when j.dry_run or j.status = 'rejected' then 'valid'
                                            when j.status = 'completed' and j.action = 'grant' then 'applied'
                                            else 'pending' end),
                   coalesce(r.reason, '')
            from access.bulk_rows r join access.bulk_jobs j on j.id = r.job_id
            where r.job_id = @jobId order by r.line
            """, connection);
        command.Parameters.AddWithValue("jobId", jobId);
        await using var reader = await command.ExecuteReaderAsync(cancellation);
        while (await reader.ReadAsync(cancellation))
        {
            csv.WriteField(reader.GetInt32(0).ToString(CultureInfo.InvariantCulture));
            var raw = reader.GetString(1).Split(',');
            for (var i = 0; i < 4; i++) csv.WriteField(i < raw.Length ? raw[i] : "");
            csv.WriteField(reader.GetString(2));
            csv.WriteField(reader.GetString(3));
            await csv.EndRecordAsync(cancellation);
        }
    }

    public static async Task HandleResults(long id, ClaimsPrincipal user, NpgsqlDataSource db, HttpContext http)
    {
        await using var connection = await db.OpenConnectionAsync();
        var job = await One(connection, user.MerchantId(), id) ?? throw ApiException.NotFound("Bulk job not found");
        http.Response.ContentType = "text/csv; charset=utf-8";
        http.Response.Headers.ContentDisposition = $"attachment; filename=\"bulk-{job.Id}-{job.Action}-results.csv\"";
        await WriteResults(connection, job.Id, http.Response.Body, http.RequestAborted);
    }
}
