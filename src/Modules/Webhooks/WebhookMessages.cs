using System.Security.Claims;
using Dapper;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Npgsql;

namespace Gatehouse.Webhooks;

/// <summary>A message (one event for one endpoint) as the delivery log shows it.</summary>
public sealed record MessageView(long Id, string WebhookId, long EndpointId, string EndpointUrl, string EventType, string Status, int Attempts,
    DateTimeOffset? NextAttemptAt, int? LastStatus, string? LastError, DateTimeOffset CreatedAt, DateTimeOffset? DeliveredAt);

public sealed record AttemptView(int Attempt, DateTimeOffset At, int? StatusCode, int LatencyMs, string? ResponseExcerpt, string? Error);

/// <summary>
/// The delivery log and replays. GET /v2/webhooks/messages?endpoint_id&amp;status&amp;event_type&amp;page&amp;limit,
/// GET /v2/webhooks/messages/{id} (with every attempt and the payload), POST /v2/webhooks/messages/{id}/replay, and
/// POST /v2/webhooks/{id}/replay?since=T: every failed message of an endpoint created since T is sent again, with a
/// fresh schedule and the same webhook-id.
/// </summary>
public static class WebhookMessages
{
    public static readonly string[] Statuses = ["pending", "delivering", "held", "delivered", "failed"];

    public sealed record Query(long? EndpointId, string? Status, string? EventType, int? Page, int? Limit);

    public sealed record Detail(MessageView Message, string Payload, IReadOnlyList<AttemptView> Attempts);

    public sealed record ReplayCount(int Replayed);

    private const string Select = """
        select m.id, 'msg_' || m.outbox_id as webhook_id, m.endpoint_id, e.url as endpoint_url, m.event_type, m.status, m.attempts,
               m.next_attempt_at, m.last_status, m.last_error, m.created_at, m.delivered_at
        from webhooks.messages m join webhooks.endpoints e on e.id = m.endpoint_id
        """;

    public static async Task<OffsetPage<MessageView>> List(NpgsqlConnection connection, long merchantId, Query query)
    {
        var paging = PageRequest.From(query.Page, query.Limit);
        if (query.Status is { Length: > 0 } status && !Statuses.Contains(status))
            throw ApiException.Invalid("status", $"must be one of {string.Join(", ", Statuses)}");
        var where = "m.merchant_id = @merchantId"
            + (query.EndpointId is null ? "" : " and m.endpoint_id = @EndpointId")
            + (string.IsNullOrEmpty(query.Status) ? "" : " and m.status = @Status")
            + (string.IsNullOrEmpty(query.EventType) ? "" : " and m.event_type = @EventType");
        var args = new { merchantId, query.EndpointId, query.Status, query.EventType, limit = paging.Size, offset = paging.Offset };
        var total = await connection.ExecuteScalarAsync<long>($"select count(*) from webhooks.messages m where {where}", args);
        var rows = await connection.QueryAsync<MessageView>($"{Select} where {where} order by m.id desc limit @limit offset @offset", args);
        return OffsetPage<MessageView>.Of(rows.ToList(), total, paging);
    }

    public static async Task<Detail?> One(NpgsqlConnection connection, long merchantId, long id)
    {
        var message = await connection.QuerySingleOrDefaultAsync<MessageView>($"{Select} where m.id = @id and m.merchant_id = @merchantId", new { id, merchantId });
        if (message is null) return null;
        // Not ExecuteScalar: Npgsql's scalar reads a long value with synchronous I/O (see Database.LeaveEventThread).
        var payload = await connection.QuerySingleAsync<string>(
            "select o.payload::text from kernel.outbox o join webhooks.messages m on m.outbox_id = o.id where m.id = @id", new { id });
        var attempts = await connection.QueryAsync<AttemptView>(
            "select attempt, at, status_code, latency_ms, response_excerpt, error from webhooks.attempts where message_id = @id order by id", new { id });
        return new Detail(message, payload!, attempts.ToList());
    }

