using Coravel.Invocable;
using Dapper;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Gatehouse.Reports;

/// <summary>Deletes reports past their 10 days (their files go with them), a batch at a time so no statement runs long.</summary>
public sealed class PruneReports(NpgsqlDataSource db, TimeProvider clock, ILogger<PruneReports> log) : IInvocable
{
    public async Task Invoke()
    {
        await using var connection = await db.OpenConnectionAsync();
        var deleted = 0;
        int batch;
        do
        {
            batch = await connection.ExecuteAsync(
                """
                delete from reports.reports
                where id in (select id from reports.reports where expires_at <= @now order by expires_at limit 100 for update skip locked)
                """, new { now = clock.GetUtcNow() }, commandTimeout: 600);
            deleted += batch;
        } while (batch == 100);
        if (deleted > 0) log.LogInformation("Deleted {Count} expired reports", deleted);
    }
}
