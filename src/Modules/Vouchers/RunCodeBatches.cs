using System.Security.Cryptography;
using Coravel.Invocable;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Gatehouse.Kernel;
using Npgsql;
using NpgsqlTypes;

namespace Gatehouse.Vouchers;

/// <summary>
/// Generates queued code batches. A worker claims a batch by taking its advisory lock on a connection it keeps for the
/// whole run, so with several instances each batch is generated once at a time; a batch left by a worker that died
/// (its connection, and so its lock, gone) is claimed again and carries on from the codes already made.
/// Codes are drawn with a cryptographic RNG, COPYed into a temp table and inserted set-based, skipping any code the
/// merchant already has (codes are unique per merchant, case-insensitively); collisions are drawn again until the batch
/// has its count, or it fails saying that code space is used up.
/// </summary>
public sealed class RunCodeBatches(NpgsqlDataSource db, TimeProvider clock, CodeAlphabet alphabet, ILogger<RunCodeBatches> log) : IInvocable
{
    /// <summary>Codes per transaction: the progress bar moves, and a worker that dies loses little.</summary>
    private const int Chunk = 10_000;
    /// <summary>When draws collide, the next round draws up to this many times more, capped at <see cref="MaxDraw"/>.</summary>
    private const int MaxOverdraw = 64;
    private const int MaxDraw = 250_000;
    /// <summary>Rounds in a row that add nothing before the space is taken as used up; by then a round draws thousands.</summary>
    private const int StalledRounds = 6;
    private const int StatementTimeout = 300;

    private sealed record Batch(long Id, long MerchantId, long VoucherId, int Requested, int Length, string Prefix, string Suffix, int Generated);

    /// <summary>Starts a worker now, in the background, rather than at the next scheduled tick.</summary>
    public static void StartNow(IServiceScopeFactory scopes) => _ = Task.Run(async () =>
    {
        using var scope = scopes.CreateScope();
        try
        {
            await scope.ServiceProvider.GetRequiredService<RunCodeBatches>().Invoke();
        }
        catch (Exception e)
        {
            scope.ServiceProvider.GetRequiredService<ILogger<RunCodeBatches>>()
                .LogError(e, "The code batch worker stopped; the scheduler will pick the batch up");
        }
    });

    public async Task Invoke()
    {
        while (true)
        {
            await using var claim = await db.OpenConnectionAsync();
            var batch = await Claim(claim);
            if (batch is null) return;
            try
            {
                await Run(batch);
            }
            catch (Exception e)
            {
                log.LogError(e, "Code batch {BatchId} failed", batch.Id);
                await claim.ExecuteAsync(
                    """
                    update vouchers.code_batches
                    set status = 'failed', finished_at = @now,
                        message = 'Generation failed unexpectedly after ' || generated || ' codes; those codes are kept and can be used'
                    where id = @Id and merchant_id = @MerchantId
                    """, new { now = clock.GetUtcNow(), batch.Id, batch.MerchantId });
            }
            finally
            {
                await claim.ExecuteAsync("select pg_advisory_unlock(hashtextextended('code_batch:' || @Id, 0))", new { batch.Id });
            }
        }
    }

    /// <summary>The oldest unfinished batch whose lock is free, with the count of codes it already has.</summary>
    private async Task<Batch?> Claim(NpgsqlConnection connection)
    {
        var candidates = await connection.QueryAsync<long>(
            "select id from vouchers.code_batches where status in ('queued', 'generating') order by id limit 20");
        foreach (var id in candidates)
        {
            if (!await connection.ExecuteScalarAsync<bool>("select pg_try_advisory_lock(hashtextextended('code_batch:' || @id, 0))", new { id }))
                continue;
            var batch = await connection.QuerySingleOrDefaultAsync<Batch>(
                """
                update vouchers.code_batches b
                set status = 'generating', heartbeat_at = @now,
                    generated = (select count(*) from vouchers.codes c
                                 where c.voucher_id = b.voucher_id and c.merchant_id = b.merchant_id and c.batch_id = b.id)
                where id = @id and status in ('queued', 'generating')
                returning id, merchant_id, voucher_id, requested, length, prefix, suffix, generated
                """, new { id, now = clock.GetUtcNow() });
            if (batch is not null) return batch;
            await connection.ExecuteAsync("select pg_advisory_unlock(hashtextextended('code_batch:' || @id, 0))", new { id });
        }
        return null;
    }