    /// <summary>Sends one message again (a fresh schedule, the same webhook-id). Not while it is queued or on the way, nor to a disabled endpoint.</summary>
    public static async Task Replay(NpgsqlConnection connection, long merchantId, long id, DateTimeOffset now)
    {
        var state = await connection.QuerySingleOrDefaultAsync<(string Status, bool Enabled)?>(
            """
            select m.status, e.enabled from webhooks.messages m join webhooks.endpoints e on e.id = m.endpoint_id
            where m.id = @id and m.merchant_id = @merchantId
            """, new { id, merchantId }) ?? throw ApiException.NotFound("Webhook message not found");
        if (!state.Enabled) throw ApiException.Conflict("The endpoint is disabled: enable it and its held messages go out");
        if (state.Status is "pending" or "delivering") throw ApiException.Conflict("This message is already queued");
        await connection.ExecuteAsync(
            """
            update webhooks.messages set status = 'pending', attempts = 0, next_attempt_at = @now, claimed_until = null
            where id = @id and merchant_id = @merchantId and status in ('failed', 'delivered', 'held')
            """, new { id, merchantId, now });
    }

    /// <summary>Every failed message of an endpoint created at or after <paramref name="since"/>, sent again.</summary>
    public static async Task<int> ReplayFailed(NpgsqlConnection connection, long merchantId, long endpointId, DateTimeOffset since, DateTimeOffset now)
    {
        var enabled = await connection.ExecuteScalarAsync<bool?>(
            "select enabled from webhooks.endpoints where id = @endpointId and merchant_id = @merchantId", new { endpointId, merchantId })
            ?? throw ApiException.NotFound("Webhook endpoint not found");
        if (!enabled) throw ApiException.Conflict("The endpoint is disabled: enable it and its held messages go out");
        return await connection.ExecuteAsync(
            """
            update webhooks.messages set status = 'pending', attempts = 0, next_attempt_at = @now, claimed_until = null
            where endpoint_id = @endpointId and merchant_id = @merchantId and status = 'failed' and created_at >= @since
            """, new { endpointId, merchantId, since, now });
    }

    public static async Task<IResult> HandleList(ClaimsPrincipal user, NpgsqlDataSource db, [FromQuery(Name = "endpoint_id")] long? endpointId,
        string? status, [FromQuery(Name = "event_type")] string? eventType, int? page, int? limit)
    {
        await using var connection = await db.OpenConnectionAsync();
        return Results.Ok(await List(connection, user.MerchantId(), new Query(endpointId, status, eventType, page, limit)));
    }

    public static async Task<IResult> HandleOne(long id, ClaimsPrincipal user, NpgsqlDataSource db)
    {
        await using var connection = await db.OpenConnectionAsync();
        return Results.Ok(await One(connection, user.MerchantId(), id) ?? throw ApiException.NotFound("Webhook message not found"));
    }

    public static async Task<IResult> HandleReplay(long id, ClaimsPrincipal user, NpgsqlDataSource db, TimeProvider clock, WebhookDispatcher dispatcher)
    {
        await using var connection = await db.OpenConnectionAsync();
        await Replay(connection, user.MerchantId(), id, clock.GetUtcNow());
        dispatcher.Wake();
        return Results.Accepted(value: new ReplayCount(1));
    }

    public static async Task<IResult> HandleReplayFailed(long id, DateTimeOffset? since, ClaimsPrincipal user, NpgsqlDataSource db, TimeProvider clock,
        WebhookDispatcher dispatcher)
    {
        if (since is null) throw ApiException.Invalid("since", "is required: the time from which failed messages are sent again");
        await using var connection = await db.OpenConnectionAsync();
        var count = await ReplayFailed(connection, user.MerchantId(), id, since.Value, clock.GetUtcNow());
        dispatcher.Wake();
        return Results.Accepted(value: new ReplayCount(count));
    }
}
