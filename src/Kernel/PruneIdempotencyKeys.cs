using Coravel.Invocable;
using Dapper;
using Npgsql;

namespace Gatehouse.Kernel;

/// <summary>
/// Hourly: forgets Idempotency-Keys claimed more than <see cref="Idempotency.Retention"/> (48 h) ago, so every key is
/// kept at least the 24 h the API promises. Idempotent, so instances running it at once do no harm.
/// </summary>
public sealed class PruneIdempotencyKeys(NpgsqlDataSource db, TimeProvider clock) : IInvocable
{
    public async Task Invoke()
    {
        await using var connection = await db.OpenConnectionAsync();
        await connection.ExecuteAsync("delete from kernel.idempotency_keys where created_at <= @before",
            new { before = clock.GetUtcNow() - Idempotency.Retention });
    }
}
