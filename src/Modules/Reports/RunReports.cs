using System.Globalization;
using System.Text.Json;
using Coravel.Invocable;
using CsvHelper;
using Dapper;
using Gatehouse.Kernel;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;

namespace Gatehouse.Reports;

/// <summary>
/// Generates queued reports. A worker claims a report by taking its advisory lock on a connection it keeps for the
/// whole run, so with several instances each report is generated once; one left by a worker that died (its lock gone
/// with its connection) is claimed again and starts over. The query's rows stream from one connection through
/// CsvHelper into ~1 MB chunks that a binary COPY on a second connection stores as they fill, so memory stays flat
/// however many rows there are. The chunks commit together, then the report turns ready with its report.ready event
/// in one transaction: a download never sees half a file.
/// </summary>
public sealed class RunReports(NpgsqlDataSource db, TimeProvider clock, ILogger<RunReports> log) : IInvocable
{
    private const int ChunkBytes = 1 << 20;
    private const int ProgressEvery = 25_000;
    // A report of millions of rows takes longer than the default 30 s command timeout on a busy server.
    private const int StatementTimeout = 3600;

    private sealed record Job(long Id, long MerchantId, string Name, string Type, DateTimeOffset PeriodFrom, DateTimeOffset PeriodTo,
        string AccessStatus, string RecordTypes, string Columns, long? ScheduleId);

    /// <summary>Starts a worker now, in the background, rather than at the next scheduled tick.</summary>
    public static void StartNow(IServiceScopeFactory scopes) => _ = Task.Run(async () =>
    {
        using var scope = scopes.CreateScope();
        try
        {
            await scope.ServiceProvider.GetRequiredService<RunReports>().Invoke();
        }
        catch (Exception e)
        {
            scope.ServiceProvider.GetRequiredService<ILogger<RunReports>>().LogError(e, "The report worker stopped; the scheduler will pick the report up");
        }
    });

    // Reports are long and heavy (three connections each, a core while they stream): an instance generates at most
    // two at a time (a singleton: the count is the instance's); the others wait queued for a worker, here or elsewhere.
    private readonly SemaphoreSlim _workers = new(2);

    public async Task Invoke()
    {
        if (!await _workers.WaitAsync(0)) return;
        try
        {
            await Work();
        }
        finally
        {
            _workers.Release();
        }
    }

    private async Task Work()
    {
        while (true)
        {
            await using var claim = await db.OpenConnectionAsync();
            var job = await Claim(claim);
            if (job is null) return;
            try
            {
                await Run(claim, job);
            }
            catch (ReportGone)
            {
                log.LogInformation("Report {ReportId} was deleted while it was being generated", job.Id);
            }
            catch (Exception e)
            {
                // Deleted while its file was being stored (the chunks' foreign key fails): nothing to report.
                var failed = await claim.ExecuteAsync(
                    "update reports.reports set status = 'failed', message = 'The report could not be generated; generate it again', finished_at = @now where id = @id",
                    new { now = clock.GetUtcNow(), id = job.Id });
                if (failed > 0) log.LogError(e, "Report {ReportId} failed", job.Id);
                else log.LogInformation("Report {ReportId} was deleted while it was being generated", job.Id);
            }
            finally
            {
                await claim.ExecuteAsync("select pg_advisory_unlock(hashtextextended('report:' || @Id, 0))", new { job.Id });
            }
        }
    }

    /// <summary>The oldest unfinished report whose lock is free: queued, or left behind by a worker that died.</summary>
    private async Task<Job?> Claim(NpgsqlConnection connection)
    {
        var candidates = await connection.QueryAsync<long>("select id from reports.reports where status in ('queued', 'running') order by id limit 20");
        foreach (var id in candidates)
        {
            if (!await connection.ExecuteScalarAsync<bool>("select pg_try_advisory_lock(hashtextextended('report:' || @id, 0))", new { id }))
                continue;
            var job = await connection.QuerySingleOrDefaultAsync<Job>(
                """
                update reports.reports set status = 'running', started_at = @now, rows_written = 0, size_bytes = 0, message = null
                where id = @id and status in ('queued', 'running')
                returning id, merchant_id, name, type, period_from, period_to, access_status, array_to_string(record_types, ',') as record_types, array_to_string(columns, ',') as columns, schedule_id
                """, new { id, now = clock.GetUtcNow() });
            if (job is not null) return job;
            await connection.ExecuteAsync("select pg_advisory_unlock(hashtextextended('report:' || @id, 0))", new { id });
        }
        return null;
    }

