using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using Coravel.Invocable;
using Dapper;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;

namespace Gatehouse.Webhooks;

/// <summary>
/// Delivers the outbox to merchants' endpoints, at least once. Every instance runs one dispatcher; it wakes on the
/// outbox's NOTIFY (sent at commit), on <see cref="PumpWebhooks"/> every second (the fallback, and what brings due
/// retries), and then:
/// <list type="number">
/// <item>fans new outbox events out into one message per subscribed endpoint (held when the endpoint is disabled),
/// set-based, claiming the events with FOR UPDATE SKIP LOCKED;</item>
/// <item>claims due messages of enabled endpoints with FOR UPDATE SKIP LOCKED, marking them delivering for a lease, so no
/// other dispatcher sends the same attempt while this one does (a dead dispatcher's claims are taken back when the lease
/// ends). Per endpoint it claims a bounded share (<see cref="PerEndpointClaim"/>), so one endpoint's backlog is not all
/// held by one dispatcher; the rest waits for the next claim, this dispatcher's or another's;</item>
/// <item>posts them with no transaction open, in parallel, at most <see cref="PerEndpoint"/> at a time per endpoint,
/// each under the timeout; a message is only started while its lease leaves a whole timeout to run (otherwise, or when
/// the app is stopping, it is handed back untried), so no request outlives its claim;</item>
/// <item>records every attempt and the next step in one set-based transaction: delivered; or the next retry of
/// <see cref="Schedule"/> (±20 % jitter, or the receiver's Retry-After); or failed when the schedule is spent. A 410
/// disables the endpoint; so does failing for <see cref="DisableAfter"/>. A disabled endpoint's messages are held and
/// go out when it is enabled again. A dispatcher whose claim was taken over (its lease ended) still logs its attempts
/// but leaves the message's state to the claim that holds it.</item>
/// </list>
/// </summary>
public sealed class WebhookDispatcher(NpgsqlDataSource db, WebhookTargets targets, TimeProvider clock, IConfiguration configuration,
    ILogger<WebhookDispatcher> log) : BackgroundService
{
    public const int PerEndpoint = 8;
    private const int BatchSize = 500;
    private const int FanoutSize = 5000;
    private const int Parallelism = 64;
    private const int ExcerptLength = 500;

    /// <summary>When each attempt is made, counted from the event: at once, then after each failure these delays.</summary>
    public static readonly TimeSpan[] Schedule =
    [
        TimeSpan.Zero, TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(30), TimeSpan.FromHours(2),
        TimeSpan.FromHours(5), TimeSpan.FromHours(10), TimeSpan.FromHours(14), TimeSpan.FromHours(20), TimeSpan.FromHours(24),
    ];

    public static readonly TimeSpan DisableAfter = TimeSpan.FromDays(5);

    /// <summary>
    /// How long a claim lasts: well past the request timeout, so only a dead dispatcher's claims expire. Never under two
    /// timeouts, which would leave no time to send anything.
    /// </summary>
    private TimeSpan Lease => TimeSpan.FromSeconds(Math.Max(targets.Timeout.TotalSeconds * 2,
        configuration.GetValue("Webhooks:ClaimLeaseSeconds", Math.Max(60, targets.Timeout.TotalSeconds * 4))));

    /// <summary>
    /// How many messages of one endpoint a claim takes: as many waves of <see cref="PerEndpoint"/> as fit in the lease if
    /// every request took the whole timeout (less one wave of margin), and at least 8 waves, so a fast endpoint's backlog
    /// moves in batches worth a round trip. What a slow endpoint cannot start in time is handed back (see Deliver).
    /// </summary>
    private int PerEndpointClaim => PerEndpoint * Math.Max(8, (int)(Lease / targets.Timeout) - 1);

    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly ConcurrentDictionary<long, SemaphoreSlim> _endpointSlots = new();
    /// <summary>One client for every delivery (its handler pools connections and checks each target address).</summary>
    private readonly Lazy<HttpClient> _http = new(() =>
    {
        var client = new HttpClient(targets.Handler()) { Timeout = Timeout.InfiniteTimeSpan };
        client.DefaultRequestHeaders.UserAgent.ParseAdd("Gatehouse-Webhooks/1.0");
        return client;
    });

    private sealed record Claimed(long Id, long MerchantId, long EndpointId, long OutboxId, string EventType, int Attempts, string Payload,
        DateTimeOffset OccurredAt, string Url, string Format, string Secret, string? PreviousSecret, DateTimeOffset? PreviousSecretExpiresAt,
        DateTimeOffset ClaimedUntil);

    private sealed record Outcome(Claimed Message, DateTimeOffset At, int? StatusCode, int LatencyMs, string? Excerpt, string? Error, TimeSpan? RetryAfter)
    {
        public bool Succeeded => StatusCode is >= 200 and < 300;

        /// <summary>Not tried: handed back (its lease too short to finish a request, or the app stopping).</summary>
        public bool Skipped { get; init; }
    }

    /// <summary>Runs the dispatcher now (the outbox's NOTIFY, the pump); calls while it runs make it run once more.</summary>
    public void Wake()
    {
        try { _wake.Release(); }
        catch (SemaphoreFullException) { }
    }

    protected override async Task ExecuteAsync(CancellationToken stop)
    {
        _ = Task.Run(() => Listen(stop), stop);
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await RunOnce(stop);
            }
            catch (Exception e) when (!stop.IsCancellationRequested)
            {
                log.LogError(e, "The webhook dispatcher failed a round; it runs again at the next wake-up");
            }
            try
            {
                await _wake.WaitAsync(stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>LISTEN on the outbox channel on a connection of its own; reconnects after a failure.</summary>
    private async Task Listen(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await using var connection = await db.OpenConnectionAsync(stop);
                connection.Notification += (_, _) => Wake();
                await using (var listen = new NpgsqlCommand($"listen {Kernel.Outbox.NotifyChannel}", connection))
                    await listen.ExecuteNonQueryAsync(stop);
                Wake(); // anything committed before we listened
                while (!stop.IsCancellationRequested) await connection.WaitAsync(stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                log.LogWarning(e, "The outbox listener lost its connection; polling covers the gap while it reconnects");
                try { await Task.Delay(TimeSpan.FromSeconds(2), stop); }
                catch (OperationCanceledException) { return; }
            }
        }
    }

    /// <summary>One round: fan out everything new, then deliver until nothing is due. Public for tests and the bench.</summary>
    public async Task RunOnce(CancellationToken stop = default)
    {
        while (await Fanout() == FanoutSize) { }
        while (!stop.IsCancellationRequested)
        {
            var batch = await Claim();
            if (batch.Count == 0) return;
            var outcomes = new ConcurrentBag<Outcome>();
            // Not cancelled by stop: what has started finishes (within the timeout) and is recorded; the rest is handed back.
            await Parallel.ForEachAsync(batch, new ParallelOptions { MaxDegreeOfParallelism = Parallelism },
                async (message, _) => outcomes.Add(await Deliver(message, stop)));
            await Record(outcomes.ToList());
        }
    }

    /// <summary>New events into messages. A message is dated by its event (not by when it was fanned out, later after an outage), which is what the log shows and replay?since= selects on.</summary>
    private async Task<int> Fanout()
    {
        var now = clock.GetUtcNow();
        await using var connection = await db.OpenConnectionAsync();
        return await connection.ExecuteAsync(
            """
            with batch as (
                select id, merchant_id, type, created_at from kernel.outbox where fanned_out_at is null
                order by id limit @FanoutSize for update skip locked),
            messages as (
                insert into webhooks.messages (merchant_id, endpoint_id, outbox_id, event_type, status, next_attempt_at, created_at)
                select b.merchant_id, e.id, b.id, b.type, case when e.enabled then 'pending' else 'held' end,
                       case when e.enabled then @now end, b.created_at
                from batch b join webhooks.endpoints e on e.merchant_id = b.merchant_id
                 and (cardinality(e.event_types) = 0 or b.type = any (e.event_types)) and e.created_at <= b.created_at
                -- Message ids follow the events' order, so the delivery log (newest id first) lists them as they happened.
                order by b.id, e.id
                on conflict (endpoint_id, outbox_id) do nothing)
            update kernel.outbox o set fanned_out_at = @now from batch where o.id = batch.id
            """, new { now, FanoutSize });
    }

    private async Task<List<Claimed>> Claim()
    {
        var now = clock.GetUtcNow();
        await using var connection = await db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        // Claims whose dispatcher died: due again (the attempt it was making is made again: at least once), or held if
        // their endpoint was disabled meanwhile.
        await connection.ExecuteAsync(
            """
            update webhooks.messages m
            set status = case when e.enabled then 'pending' else 'held' end, claimed_until = null,
                next_attempt_at = case when e.enabled then m.next_attempt_at end
            from webhooks.endpoints e
            where m.status = 'delivering' and m.claimed_until < @now and e.id = m.endpoint_id
            """, new { now }, transaction);
        // The due messages of enabled endpoints, oldest first, at most PerEndpointClaim of each endpoint. Ranked without
        // locks, then locked: a row another dispatcher claimed meanwhile is skipped (locked) or no longer pending (rechecked).
        var claimed = (await connection.QueryAsync<Claimed>(
            """
            with candidates as (
                select m.id, m.endpoint_id, m.next_attempt_at from webhooks.messages m
                join webhooks.endpoints e on e.id = m.endpoint_id and e.enabled
                where m.status = 'pending' and m.next_attempt_at <= @now
                order by m.next_attempt_at, m.id limit @scan),
            ranked as (
                select id, row_number() over (partition by endpoint_id order by next_attempt_at, id) as rank from candidates),
            due as (
                select m.id from webhooks.messages m join ranked r on r.id = m.id
                where r.rank <= @perEndpoint and m.status = 'pending' and m.next_attempt_at <= @now
                order by m.next_attempt_at, m.id limit @BatchSize
                for update of m skip locked)
            update webhooks.messages m set status = 'delivering', claimed_until = @leaseEnd
            from due, kernel.outbox o, webhooks.endpoints e
            where m.id = due.id and o.id = m.outbox_id and e.id = m.endpoint_id
            returning m.id, m.merchant_id, m.endpoint_id, m.outbox_id, m.event_type, m.attempts, o.payload::text as payload,
                      o.created_at as occurred_at, e.url, e.format, e.secret, e.previous_secret, e.previous_secret_expires_at, m.claimed_until
            """, new { now, leaseEnd = now + Lease, BatchSize, scan = BatchSize * 4, perEndpoint = PerEndpointClaim }, transaction)).ToList();
        await transaction.CommitAsync();
        return claimed;
    }

    private async Task<Outcome> Deliver(Claimed message, CancellationToken stop)
    {
        var slots = _endpointSlots.GetOrAdd(message.EndpointId, _ => new SemaphoreSlim(PerEndpoint));
        await slots.WaitAsync();
        var at = clock.GetUtcNow();
        var watch = Stopwatch.StartNew();
        try
        {
            // Started only if it can finish within the claim: past it another dispatcher may take the message and send it too.
            if (stop.IsCancellationRequested || at + targets.Timeout > message.ClaimedUntil)
                return new Outcome(message, at, null, 0, null, null, null) { Skipped = true };
            var webhookId = $"msg_{message.OutboxId}";
            var (body, contentType) = WebhookSignature.Body(message.Format, webhookId, message.EventType, message.Payload, message.OccurredAt);
            var secrets = message.PreviousSecret is { } previous && message.PreviousSecretExpiresAt > at
                ? new[] { message.Secret, previous }
                : [message.Secret];
            using var request = new HttpRequestMessage(HttpMethod.Post, message.Url) { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
            foreach (var (name, value) in WebhookSignature.Headers(message.Format, webhookId, DateTimeOffset.UtcNow.ToUnixTimeSeconds(), body, secrets))
                request.Headers.TryAddWithoutValidation(name, value);
            using var timeout = new CancellationTokenSource(targets.Timeout);
            using var response = await _http.Value.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var excerpt = await Excerpt(response, timeout.Token);
            var retryAfter = response.Headers.RetryAfter is { } header
                ? header.Delta ?? (header.Date is { } date ? date - DateTimeOffset.UtcNow : null)
                : null;
            return new Outcome(message, at, (int)response.StatusCode, (int)watch.ElapsedMilliseconds, excerpt, null, retryAfter);
        }
        catch (Exception e)
        {
            var error = e is OperationCanceledException ? $"No answer within {targets.Timeout.TotalSeconds:0} s" : e.GetBaseException().Message;
            return new Outcome(message, at, null, (int)watch.ElapsedMilliseconds, null, error, null);
        }
        finally
        {
            slots.Release();
        }
    }

    private static async Task<string?> Excerpt(HttpResponseMessage response, CancellationToken cancellation)
    {
        try
        {
            await using var stream = await response.Content.ReadAsStreamAsync(cancellation);
            var buffer = new char[ExcerptLength];
            using var reader = new StreamReader(stream);
            var read = await reader.ReadBlockAsync(buffer.AsMemory(), cancellation);
            return read == 0 ? null : new string(buffer, 0, read);
        }
        catch (Exception e) when (e is IOException or HttpRequestException or OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>
    /// Every attempt and each message's next step, in one transaction. A message's state is only written while this
    /// dispatcher's claim holds (its claimed_until unchanged); skipped messages are handed back as they were.
    /// </summary>
    private async Task Record(List<Outcome> all)
    {
        var now = clock.GetUtcNow();
        var skipped = all.Where(o => o.Skipped).ToList();
        var outcomes = all.Where(o => !o.Skipped).ToList();
        var next = outcomes.Select(o =>
        {
            var attempts = o.Message.Attempts + 1;
            if (o.Succeeded) return (Status: "delivered", Attempts: attempts, Next: (DateTimeOffset?)null);
            if (o.StatusCode == (int)HttpStatusCode.Gone) return ("held", attempts, null);
            if (attempts >= Schedule.Length) return ("failed", attempts, null);
            var delay = o.RetryAfter is { } asked && asked > TimeSpan.Zero
                ? TimeSpan.FromTicks(Math.Min(asked.Ticks, TimeSpan.FromHours(24).Ticks))
                : Schedule[attempts] * (0.8 + Random.Shared.NextDouble() * 0.4);
            return ("pending", attempts, now + delay);
        }).ToList();

        await using var connection = await db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        // Endpoint health first: a success clears the failing streak; a failure starts one, and 5 days of it, or a 410, disable
        // the endpoint (the messages below then see it disabled). Endpoints before messages, the order in which deleting or
        // changing an endpoint locks them, so neither waits on the other in a circle.
        var succeeded = outcomes.Where(o => o.Succeeded).Select(o => o.Message.EndpointId).Distinct().ToArray();
        var failed = outcomes.Where(o => !o.Succeeded).Select(o => o.Message.EndpointId).Except(succeeded).Distinct().ToArray();
        var gone = outcomes.Where(o => o.StatusCode == (int)HttpStatusCode.Gone).Select(o => o.Message.EndpointId).Distinct().ToArray();
        await connection.ExecuteAsync(
            """
            update webhooks.endpoints set failing_since = null where id = any (@succeeded) and failing_since is not null;
            update webhooks.endpoints set failing_since = @now where id = any (@failed) and failing_since is null;
            with disabled as (
                update webhooks.endpoints
                set enabled = false, updated_at = @now,
                    disabled_reason = case when id = any (@gone) then 'The endpoint answered 410 Gone'
                                           else 'Every delivery failed for 5 days' end
                where enabled and (id = any (@gone) or (id = any (@failed) and failing_since <= @cutoff))
                returning id)
            update webhooks.messages set status = 'held', next_attempt_at = null
            where endpoint_id in (select id from disabled) and status = 'pending';
            """, new { succeeded, failed, gone, now, cutoff = now - DisableAfter }, transaction);
        await using (var command = new NpgsqlCommand(
            """
            -- Only for messages that still exist (locked against deletion meanwhile): an endpoint deleted during its delivery
            -- took its messages with it, and one missing row must not fail the record of the whole batch.
            with alive as (select id from webhooks.messages where id = any (@ids) for key share)
            insert into webhooks.attempts (message_id, merchant_id, attempt, at, status_code, latency_ms, response_excerpt, error)
            select r.* from unnest(@ids, @merchants, @attempts, @ats, @codes, @latencies, @excerpts, @errors)
                as r(message_id, merchant_id, attempt, at, status_code, latency_ms, response_excerpt, error)
            where r.message_id in (select id from alive);
            update webhooks.messages m
            set status = case when r.status = 'pending' and not e.enabled then 'held' else r.status end,
                next_attempt_at = case when e.enabled then r.next end, attempts = r.attempts, claimed_until = null, last_status = r.code,
                last_error = r.error, delivered_at = case when r.status = 'delivered' then @now else m.delivered_at end
            from unnest(@ids, @statuses, @attempts, @nexts, @codes, @errors, @claims) as r(id, status, attempts, next, code, error, claimed_until),
                 webhooks.endpoints e
            where m.id = r.id and m.status = 'delivering' and m.claimed_until = r.claimed_until and e.id = m.endpoint_id;
            update webhooks.messages m
            set status = case when e.enabled then 'pending' else 'held' end, claimed_until = null,
                next_attempt_at = case when e.enabled then m.next_attempt_at end
            from unnest(@skippedIds, @skippedClaims) as r(id, claimed_until), webhooks.endpoints e
            where m.id = r.id and m.status = 'delivering' and m.claimed_until = r.claimed_until and e.id = m.endpoint_id;
            """, connection, transaction))
        {
            command.Parameters.Add(new NpgsqlParameter<long[]>("ids", outcomes.Select(o => o.Message.Id).ToArray()));
            command.Parameters.Add(new NpgsqlParameter<long[]>("merchants", outcomes.Select(o => o.Message.MerchantId).ToArray()));
            command.Parameters.Add(new NpgsqlParameter<int[]>("attempts", next.Select(n => n.Attempts).ToArray()));
            command.Parameters.Add(new NpgsqlParameter<DateTime[]>("ats", outcomes.Select(o => o.At.UtcDateTime).ToArray()) { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
            command.Parameters.Add(new NpgsqlParameter("codes", NpgsqlDbType.Array | NpgsqlDbType.Integer) { Value = outcomes.Select(o => (object?)o.StatusCode ?? DBNull.Value).ToArray() });
            command.Parameters.Add(new NpgsqlParameter<int[]>("latencies", outcomes.Select(o => o.LatencyMs).ToArray()));
            command.Parameters.Add(new NpgsqlParameter("excerpts", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = outcomes.Select(o => (object?)o.Excerpt ?? DBNull.Value).ToArray() });
            command.Parameters.Add(new NpgsqlParameter("errors", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = outcomes.Select(o => (object?)o.Error ?? DBNull.Value).ToArray() });
            command.Parameters.Add(new NpgsqlParameter<string[]>("statuses", next.Select(n => n.Status).ToArray()));
            command.Parameters.Add(new NpgsqlParameter("nexts", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz) { Value = next.Select(n => (object?)n.Next?.UtcDateTime ?? DBNull.Value).ToArray() });
            command.Parameters.Add(new NpgsqlParameter<DateTime>("now", now.UtcDateTime) { NpgsqlDbType = NpgsqlDbType.TimestampTz });
            command.Parameters.Add(new NpgsqlParameter<DateTime[]>("claims", outcomes.Select(o => o.Message.ClaimedUntil.UtcDateTime).ToArray())
                { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
            command.Parameters.Add(new NpgsqlParameter<long[]>("skippedIds", skipped.Select(o => o.Message.Id).ToArray()));
            command.Parameters.Add(new NpgsqlParameter<DateTime[]>("skippedClaims", skipped.Select(o => o.Message.ClaimedUntil.UtcDateTime).ToArray())
                { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
            await command.ExecuteNonQueryAsync();
        }

        await transaction.CommitAsync();
    }
}

/// <summary>Wakes the dispatcher every second: the fallback when a NOTIFY was missed, and what sends retries when they fall due.</summary>
public sealed class PumpWebhooks(WebhookDispatcher dispatcher) : IInvocable
{
    public Task Invoke()
    {
        dispatcher.Wake();
        return Task.CompletedTask;
    }
}
