using System.Security.Claims;
using System.Text.Json;
using Dapper;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Http;
using Npgsql;

namespace Gatehouse.Webhooks;

/// <summary>An endpoint as the API and admin show it; the secret only when it is created or rotated.</summary>
public sealed record EndpointView(long Id, string Url, string Description, IReadOnlyList<string> EventTypes, string Format, bool Enabled,
    string? DisabledReason, DateTimeOffset? FailingSince, DateTimeOffset? PreviousSecretExpiresAt, DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt, string? Secret = null);

/// <summary>
/// A merchant's webhook endpoints: POST /v2/webhooks (url, event_types, format standard|inplayer, description,
/// enabled), GET /v2/webhooks[/{id}], PATCH /v2/webhooks/{id}, DELETE /v2/webhooks/{id}, and
/// POST /v2/webhooks/{id}/rotate-secret (overlap_hours, default 24: both secrets sign until then). The secret is
/// answered once, on create and on rotate. Enabling a disabled endpoint sends what was held for it.
/// </summary>
public static class WebhookEndpoints
{
    /// <summary>The events Gatehouse sends.</summary>
    public static readonly string[] EventTypes =
    [
        "customer.registered", "asset.access.granted", "asset.access.revoked", "asset.access.extended", "voucher.redeemed", "payment.card.success",
        "payment.card.failed", "subscribe.success", "subscribe.failed", "subscribe.cancelled.success", "subscribe.expired", "report.ready",
        "bulk.job.completed",
    ];

    public static readonly string[] Formats = ["standard", "inplayer"];

    /// <summary>event_types as a list (event_types[]=a&amp;event_types[]=b, or JSON) or one comma-separated value; empty: all.</summary>
    public sealed record Request(string? Url, JsonElement? EventTypes, string? Format, string? Description, bool? Enabled);

    public sealed record RotateRequest(double? OverlapHours);

    private const string Select = """
        select id, url, description, array_to_string(event_types, ',') as event_types, format, enabled, disabled_reason, failing_since, previous_secret_expires_at, created_at, updated_at
        from webhooks.endpoints
        """;

    private sealed record Row(long Id, string Url, string Description, string EventTypes, string Format, bool Enabled, string? DisabledReason,
        DateTimeOffset? FailingSince, DateTimeOffset? PreviousSecretExpiresAt, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

    private static EndpointView View(Row r, string? secret = null) => new(r.Id, r.Url, r.Description, r.EventTypes.Split(',', StringSplitOptions.RemoveEmptyEntries), r.Format, r.Enabled,
        r.DisabledReason, r.FailingSince, r.PreviousSecretExpiresAt, r.CreatedAt, r.UpdatedAt, secret);

    public static async Task<IReadOnlyList<EndpointView>> List(NpgsqlConnection connection, long merchantId) =>
        (await connection.QueryAsync<Row>($"{Select} where merchant_id = @merchantId order by id", new { merchantId })).Select(r => View(r)).ToList();

    public static async Task<EndpointView?> One(NpgsqlConnection connection, long merchantId, long id, NpgsqlTransaction? transaction = null) =>
        await connection.QuerySingleOrDefaultAsync<Row>($"{Select} where id = @id and merchant_id = @merchantId", new { id, merchantId }, transaction)
            is { } row ? View(row) : null;

    public static async Task<EndpointView> Create(NpgsqlConnection connection, WebhookTargets targets, long merchantId, Request request, DateTimeOffset now)
    {
        var (url, types, format) = Check(targets, request, requireUrl: true);
        var secret = WebhookSignature.NewSecret();
        var id = await connection.ExecuteScalarAsync<long>(
            """
            insert into webhooks.endpoints (merchant_id, url, description, event_types, format, enabled, secret, created_at, updated_at)
            values (@merchantId, @url, @description, coalesce(@types::text[], '{}'), @format, @enabled, @secret, @now, @now)
            returning id
            """, new { merchantId, url, description = request.Description?.Trim() ?? "", types, format = format ?? "standard",
                       enabled = request.Enabled ?? true, secret, now });
        return (await One(connection, merchantId, id))! with { Secret = secret };
    }

    public static async Task<EndpointView> Update(NpgsqlConnection connection, WebhookTargets targets, long merchantId, long id, Request request,
        DateTimeOffset now)
    {
        var (url, types, format) = Check(targets, request, requireUrl: false);
        await using var transaction = await connection.BeginTransactionAsync();
        var updated = await connection.ExecuteAsync(
            """
            update webhooks.endpoints
            set url = coalesce(@url, url), description = coalesce(@description, description), event_types = coalesce(@types::text[], event_types),
                format = coalesce(@format, format), enabled = coalesce(@enabled, enabled),
                disabled_reason = case when coalesce(@enabled, enabled) then null else coalesce(disabled_reason, 'Disabled by the merchant') end,
                failing_since = case when @enabled and not enabled then null else failing_since end,
                updated_at = @now
            where id = @id and merchant_id = @merchantId
            """, new { url, description = request.Description?.Trim(), types, format, enabled = request.Enabled, now, id, merchantId }, transaction);
        if (updated == 0) throw ApiException.NotFound("Webhook endpoint not found");
        // Enabled: what was held while it was disabled goes out now. Disabled: what is waiting is held.
        if (request.Enabled == true)
            await connection.ExecuteAsync(
                "update webhooks.messages set status = 'pending', attempts = 0, next_attempt_at = @now where endpoint_id = @id and status = 'held'",
                new { id, now }, transaction);
        else if (request.Enabled == false)
            await connection.ExecuteAsync(
                "update webhooks.messages set status = 'held', next_attempt_at = null where endpoint_id = @id and status = 'pending'",
                new { id }, transaction);
        await transaction.CommitAsync();
        return (await One(connection, merchantId, id))!;
    }

    public static async Task Delete(NpgsqlConnection connection, long merchantId, long id)
    {
        if (await connection.ExecuteAsync("delete from webhooks.endpoints where id = @id and merchant_id = @merchantId", new { id, merchantId }) == 0)
            throw ApiException.NotFound("Webhook endpoint not found");
    }

    /// <summary>A new secret; the old one keeps signing (a second signature) for the overlap, so receivers can switch without losing a message.</summary>
    public static async Task<EndpointView> RotateSecret(NpgsqlConnection connection, long merchantId, long id, double? overlapHours, DateTimeOffset now)
    {
        var overlap = overlapHours ?? 24;
        if (overlap is < 0 or > 24 * 7) throw ApiException.Invalid("overlap_hours", "must be from 0 to 168");
        var secret = WebhookSignature.NewSecret();
        var rotated = await connection.ExecuteAsync(
            """
            update webhooks.endpoints set previous_secret = secret, previous_secret_expires_at = @until, secret = @secret, updated_at = @now
            where id = @id and merchant_id = @merchantId
            """, new { secret, until = now.AddHours(overlap), now, id, merchantId });
        if (rotated == 0) throw ApiException.NotFound("Webhook endpoint not found");
        return (await One(connection, merchantId, id))! with { Secret = secret };
    }

    private static (string? Url, string[]? Types, string? Format) Check(WebhookTargets targets, Request request, bool requireUrl)
    {
        var errors = new FieldErrors();
        string? url = null;
        if (requireUrl || request.Url is not null)
        {
            try { url = targets.Check(request.Url).ToString(); }
            catch (ApiException e) when (e.Errors is { } fields) { foreach (var (k, v) in fields) errors.Add(k, v); }
        }
        var types = ReadTypes(request.EventTypes);
        if (types?.FirstOrDefault(t => !EventTypes.Contains(t)) is { } unknown)
            errors.Add("event_types", $"{unknown} is not an event type; they are: {string.Join(", ", EventTypes)}");
        if (request.Format is { } format && !Formats.Contains(format)) errors.Add("format", "must be standard or inplayer");
        if (request.Description?.Length > 500) errors.Add("description", "must be at most 500 characters");
        errors.ThrowIfAny();
        return (url, types, request.Format);
    }

    private static string[]? ReadTypes(JsonElement? value) => value switch
    {
        null => null,
        { ValueKind: JsonValueKind.Null } => null,
        { ValueKind: JsonValueKind.String } s => s.GetString()!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
        { ValueKind: JsonValueKind.Array } a => a.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? e.GetString()!.Trim() : e.GetRawText())
            .Where(t => t.Length > 0).Distinct().ToArray(),
        { ValueKind: JsonValueKind.Object } o => o.EnumerateObject().Select(p => p.Value.ToString().Trim()).Where(t => t.Length > 0).Distinct().ToArray(),
        _ => throw ApiException.Invalid("event_types", "must be a list of event types"),
    };

