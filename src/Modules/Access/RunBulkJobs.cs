using System.Globalization;
using System.Text;
using System.Text.Json;
using Coravel.Invocable;
using CsvHelper;
using Dapper;
using Gatehouse.Kernel;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;

namespace Gatehouse.Access;

/// <summary>
/// Runs bulk jobs. A worker claims a job by taking its advisory lock on a connection it keeps for the whole run,
/// so with several instances each job runs once at a time; a job left unfinished by a worker that died (its
/// connection, and so its lock, gone) is claimed again and starts over. The rows are COPYed into access.bulk_rows,
/// checked with one set-based statement, and applied in one transaction with their audit rows and access events:
/// all valid rows or none. Without "apply valid rows", a file with any bad row applies nothing.
/// </summary>
public sealed class RunBulkJobs(NpgsqlDataSource db, TimeProvider clock, ILogger<RunBulkJobs> log) : IInvocable
{
    private const int ProgressEvery = 10_000;
    // A 100,000-row file is validated and applied in seconds; the default 30 s would cut a larger one off on a busy server.
    private const int StatementTimeout = 600;

    private sealed record Job(long Id, long MerchantId, string Action, bool DryRun, bool ApplyValidRows, byte[] File, string Actor);

    /// <summary>Starts a worker now, in the background, rather than at the next scheduled tick.</summary>
    public static void StartNow(IServiceScopeFactory scopes) => _ = Task.Run(async () =>
    {
        using var scope = scopes.CreateScope();
        var runner = scope.ServiceProvider.GetRequiredService<RunBulkJobs>();
        try
        {
            await runner.Invoke();
        }
        catch (Exception e)
        {
            scope.ServiceProvider.GetRequiredService<ILogger<RunBulkJobs>>().LogError(e, "The bulk job worker stopped; the scheduler will pick the job up");
        }
    });

    public async Task Invoke()
    {
        while (true)
        {
            await using var claim = await db.OpenConnectionAsync();
            var job = await Claim(claim);
            if (job is null) return;
            try
            {
                await Run(job);
            }
            catch (Exception e)
            {
                log.LogError(e, "Bulk job {JobId} failed", job.Id);
                await claim.ExecuteAsync(
                    "update access.bulk_jobs set status = 'failed', message = 'The job failed unexpectedly; nothing was applied', finished_at = @now where id = @id",
                    new { now = clock.GetUtcNow(), id = job.Id });
            }
            finally
            {
                await claim.ExecuteAsync("select pg_advisory_unlock(hashtextextended('bulk_job:' || @Id, 0))", new { job.Id });
            }
        }
    }

    /// <summary>The oldest unfinished job whose lock is free: queued, or left behind by a worker that died.</summary>
    private async Task<Job?> Claim(NpgsqlConnection connection)
    {
        var candidates = await connection.QueryAsync<long>(
            "select id from access.bulk_jobs where status in ('queued', 'loading', 'validating', 'applying') order by id limit 20");
        foreach (var id in candidates)
        {
            if (!await connection.ExecuteScalarAsync<bool>("select pg_try_advisory_lock(hashtextextended('bulk_job:' || @id, 0))", new { id }))
                continue;
            var job = await connection.QuerySingleOrDefaultAsync<Job>(
                """
                update access.bulk_jobs set status = 'loading', started_at = @now, heartbeat_at = @now, loaded_rows = 0
                where id = @id and status in ('queued', 'loading', 'validating', 'applying')
                returning id, merchant_id, action, dry_run, apply_valid_rows, file, actor
                """, new { id, now = clock.GetUtcNow() });
            if (job is not null) return job;
            await connection.ExecuteAsync("select pg_advisory_unlock(hashtextextended('bulk_job:' || @id, 0))", new { id });
        }
        return null;
    }

