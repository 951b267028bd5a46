using System.Globalization;
using System.Text;
using Coravel.Invocable;
using CsvHelper;
using Dapper;
using Gatehouse.Kernel;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;

namespace Gatehouse.Access;

/// <summary>
/// Runs queued bulk jobs. A job is claimed in the database (FOR UPDATE SKIP LOCKED), so with several instances
/// each job runs once; a job whose worker died (no heartbeat for 2 minutes) is claimed again and starts over.
/// The rows are COPYed into access.bulk_rows, checked with one set-based statement, and applied with one more,
/// which also writes the audit rows and the outbox events: all valid rows or none. Without "apply valid rows",
/// a file with any bad row applies nothing.
/// </summary>
public sealed class RunBulkJobs(NpgsqlDataSource db, TimeProvider clock, ILogger<RunBulkJobs> log) : IInvocable
{
    public static readonly TimeSpan StaleAfter = TimeSpan.FromMinutes(2);
    private const int ProgressEvery = 10_000;
    // A 100,000-row file is validated and applied in seconds; the default 30 s would cut a larger one off on a busy server.
    private const int StatementTimeout = 600;

    private sealed record Job(long Id, long MerchantId, string Action, bool DryRun, bool ApplyValidRows, byte[] File, string Actor);

    public async Task Invoke()
    {
        while (await Claim() is { } job)
        {
            try
            {
                await Run(job);
            }
            catch (Exception e)
            {
                log.LogError(e, "Bulk job {JobId} failed", job.Id);
                await using var connection = await db.OpenConnectionAsync();
                await connection.ExecuteAsync(
                    "update access.bulk_jobs set status = 'failed', message = 'The job failed unexpectedly; nothing was applied', finished_at = @now where id = @id",
                    new { now = clock.GetUtcNow(), id = job.Id });
            }
        }
    }

    private async Task<Job?> Claim()
    {
        var now = clock.GetUtcNow();
        await using var connection = await db.OpenConnectionAsync();
        return await connection.QuerySingleOrDefaultAsync<Job>(
            """
            update access.bulk_jobs set status = 'loading', started_at = @now, heartbeat_at = @now, loaded_rows = 0
            where id = (select id from access.bulk_jobs
                        where status = 'queued' or (status in ('loading', 'validating', 'applying') and heartbeat_at < @stale)
                        order by id for update skip locked limit 1)
            returning id, merchant_id, action, dry_run, apply_valid_rows, file, actor
            """, new { now, stale = now - StaleAfter });
    }

    private async Task Run(Job job)
    {
        await using var connection = await db.OpenConnectionAsync();
        await connection.ExecuteAsync("delete from access.bulk_rows where job_id = @Id", new { job.Id }, commandTimeout: StatementTimeout);
        var total = await Load(connection, job);

        await Progress(connection, job.Id, "validating", total);
        var now = clock.GetUtcNow();
        await connection.ExecuteAsync(Validation(job.Action), new { jobId = job.Id, merchantId = job.MerchantId, now }, commandTimeout: StatementTimeout);
        var (errors, skipped) = await connection.QuerySingleAsync<(int Errors, int Skipped)>(
            "select count(*) filter (where outcome = 'error'), count(*) filter (where outcome = 'skipped') from access.bulk_rows where job_id = @Id",
            new { job.Id });
        var valid = total - errors - skipped;

        if (job.DryRun || (errors > 0 && !job.ApplyValidRows))
        {
            var message = job.DryRun
                ? $"Dry run: {valid} rows would be applied, {skipped} skipped, {errors} with errors. Nothing was changed."
                : $"{errors} rows have errors, so nothing was applied. Fix them and upload again, or choose \"apply valid rows\".";
            await Finish(connection, null, job, job.DryRun ? "completed" : "rejected", 0, skipped, errors, message);
            return;
        }

        await Progress(connection, job.Id, "applying", total);
        await using var transaction = await connection.BeginTransactionAsync();
        var applied = await connection.ExecuteScalarAsync<int>(Apply(job.Action),
            new { jobId = job.Id, merchantId = job.MerchantId, now = clock.GetUtcNow(), actor = job.Actor }, transaction, StatementTimeout);
        await Outbox.Enqueue(connection, transaction, job.MerchantId, "bulk.job.completed",
            new { bulk_job_id = job.Id, action = job.Action, applied, skipped, errors }, clock.GetUtcNow());
        await Finish(connection, transaction, job, "completed", applied, skipped, errors,
            $"{applied} rows applied, {skipped} skipped, {errors} with errors.");
        await transaction.CommitAsync();
    }

