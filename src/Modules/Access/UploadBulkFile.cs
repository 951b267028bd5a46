using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Dapper;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Http;
using Npgsql;

namespace Gatehouse.Access;

/// <summary>
/// Bulk grant, revoke or extend from a CSV with the spec's columns user_id, item_id, starts_at, expires_at (UTC).
/// The upload is checked (size, text, comma-separated, exact columns) and queued; <see cref="RunBulkJobs"/> does the work.
/// The same file cannot be applied twice: a re-upload of a file that was queued or applied is a 409 naming that job.
/// POST /v2/access/bulk (multipart: file, action, dry_run, apply_valid_rows); GET /v2/access/bulk/template?action=.
/// </summary>
public static class UploadBulkFile
{
    public const string Header = "user_id,item_id,starts_at,expires_at";
    public static readonly string[] Actions = ["grant", "revoke", "extend"];
    public const int MaxBytes = 20 * 1024 * 1024;

    public sealed record Upload(string? Action, string FileName, byte[] Content, bool DryRun, bool ApplyValidRows);

    /// <summary>The template of an action: the columns and one row of dummy data.</summary>
    public static string Template(string action) => action switch
    {
        "grant" => $"{Header}\n1001,2001,2026-01-01T00:00:00Z,2026-12-31T23:59:59Z\n",
        "extend" => $"{Header}\n1001,2001,,2027-06-30T23:59:59Z\n",
        "revoke" => $"{Header}\n1001,2001,,\n",
        _ => throw ApiException.Invalid("action", "must be grant, revoke or extend"),
    };

    public static IResult HandleTemplate(string? action) =>
        Results.File(Encoding.UTF8.GetBytes(Template(action ?? "")), "text/csv", $"gatehouse-bulk-{action}-template.csv");

    public static async Task<BulkJobView> Submit(NpgsqlDataSource db, TimeProvider clock, IServiceScopeFactory scopes, long merchantId, string actor, Upload upload)
    {
        if (upload.Action is null || !Actions.Contains(upload.Action)) throw ApiException.Invalid("action", "must be grant, revoke or extend");
        if (upload.Content.Length > MaxBytes) throw new ApiException(413, "The file is larger than 20 MB; split it into smaller files");
        CheckHeader(upload.Content);

        var sha = SHA256.HashData(upload.Content);
        await using var connection = await db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        // One upload of a given file at a time per merchant and action, so two clicks cannot both pass the check below.
        await connection.ExecuteAsync("select pg_advisory_xact_lock(hashtextextended(@key, 0))",
            new { key = $"bulk:{merchantId}:{upload.Action}:{Convert.ToHexString(sha)}" }, transaction);
        if (!upload.DryRun)
        {
            var earlier = await connection.ExecuteScalarAsync<long?>(
                """
                select id from access.bulk_jobs
                where merchant_id = @merchantId and action = @action and file_sha256 = @sha and not dry_run
                  and status in ('queued', 'loading', 'validating', 'applying', 'completed')
                order by id limit 1
                """, new { merchantId, action = upload.Action, sha }, transaction);
            if (earlier is { } id)
                throw ApiException.Conflict($"This file was already uploaded as bulk job {id}; it is not applied twice");
        }
        var jobId = await connection.ExecuteScalarAsync<long>(
            """
            insert into access.bulk_jobs (merchant_id, action, status, dry_run, apply_valid_rows, file_name, file_sha256, file, actor, created_at)
            values (@merchantId, @action, 'queued', @dryRun, @applyValidRows, @fileName, @sha, @content, @actor, @now)
            returning id
            """,
            new { merchantId, action = upload.Action, upload.DryRun, upload.ApplyValidRows, fileName = Path.GetFileName(upload.FileName),
                  sha, content = upload.Content, actor, now = clock.GetUtcNow() }, transaction);
        await transaction.CommitAsync();
        var queued = (await BulkJobView.One(connection, merchantId, jobId))!;
        RunBulkJobs.StartNow(scopes);
        return queued;
    }

    /// <summary>Refuses what is not this CSV before anything is stored, with a message that says how to fix it.</summary>
    internal static void CheckHeader(byte[] content)
    {
        var start = content.AsSpan().StartsWith(Encoding.UTF8.Preamble) ? 3 : 0;
        var firstLineEnd = content.AsSpan(start).IndexOfAny((byte)'\n', (byte)'\r');
        var firstLine = content.AsSpan(start, firstLineEnd < 0 ? Math.Min(content.Length - start, 4096) : Math.Min(firstLineEnd, 4096));
        if (content.Length - start == 0) throw ApiException.BadRequest("The file is empty");
        string header;
        try
        {
            header = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(firstLine);
        }
        catch (DecoderFallbackException)
        {
            throw ApiException.BadRequest("The file is not a UTF-8 CSV text file");
        }
        if (header.Contains('\0')) throw ApiException.BadRequest("The file is not a CSV text file");
        var columns = header.Split(',').Select(c => c.Trim().Trim('"').ToLowerInvariant()).ToArray();
        if (string.Join(',', columns) == Header) return;
        if (!header.Contains(',') && (header.Contains(';') || header.Contains('\t')))
            throw ApiException.BadRequest($"The file must be comma-separated; this one uses {(header.Contains(';') ? "semicolons" : "tabs")}");
        var found = header.Length > 100 ? header[..100] + "…" : header;
        throw ApiException.BadRequest($"The first line must be the columns {Header} (found: {found})");
    }

    public static async Task<IResult> Handle(RequestBody body, ClaimsPrincipal user, NpgsqlDataSource db, TimeProvider clock, IServiceScopeFactory scopes)
    {
        var file = body.Files.GetFile("file") ?? throw ApiException.Invalid("file", "attach the CSV file as 'file' (multipart/form-data)");
        if (file.Length > MaxBytes) throw new ApiException(413, "The file is larger than 20 MB; split it into smaller files");
        using var buffer = new MemoryStream((int)file.Length);
        await file.CopyToAsync(buffer);
        var options = body.As<Options>();
        var job = await Submit(db, clock, scopes, user.MerchantId(), "merchant:api",
            new Upload(options.Action, file.FileName, buffer.ToArray(), options.DryRun ?? false, options.ApplyValidRows ?? false));
        return Results.Json(job, statusCode: StatusCodes.Status202Accepted);
    }

    internal sealed record Options(string? Action, bool? DryRun, bool? ApplyValidRows);
}