    private async Task Run(Job job)
    {
        await using var connection = await db.OpenConnectionAsync();
        await connection.ExecuteAsync("delete from access.bulk_rows where job_id = @Id", new { job.Id }, commandTimeout: StatementTimeout);
        var total = await Load(connection, job);
        // Fresh statistics, or the planner may take 100,000 new rows for a handful and pick a quadratic plan.
        await connection.ExecuteAsync("analyze access.bulk_rows", commandTimeout: StatementTimeout);

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
        var applied = await Apply(connection, transaction, job, clock.GetUtcNow());
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
            await Database.LeaveEventThread(); // the writes below are synchronous
            while (csv.Read())
            {
                var fields = new string[csv.FieldCount];
                for (var i = 0; i < fields.Length; i++) fields[i] = csv.GetString(i);
                if (fields.All(string.IsNullOrWhiteSpace)) continue;
                count++;
                var reason = Parse(job.Action, fields, out var userId, out var itemId, out var startsAt, out var expiresAt);
                // Synchronous writes only copy into Npgsql's buffer (they block just when it flushes), off the socket event
                // thread (see above); a million awaited field writes cost more than the parsing.
                importer.StartRow();
                importer.Write(job.Id, NpgsqlDbType.Bigint);
                importer.Write((int)csv.LineNumber, NpgsqlDbType.Integer);
                WriteNullable(importer, userId, NpgsqlDbType.Bigint);
                WriteNullable(importer, itemId, NpgsqlDbType.Bigint);
                WriteNullable(importer, startsAt?.UtcDateTime, NpgsqlDbType.TimestampTz);
                WriteNullable(importer, expiresAt?.UtcDateTime, NpgsqlDbType.TimestampTz);
                importer.Write(string.Join(',', fields.Take(4)), NpgsqlDbType.Text);
                WriteNullable(importer, reason is null ? null : "error", NpgsqlDbType.Text);
                WriteNullable(importer, reason, NpgsqlDbType.Text);
                if (count % ProgressEvery == 0)
                {
                    await progress.ExecuteAsync("update access.bulk_jobs set loaded_rows = @count, total_rows = greatest(total_rows, @count), heartbeat_at = @now where id = @Id",
                        new { count, now = clock.GetUtcNow(), job.Id });
                    await Database.LeaveEventThread();
                }
            }
            await importer.CompleteAsync();
        }
        await progress.ExecuteAsync("update access.bulk_jobs set loaded_rows = @count, total_rows = @count where id = @Id", new { count, job.Id });
        return count;
    }

    private static void WriteNullable<T>(NpgsqlBinaryImporter importer, T? value, NpgsqlDbType type)
    {
        if (value is null) importer.WriteNull();
        else importer.Write(value, type);
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

    /// <summary>
    /// Applies every unmarked row: one set-based statement changes the passes and marks each row with its pass,
    /// one writes the audit rows of revokes and extends, and the access events (the same payload as a single
    /// change's) are COPYed into the outbox.
    /// </summary>
    private static async Task<int> Apply(NpgsqlConnection connection, NpgsqlTransaction transaction, Job job, DateTimeOffset now)
    {
        var args = new { jobId = job.Id, merchantId = job.MerchantId, now, actor = job.Actor };
        var verb = job.Action switch { "grant" => "granted", "revoke" => "revoked", _ => "extended" };
        // A grant's rows are not marked one by one (that rewrote every staging row, a second of a 100,000-row job):
        // once the job is completed, a row without an outcome is an applied one (BulkJobView.WriteResults).
        var changed = (await connection.QueryAsync<long>(job.Action == "grant" ? Grant : Change(job.Action), args, transaction,
            StatementTimeout)).ToArray();

        // A granted pass is audited by its row (the job's actor, time and file); revokes and extends, which can touch
        // several passes per row, are audited per pass.
        if (job.Action != "grant")
            await connection.ExecuteAsync(
            $"""
            insert into access.pass_changes (merchant_id, pass_id, action, actor, at, before, after)
            select p.merchant_id, p.id, '{verb}', @actor, @now,
                   case when r.before_expires is not null then jsonb_build_object('status', 'Active',
                        'starts_at', extract(epoch from p.starts_at)::bigint, 'expires_at', extract(epoch from r.before_expires)::bigint,
                        'revoked_at', null) end,
                   jsonb_build_object('status', case when p.revoked_at is not null then 'Revoked' else 'Active' end,
                        'starts_at', extract(epoch from p.starts_at)::bigint, 'expires_at', extract(epoch from p.expires_at)::bigint,
                        'revoked_at', extract(epoch from p.revoked_at)::bigint)
            from access.bulk_rows r join access.passes p on p.id = r.pass_id
            where r.job_id = @jobId and r.outcome = 'applied'
            """, args, transaction, StatementTimeout);

        // A grant has no "before"; revokes and extends remember each pass's expiry before the change.
        var before = job.Action == "grant" ? [] : (await connection.QueryAsync<(long PassId, DateTimeOffset BeforeExpires)>(
            "select pass_id, before_expires from access.bulk_rows where job_id = @jobId and outcome = 'applied'", args, transaction))
            .ToDictionary(r => r.PassId, r => r.BeforeExpires);
        var passes = (await connection.QueryAsync<Passes.Row>(
            Passes.Select + " where p.id = any(@changed)", new { changed }, transaction, commandTimeout: StatementTimeout)).AsList();
        // Built on every core before the COPY starts: serializing 100,000 payloads one by one was a fifth of a job.
        var payloads = new string[passes.Count];
        Parallel.For(0, passes.Count, i =>
        {
            var view = Passes.View(passes[i], now);
            payloads[i] = AccessEvents.Payload(view, verb, job.Actor,
                before.TryGetValue(view.ItemAccessId, out var expiry) ? expiry.ToUnixTimeSeconds() : null, now);
        });
        await using (var outbox = await connection.BeginBinaryImportAsync(
            "copy kernel.outbox (merchant_id, type, payload, created_at) from stdin (format binary)"))
        {
            var type = $"asset.access.{verb}";
            foreach (var payload in payloads)
            {
                await outbox.StartRowAsync();
                await outbox.WriteAsync(job.MerchantId, NpgsqlDbType.Bigint);
                await outbox.WriteAsync(type, NpgsqlDbType.Text);
                await outbox.WriteAsync(payload, NpgsqlDbType.Json);
                await outbox.WriteAsync(now.UtcDateTime, NpgsqlDbType.TimestampTz);
            }
            await outbox.CompleteAsync();
        }
        return changed.Length;
    }

    /// <summary>Grants a pass for every unmarked row; answers the new passes' ids.</summary>
    private const string Grant = """
        insert into access.passes (merchant_id, consumer_id, item_id, type, source, source_id, starts_at, expires_at, created_at, updated_at)
        select @merchantId, user_id, item_id, 'granted', 'bulk', @jobId, coalesce(starts_at, @now), expires_at, @now, @now
        from access.bulk_rows where job_id = @jobId and outcome is null
        returning id
        """;

    /// <summary>The statement that revokes or extends the passes of the unmarked rows, marks each row applied with its
    /// pass, and answers those passes' ids, one per applied row.</summary>
    private static string Change(string action) => action switch
    {
        // Every active pass of the viewer for the asset; the row keeps the first as its pass.
        "revoke" => """
            with targets as (
                select p.id, r.line, p.expires_at as before_expires from access.bulk_rows r
                join access.passes p on p.consumer_id = r.user_id and p.item_id = r.item_id and p.merchant_id = @merchantId
                     and p.revoked_at is null and p.expires_at > @now
                where r.job_id = @jobId and r.outcome is null
            ),
            changed as (
                update access.passes p set revoked_at = @now, updated_at = @now from targets t where p.id = t.id returning p.id
            )
            update access.bulk_rows r set outcome = 'applied', pass_id = t.id, before_expires = t.before_expires
            from (select distinct on (line) line, id, before_expires from targets order by line, id) t
            where r.job_id = @jobId and r.line = t.line
            returning r.pass_id
            """,
        // The pass that lasts longest is the one extended.
        _ => """
            with targets as (
                select distinct on (r.line) p.id, r.line, p.expires_at as before_expires, r.expires_at as new_expires
                from access.bulk_rows r
                join access.passes p on p.consumer_id = r.user_id and p.item_id = r.item_id and p.merchant_id = @merchantId and p.revoked_at is null
                where r.job_id = @jobId and r.outcome is null
                order by r.line, p.expires_at desc, p.id desc
            ),
            changed as (
                update access.passes p set expires_at = t.new_expires, updated_at = @now from targets t where p.id = t.id returning p.id
            )
            update access.bulk_rows r set outcome = 'applied', pass_id = t.id, before_expires = t.before_expires
            from targets t where r.job_id = @jobId and r.line = t.line
            returning r.pass_id
            """,
    };
}
