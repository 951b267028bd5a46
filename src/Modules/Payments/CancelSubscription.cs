using System.Security.Claims;
using Dapper;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Http;
using Npgsql;

namespace Gatehouse.Payments;

/// <summary>
/// Cancels a subscription: no more rebills; the pass the viewer paid for runs to its end. The viewer calls the
/// subscription's unsubscribe_url (GET /subscriptions/cancel/{cancel_token}, as the JS SDK's cancelSubscription does),
/// the merchant POST /v2/subscriptions/{id}/cancel or the subscription's admin page. subscribe.cancelled.success is
/// enqueued in the same transaction. Cancelling one that is not active is a 409.
/// </summary>
public static class CancelSubscription
{
    /// <summary>InPlayer's answer to the unsubscribe_url.</summary>
    public sealed record Cancelled(int Code, string Subscription, string Operation, string Description, string Status, long Timestamp);

    public static async Task<SubscriptionView> Cancel(NpgsqlDataSource db, long merchantId, long id, string actor, DateTimeOffset now,
        string baseUrl = "")
    {
        await using var connection = await db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var status = await connection.ExecuteScalarAsync<string?>(
            "select status from payments.subscriptions where id = @id and merchant_id = @merchantId for update", new { id, merchantId }, transaction)
            ?? throw ApiException.NotFound("Subscription not found");
        if (status != "active") throw ApiException.Conflict($"This subscription is {status}: only an active subscription can be cancelled");
        // A rebill already at the gateway settles on its own; the cancellation stops every later one.
        await connection.ExecuteAsync(
            """
            update payments.subscriptions set status = 'cancelled', cancelled_at = @now, cancelled_by = @actor, next_rebill_at = null, updated_at = @now
            where id = @id
            """, new { id, now, actor }, transaction);
        var view = (await Subscriptions.One(connection, merchantId, id, baseUrl, transaction))!;
        // Events carry the path of unsubscribe_url: there is no request to take a host from.
        await Outbox.Enqueue(connection, transaction, merchantId, "subscribe.cancelled.success",
            view with { UnsubscribeUrl = $"/subscriptions/cancel/{view.CancelToken}" }, now);
        await transaction.CommitAsync();
        return view;
    }

    /// <summary>GET /subscriptions/cancel/{cancel_token}: the viewer's own subscription (or any of the merchant's, with its token).</summary>
    public static async Task<IResult> HandleUnsubscribe(string cancelToken, ClaimsPrincipal user, NpgsqlDataSource db, TimeProvider clock)
    {
        long? id;
        await using (var connection = await db.OpenConnectionAsync())
            id = await connection.ExecuteScalarAsync<long?>(
                "select id from payments.subscriptions where cancel_token = @cancelToken and merchant_id = @merchantId and (@consumerId::bigint is null or consumer_id = @consumerId)",
                new { cancelToken, merchantId = user.MerchantId(), consumerId = user.IsConsumer() ? user.ConsumerId() : (long?)null });
        if (id is null) throw ApiException.NotFound("Subscription not found");
        var now = clock.GetUtcNow();
        var actor = user.IsConsumer() ? $"consumer:{user.ConsumerId()}" : "merchant:api";
        var view = await Cancel(db, user.MerchantId(), id.Value, actor, now);
        return Results.Ok(new Cancelled(200, view.CancelToken, "cancellation", $"Subscription to {view.ItemTitle} cancelled", view.Status,
            now.ToUnixTimeSeconds()));
    }

    /// <summary>POST /v2/subscriptions/{id}/cancel (merchant).</summary>
    public static async Task<IResult> HandleMerchant(long id, HttpContext http, ClaimsPrincipal user, NpgsqlDataSource db, TimeProvider clock)
    {
        return Results.Ok(await Cancel(db, user.MerchantId(), id, "merchant:api", clock.GetUtcNow(), ListSubscriptions.BaseUrl(http)));
    }
}