    private async Task Run(NpgsqlConnection claim, Job job)
    {
        var type = ReportType.Find(job.Type)!;
        var filter = new ReportType.Filter(job.MerchantId, job.PeriodFrom, job.PeriodTo, job.AccessStatus, ReportInput.Split(job.RecordTypes), ReportInput.Split(job.Columns), clock.GetUtcNow());
        var columns = type.Chosen(ReportInput.Split(job.Columns));

        await using var read = await db.OpenConnectionAsync();
        await using var query = type.Command(read, filter);
        query.CommandTimeout = StatementTimeout;
        // The planner's estimate is the progress bar's total: counting first would cost a second pass over the rows.
        await Progress(claim, job.Id, 0, await Estimate(read, query));

        await using var store = await db.OpenConnectionAsync();
        await store.ExecuteAsync("delete from reports.report_chunks where report_id = @Id", new { job.Id }, commandTimeout: StatementTimeout);
        long rows = 0;
        long bytes;
        await using (var chunks = new ChunkStream(await store.BeginBinaryImportAsync(
                         "copy reports.report_chunks (report_id, seq, data) from stdin (format binary)"), job.Id))
        {
            await using (var csv = CsvWriter.Create(chunks, Options, leaveOpen: true))
            {
                csv.WriteRecord(columns.Select(c => c.Key).ToArray());
                await using var reader = await query.ExecuteReaderAsync();
                while (await reader.ReadAsync())
                {
                    for (var i = 0; i < columns.Count; i++) WriteField(csv, reader, i, columns[i].Kind);
                    await csv.EndRecordAsync();
                    await chunks.WriteFullChunks();
                    if (++rows % ProgressEvery == 0) await Progress(claim, job.Id, rows, null);
                }
                await csv.FlushAsync();
            }
            bytes = await chunks.CompleteAsync();
        }

        var now = clock.GetUtcNow();
        await using var transaction = await claim.BeginTransactionAsync();
        var ready = await claim.QuerySingleOrDefaultAsync<DateTimeOffset?>(
            """
            update reports.reports set status = 'ready', rows_written = @rows, rows_total = @rows, size_bytes = @bytes, finished_at = @now,
                                       expires_at = @expiresAt
            where id = @Id returning expires_at
            """, new { job.Id, rows, bytes, now, expiresAt = now + ReportView.KeptFor }, transaction) ?? throw new ReportGone();
        await Outbox.Enqueue(claim, transaction, job.MerchantId, "report.ready", new
        {
            report_id = job.Id, name = job.Name, type = job.Type, rows, size_bytes = bytes, schedule_id = job.ScheduleId,
            download_url = $"/v2/reports/{job.Id}/download", expires_at = ready,
        }, now);
        await transaction.CommitAsync();
    }

    private static readonly CsvWriterOptions Options = new()
    {
        // The cells hold what viewers typed (emails, names) and merchants wrote (titles): anything a spreadsheet would
        // run as a formula (= + - @, tab, CR at the start) is escaped.
        Injection = CsvInjection.Escape,
        NewLine = "\n",
        TrueValue = "true",
        FalseValue = "false",
    };