    /// <summary>Parses the CSV as it streams and COPYs it into the staging table; a row that does not parse is kept with its reason.</summary>
    private async Task<int> Load(NpgsqlConnection connection, Job job)
    {
        await using var progress = await db.OpenConnectionAsync();
        var options = new CsvReaderOptions
        {
            Separator = ',', HasHeader = false, SkipEmptyLines = true, TrimWhitespace = true, TrackLineNumbers = true,
            FieldCountMismatch = CsvFieldCountHandling.Allow, MissingField = CsvMissingFieldHandling.ReturnEmpty,
            MalformedData = CsvMalformedDataHandling.Recover,
        };
        await using var csv = CsvReader.Create(job.File, options);
        csv.Read(); // the header, checked at upload
        var count = 0;
        await using (var importer = await connection.BeginBinaryImportAsync(
            "copy access.bulk_rows (job_id, line, user_id, item_id, starts_at, expires_at, raw, outcome, reason) from stdin (format binary)"))
        {
            while (csv.Read())
            {
                var fields = new string[csv.FieldCount];
                for (var i = 0; i < fields.Length; i++) fields[i] = csv.GetString(i);
                if (fields.All(string.IsNullOrWhiteSpace)) continue;
                count++;
                var reason = Parse(job.Action, fields, out var userId, out var itemId, out var startsAt, out var expiresAt);
                await importer.StartRowAsync();
                await importer.WriteAsync(job.Id, NpgsqlDbType.Bigint);
                await importer.WriteAsync((int)csv.LineNumber, NpgsqlDbType.Integer);
                await WriteNullable(importer, userId, NpgsqlDbType.Bigint);
                await WriteNullable(importer, itemId, NpgsqlDbType.Bigint);
                await WriteNullable(importer, startsAt?.UtcDateTime, NpgsqlDbType.TimestampTz);
                await WriteNullable(importer, expiresAt?.UtcDateTime, NpgsqlDbType.TimestampTz);
                await importer.WriteAsync(string.Join(',', fields.Take(4)), NpgsqlDbType.Text);
                await WriteNullable(importer, reason is null ? null : "error", NpgsqlDbType.Text);
                await WriteNullable(importer, reason, NpgsqlDbType.Text);
                if (count % ProgressEvery == 0)
                    await progress.ExecuteAsync("update access.bulk_jobs set loaded_rows = @count, total_rows = greatest(total_rows, @count), heartbeat_at = @now where id = @Id",
                        new { count, now = clock.GetUtcNow(), job.Id });
            }
            await importer.CompleteAsync();
        }
        await progress.ExecuteAsync("update access.bulk_jobs set loaded_rows = @count, total_rows = @count where id = @Id", new { count, job.Id });
        return count;
    }

    private static async Task WriteNullable<T>(NpgsqlBinaryImporter importer, T? value, NpgsqlDbType type)
    {
        if (value is null) await importer.WriteNullAsync();
        else await importer.WriteAsync(value, type);
    }

