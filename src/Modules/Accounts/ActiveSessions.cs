using System.Collections.Concurrent;
using Dapper;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Gatehouse.Accounts;

/// <summary>
/// Whether a token's session is still open, asked on every authenticated request. A session seen open is
/// remembered for up to a minute, so the access check (the hot path) costs one query, not two. Ending a session
/// forgets it here at once and, through NOTIFY on commit, on every other instance within milliseconds;
/// if that channel drops, everything remembered is forgotten.
/// </summary>
public sealed class ActiveSessions(NpgsqlDataSource db, TimeProvider clock)
{
    public const string Channel = "accounts_sessions_ended";
    public const string Everything = "*";
    private static readonly TimeSpan Remember = TimeSpan.FromMinutes(1);
    private readonly ConcurrentDictionary<long, DateTimeOffset> _open = new();

    public async ValueTask<bool> IsOpen(long sessionId, CancellationToken cancellation)
    {
        var now = clock.GetUtcNow();
        if (_open.TryGetValue(sessionId, out var until) && until > now) return true;
        await using var connection = await db.OpenConnectionAsync(cancellation);
        var expiresAt = await connection.ExecuteScalarAsync<DateTimeOffset?>(
            "select expires_at from accounts.sessions where id = @sessionId and revoked_at is null and expires_at > @now",
            new { sessionId, now });
        if (expiresAt is null)
        {
            _open.TryRemove(sessionId, out _);
            return false;
        }
        _open[sessionId] = expiresAt.Value < now + Remember ? expiresAt.Value : now + Remember;
        return true;
    }

    /// <summary>Tells every instance, when the transaction commits, that these sessions (or all, "*") have ended.</summary>
    public static Task Announce(NpgsqlConnection connection, NpgsqlTransaction transaction, string sessions) =>
        connection.ExecuteAsync("select pg_notify(@Channel, @sessions)", new { Channel, sessions }, transaction);

    public void Forget(string sessions)
    {
        if (sessions == Everything) _open.Clear();
        else if (long.TryParse(sessions, out var id)) _open.TryRemove(id, out _);
    }

    /// <summary>Listens for sessions ended on any instance.</summary>
    internal sealed class Listener(NpgsqlDataSource db, ActiveSessions sessions, ILogger<Listener> log) : BackgroundService
    {
        protected override async Task ExecuteAsync(CancellationToken stopping)
        {
            while (!stopping.IsCancellationRequested)
            {
                try
                {
                    await using var connection = await db.OpenConnectionAsync(stopping);
                    connection.Notification += (_, e) => sessions.Forget(e.Payload);
                    await connection.ExecuteAsync($"listen {Channel}");
                    sessions.Forget(Everything); // anything announced while we were not listening
                    while (!stopping.IsCancellationRequested) await connection.WaitAsync(stopping);
                }
                catch (OperationCanceledException) when (stopping.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception e)
                {
                    sessions.Forget(Everything);
                    log.LogWarning(e, "Lost the {Channel} channel; listening again in a second", Channel);
                    await Task.Delay(TimeSpan.FromSeconds(1), stopping).ContinueWith(_ => { });
                }
            }
        }
    }
}