    private static void WriteField(CsvWriter csv, NpgsqlDataReader reader, int i, ColumnKind kind)
    {
        if (reader.IsDBNull(i))
        {
            csv.WriteField((string?)null);
            return;
        }
        switch (kind)
        {
            case ColumnKind.Long: csv.WriteField(reader.GetInt64(i), default); break;
            case ColumnKind.Int: csv.WriteField(reader.GetInt32(i), default); break;
            case ColumnKind.Money: csv.WriteField(reader.GetDecimal(i), default); break;
            case ColumnKind.Bool: csv.WriteField(reader.GetBoolean(i)); break;
            case ColumnKind.Uuid: csv.WriteField(reader.GetGuid(i), default); break;
            case ColumnKind.Time: csv.WriteField(reader.GetFieldValue<DateTime>(i), "yyyy-MM-dd'T'HH:mm:ss'Z'"); break;
            default: csv.WriteField(reader.GetString(i)); break;
        }
    }

    private static async Task<long> Estimate(NpgsqlConnection connection, NpgsqlCommand query)
    {
        await using var explain = query.Clone();
        explain.Connection = connection;
        explain.CommandText = "explain (format json) " + query.CommandText;
        // A reader, not ExecuteScalar: Npgsql's scalar reads a long value with synchronous I/O (see Database.LeaveEventThread).
        await using var reader = await explain.ExecuteReaderAsync();
        await reader.ReadAsync();
        using var plan = JsonDocument.Parse(reader.GetString(0));
        return (long)plan.RootElement[0].GetProperty("Plan").GetProperty("Plan Rows").GetDouble();
    }

    /// <summary>Records the rows written so far (and the expected total); a report deleted meanwhile stops its run.</summary>
    private static async Task Progress(NpgsqlConnection claim, long id, long rows, long? total)
    {
        var updated = await claim.ExecuteAsync(
            "update reports.reports set rows_written = @rows, rows_total = coalesce(@total, rows_total) where id = @id",
            new { id, rows, total });
        if (updated == 0) throw new ReportGone();
    }

    private sealed class ReportGone : Exception;

    /// <summary>A write-only stream that COPYs what it is given into reports.report_chunks, a ~1 MB row at a time.
    /// Only its asynchronous calls write to the database: a synchronous write could wait on the socket event thread
    /// it runs on (Program.cs), so a synchronous Write just buffers until the next asynchronous call.</summary>
    private sealed class ChunkStream(NpgsqlBinaryImporter importer, long reportId) : Stream
    {
        private byte[] _buffer = new byte[ChunkBytes];
        private int _length;
        private int _seq;
        private long _total;

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> data)
        {
            if (_length + data.Length > _buffer.Length) Array.Resize(ref _buffer, Math.Max(2 * _buffer.Length, _length + data.Length));
            data.CopyTo(_buffer.AsSpan(_length));
            _length += data.Length;
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
        {
            Write(data.Span);
            await WriteFullChunks();
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        /// <summary>COPYs each whole chunk of ChunkBytes the buffer holds; what is left over moves to its start.</summary>
        public async ValueTask WriteFullChunks()
        {
            if (_length < ChunkBytes) return;
            var written = 0;
            for (; _length - written >= ChunkBytes; written += ChunkBytes) await WriteChunk(written, ChunkBytes);
            _buffer.AsSpan(written, _length - written).CopyTo(_buffer);
            _length -= written;
        }

        private async Task WriteChunk(int offset, int count)
        {
            await importer.StartRowAsync();
            await importer.WriteAsync(reportId, NpgsqlDbType.Bigint);
            await importer.WriteAsync(_seq++, NpgsqlDbType.Integer);
            await importer.WriteAsync(new ArraySegment<byte>(_buffer, offset, count), NpgsqlDbType.Bytea);
            _total += count;
        }

        /// <summary>Writes the last chunk and commits the COPY; answers the file's size.</summary>
        public async Task<long> CompleteAsync()
        {
            await WriteFullChunks();
            if (_length > 0) await WriteChunk(0, _length);
            _length = 0;
            await importer.CompleteAsync();
            return _total;
        }

        public override async ValueTask DisposeAsync()
        {
            await importer.DisposeAsync();
            await base.DisposeAsync();
        }

        public override void Flush() { }
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => _total + _length;
        public override long Position { get => Length; set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