    private static string? Parse(string action, string[] fields, out long? userId, out long? itemId, out DateTimeOffset? startsAt, out DateTimeOffset? expiresAt)
    {
        userId = itemId = null;
        startsAt = expiresAt = null;
        if (fields.Length != 4) return $"expected 4 columns, found {fields.Length}";
        if (!long.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var user) || user < 1) return "user_id must be a viewer id (a whole number)";
        if (!long.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var item) || item < 1) return "item_id must be an asset id (a whole number)";
        userId = user;
        itemId = item;
        if (fields[2].Length > 0)
        {
            if (!Json.TryParseUtc(fields[2], out var s)) return "starts_at must be a date and time in UTC (ISO 8601)";
            startsAt = s;
        }
        if (fields[3].Length > 0)
        {
            if (!Json.TryParseUtc(fields[3], out var e)) return "expires_at must be a date and time in UTC (ISO 8601)";
            expiresAt = e;
        }
        if (action != "revoke" && expiresAt is null) return "expires_at is required";
        return null;
    }

    private async Task Progress(NpgsqlConnection connection, long jobId, string status, int total) =>
        await connection.ExecuteAsync("update access.bulk_jobs set status = @status, total_rows = @total, heartbeat_at = @now where id = @jobId",
            new { status, total, now = clock.GetUtcNow(), jobId });

    private async Task Finish(NpgsqlConnection connection, NpgsqlTransaction? transaction, Job job, string status, int applied, int skipped,
        int errors, string message) =>
        await connection.ExecuteAsync(
            """
            update access.bulk_jobs set status = @status, applied_rows = @applied, skipped_rows = @skipped, error_rows = @errors,
                   message = @message, finished_at = @now, file = null
            where id = @Id
            """, new { status, applied, skipped, errors, message, now = clock.GetUtcNow(), job.Id }, transaction);

    /// <summary>
    /// One statement marks every row that cannot be applied: the reason of an error, or of a skip (rows that would
    /// change nothing: a repeated line, access already granted, nothing to revoke, already extended that far).
    /// </summary>
    private static string Validation(string action)
    {
        var (partition, rules) = action switch
        {
            "grant" => ("r.user_id, r.item_id, r.starts_at, r.expires_at", """
                when r.starts_at is not null and r.expires_at <= r.starts_at then 'error:expires_at must be after starts_at'
                when r.expires_at <= @now then 'error:expires_at is in the past'
                when r.first_line <> r.line then 'skipped:same row as line ' || r.first_line
                when exists (select 1 from access.passes p where p.consumer_id = r.user_id and p.item_id = r.item_id and p.revoked_at is null
                             and p.expires_at = r.expires_at and (r.starts_at is null or p.starts_at = r.starts_at)) then 'skipped:already granted'
                """),
            "revoke" => ("r.user_id, r.item_id", """
                when r.first_line <> r.line then 'skipped:same viewer and asset as line ' || r.first_line
                when not exists (select 1 from access.passes p where p.consumer_id = r.user_id and p.item_id = r.item_id and p.revoked_at is null
                                 and p.expires_at > @now) then 'skipped:no active access to revoke'
                """),
            _ => ("r.user_id, r.item_id", """
                when r.expires_at <= @now then 'error:expires_at is in the past'
                when r.first_line <> r.line then 'skipped:same viewer and asset as line ' || r.first_line
                when not exists (select 1 from access.passes p where p.consumer_id = r.user_id and p.item_id = r.item_id and p.revoked_at is null)
                    then 'error:the viewer has no access to this asset to extend'
                when (select max(p.expires_at) from access.passes p where p.consumer_id = r.user_id and p.item_id = r.item_id and p.revoked_at is null) >= r.expires_at
                    then 'skipped:already extended to this date or later'
                """),
        };
        return $"""
            update access.bulk_rows t set outcome = split_part(v.verdict, ':', 1), reason = substr(v.verdict, strpos(v.verdict, ':') + 1)
            from (
                select r.line, case
                    when c.id is null then 'error:user_id ' || r.user_id || ' is not one of your viewers'
                    when i.id is null then 'error:item_id ' || r.item_id || ' is not one of your assets'
                    {rules}
                    end as verdict
                from (select b.*, min(b.line) over (partition by {partition.Replace("r.", "b.")}) as first_line
                      from access.bulk_rows b where b.job_id = @jobId and b.outcome is null) r
                left join accounts.consumers c on c.id = r.user_id and c.merchant_id = @merchantId
                left join access.items i on i.id = r.item_id and i.merchant_id = @merchantId
            ) v
            where t.job_id = @jobId and t.line = v.line and v.verdict is not null
            """;
    }

    /// <summary>Applies every unmarked row in one statement, with the audit rows and the access events; answers how many rows were applied.</summary>
    private static string Apply(string action)
    {
        var change = action switch
        {
            "grant" => """
                changed as (
                    insert into access.passes (merchant_id, consumer_id, item_id, type, source, source_id, starts_at, expires_at, created_at, updated_at)
                    select @merchantId, r.user_id, r.item_id, 'granted', 'bulk', @jobId, coalesce(r.starts_at, @now), r.expires_at, @now, @now
                    from access.bulk_rows r where r.job_id = @jobId and r.outcome is null
                    returning *
                ),
                matched as (
                    select r.line, p.id as pass_id, null::timestamptz as before_expires
                    from access.bulk_rows r join changed p on p.consumer_id = r.user_id and p.item_id = r.item_id
                         and p.expires_at = r.expires_at and p.starts_at = coalesce(r.starts_at, @now)
                    where r.job_id = @jobId and r.outcome is null
                ),
                """,
            "revoke" => """
                targets as (
                    select p.id, r.line, p.expires_at as before_expires from access.bulk_rows r
                    join access.passes p on p.consumer_id = r.user_id and p.item_id = r.item_id and p.merchant_id = @merchantId
                         and p.revoked_at is null and p.expires_at > @now
                    where r.job_id = @jobId and r.outcome is null
                ),
                changed as (
                    update access.passes p set revoked_at = @now, updated_at = @now from targets t where p.id = t.id returning p.*
                ),
                matched as (select line, id as pass_id, before_expires from targets),
                """,
            _ => """
                targets as (
                    select distinct on (r.line) p.id, r.line, p.expires_at as before_expires, r.expires_at as new_expires
                    from access.bulk_rows r
                    join access.passes p on p.consumer_id = r.user_id and p.item_id = r.item_id and p.merchant_id = @merchantId and p.revoked_at is null
                    where r.job_id = @jobId and r.outcome is null
                    order by r.line, p.expires_at desc, p.id desc
                ),
                changed as (
                    update access.passes p set expires_at = t.new_expires, updated_at = @now from targets t where p.id = t.id returning p.*
                ),
                matched as (select line, id as pass_id, before_expires from targets),
                """,
        };
        var verb = action switch { "grant" => "granted", "revoke" => "revoked", _ => "extended" };
        return $"""
            with {change}
            marked as (
                update access.bulk_rows r set outcome = 'applied', pass_id = m.pass_id
                from (select line, min(pass_id) as pass_id from matched group by line) m
                where r.job_id = @jobId and r.line = m.line
                returning r.line
            ),
            befores as (select pass_id, min(before_expires) as before_expires from matched group by pass_id),
            records as (
                select p.id, p.merchant_id, b.before_expires,
                       access.pass_record(row(p.*)::access.passes, c.uuid, c.email, coalesce(i.title, pk.title),
                                          f.description, f.access_type, f.amount, f.currency, @now) as record
                from changed p
                join accounts.consumers c on c.id = p.consumer_id
                left join access.items i on i.id = p.item_id
                left join access.packages pk on pk.id = p.package_id
                left join access.access_fees f on f.id = p.access_fee_id
                left join befores b on b.pass_id = p.id
            ),
            audit as (
                insert into access.pass_changes (merchant_id, pass_id, action, actor, at, before, after)
                select merchant_id, id, '{verb}', @actor, @now,
                       case when before_expires is null then null
                            else jsonb_build_object('status', 'Active', 'starts_at', record -> 'starts_at',
                                                    'expires_at', extract(epoch from before_expires)::bigint, 'revoked_at', null) end,
                       jsonb_build_object('status', record -> 'status', 'starts_at', record -> 'starts_at',
                                          'expires_at', record -> 'expires_at', 'revoked_at', record -> 'revoked_at')
                from records
            ),
            events as (
                insert into kernel.outbox (merchant_id, type, payload, created_at)
                select merchant_id, 'asset.access.{verb}', record || jsonb_build_object(
                           'access_fee_id', record -> 'purchased_access_fee_id', 'consumer_id', record -> 'customer_id',
                           'date', to_char(@now at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                           'extended', {(verb == "extended" ? "true" : "false")},
                           'original_expires_at', coalesce(extract(epoch from before_expires)::bigint, (record ->> 'expires_at')::bigint),
                           'voucher_code', null, 'actor', @actor),
                       @now
                from records
            )
            select count(*)::int from marked
            """;
    }
}