    public static async Task<IResult> HandleCreate(RequestBody body, ClaimsPrincipal user, NpgsqlDataSource db, WebhookTargets targets, TimeProvider clock)
    {
        await using var connection = await db.OpenConnectionAsync();
        return Results.Json(await Create(connection, targets, user.MerchantId(), body.As<Request>(), clock.GetUtcNow()), Json.Options,
            statusCode: StatusCodes.Status201Created);
    }

    public static async Task<IResult> HandleList(ClaimsPrincipal user, NpgsqlDataSource db)
    {
        await using var connection = await db.OpenConnectionAsync();
        return Results.Ok(await List(connection, user.MerchantId()));
    }

    public static async Task<IResult> HandleOne(long id, ClaimsPrincipal user, NpgsqlDataSource db)
    {
        await using var connection = await db.OpenConnectionAsync();
        return Results.Ok(await One(connection, user.MerchantId(), id) ?? throw ApiException.NotFound("Webhook endpoint not found"));
    }

    public static async Task<IResult> HandleUpdate(long id, RequestBody body, ClaimsPrincipal user, NpgsqlDataSource db, WebhookTargets targets,
        TimeProvider clock)
    {
        await using var connection = await db.OpenConnectionAsync();
        return Results.Ok(await Update(connection, targets, user.MerchantId(), id, body.As<Request>(), clock.GetUtcNow()));
    }

    public static async Task<IResult> HandleDelete(long id, ClaimsPrincipal user, NpgsqlDataSource db)
    {
        await using var connection = await db.OpenConnectionAsync();
        await Delete(connection, user.MerchantId(), id);
        return Results.NoContent();
    }

    public static async Task<IResult> HandleRotate(long id, RequestBody body, ClaimsPrincipal user, NpgsqlDataSource db, TimeProvider clock)
    {
        await using var connection = await db.OpenConnectionAsync();
        var request = body.Fields.Count == 0 ? new RotateRequest(null) : body.As<RotateRequest>();
        return Results.Ok(await RotateSecret(connection, user.MerchantId(), id, request.OverlapHours, clock.GetUtcNow()));
    }
}