    private async Task Run(Batch batch)
    {
        await using var connection = await db.OpenConnectionAsync();
        // COPY cannot skip conflicts, so candidates land here first; emptied at every commit.
        await connection.ExecuteAsync("create temp table if not exists code_candidates (code text not null) on commit delete rows");
        var generated = batch.Generated;
        var (overdraw, stalled, rounds) = (1, 0, 0);
        var maxRounds = 2 * (batch.Requested / Chunk + 1) + 50;
        while (generated < batch.Requested)
        {
            if (stalled == StalledRounds || ++rounds > maxRounds)
            {
                var taken = $"nearly every code of {batch.Length} characters with this prefix and suffix is taken";
                await Finish(connection, batch, "failed", generated == 0
                    ? $"No code could be generated: {taken}. Use a longer length."
                    : $"Stopped at {generated} of {batch.Requested} codes: {taken}. The {generated} codes generated are kept and can be used; " +
                      "add a batch with a longer length for the rest.");
                return;
            }
            var need = Math.Min(Chunk, batch.Requested - generated);
            // A few spare candidates, so a rare collision does not cost a round.
            var candidates = Draw(batch, (int)Math.Min(MaxDraw, (long)(need + need / 50 + 16) * overdraw));

            await using var transaction = await connection.BeginTransactionAsync();
            // Locks the voucher against deletion (which removes its codes) until these codes are committed.
            var live = await connection.ExecuteScalarAsync<long?>(
                "select id from vouchers.vouchers where id = @VoucherId and merchant_id = @MerchantId and deleted_at is null for share",
                new { batch.VoucherId, batch.MerchantId }, transaction);
            if (live is null)
            {
                await transaction.RollbackAsync();
                await Finish(connection, batch, "failed", $"The voucher was deleted; generation stopped at {generated} codes.");
                return;
            }
            // Synchronous writes only copy into Npgsql's buffer, which is flushed as it fills: off the socket event thread.
            await using (var importer = await connection.BeginBinaryImportAsync("copy code_candidates (code) from stdin (format binary)"))
            {
                await Database.LeaveEventThread();
                foreach (var code in candidates)
                {
                    importer.StartRow();
                    importer.Write(code, NpgsqlDbType.Text);
                }
                await importer.CompleteAsync();
            }
            // Only codes the merchant does not have yet (the unique index's own expression), in index order, so two
            // batches inserting at once take their row locks in the same order and cannot deadlock.
            var inserted = await connection.ExecuteAsync(
                """
                insert into vouchers.codes (merchant_id, voucher_id, batch_id, code, created_at)
                select @MerchantId, @VoucherId, @Id, s.code, @now
                from code_candidates s
                where not exists (select 1 from vouchers.codes c where c.merchant_id = @MerchantId and lower(c.code) = lower(s.code))
                order by lower(s.code)
                limit @need
                on conflict do nothing
                """, new { batch.MerchantId, batch.VoucherId, batch.Id, need, now = clock.GetUtcNow() }, transaction, StatementTimeout);
            generated += inserted;
            await connection.ExecuteAsync(
                "update vouchers.code_batches set generated = @generated, heartbeat_at = @now where id = @Id and merchant_id = @MerchantId",
                new { generated, now = clock.GetUtcNow(), batch.Id, batch.MerchantId }, transaction);
            await transaction.CommitAsync();

            stalled = inserted == 0 ? stalled + 1 : 0;
            overdraw = inserted < need ? Math.Min(MaxOverdraw, overdraw * 4) : 1;
        }
        await Finish(connection, batch, "completed", $"{batch.Requested} codes generated.");
    }

    /// <summary>Up to <paramref name="count"/> distinct codes: prefix, random characters of the alphabet, suffix.</summary>
    private List<string> Draw(Batch batch, int count)
    {
        // One call fills every middle at once: per-code RNG calls cost more than the rest of the draw.
        var characters = new char[count * batch.Length];
        RandomNumberGenerator.GetItems<char>(alphabet.Characters, characters);
        var seen = new HashSet<string>(count, StringComparer.OrdinalIgnoreCase);
        var codes = new List<string>(count);
        for (var i = 0; i < count; i++)
        {
            var code = string.Concat(batch.Prefix, characters.AsSpan(i * batch.Length, batch.Length), batch.Suffix);
            if (seen.Add(code)) codes.Add(code);
        }
        return codes;
    }

    private async Task Finish(NpgsqlConnection connection, Batch batch, string status, string message) =>
        await connection.ExecuteAsync(
            """
            update vouchers.code_batches set status = @status, message = @message, finished_at = @now, heartbeat_at = @now
            where id = @Id and merchant_id = @MerchantId
            """, new { status, message, now = clock.GetUtcNow(), batch.Id, batch.MerchantId });
}
