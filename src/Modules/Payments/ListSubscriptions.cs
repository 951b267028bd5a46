using System.Security.Claims;
using Dapper;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Http;
using Npgsql;

namespace Gatehouse.Payments;

/// <summary>
/// Subscriptions. A viewer's own: GET /subscriptions?page&amp;limit&amp;status ({total, page, offset, limit, collection},
/// as the JS SDK's getSubscriptions reads it) and GET /subscriptions/{id}. A merchant's: GET /v2/subscriptions with
/// search (viewer email, voucher code), status and date filters (the Subscriptions tab calls the same use case), and
/// GET /v2/subscriptions/{id} with its charges, rebills included.
/// </summary>
public static class ListSubscriptions
{
    public static readonly string[] Statuses = ["pending", "active", "cancelled", "expired", "failed"];

    public sealed record Query(string? Search, string? Status, DateTimeOffset? StartDate, DateTimeOffset? EndDate, int? Page, int? Limit);

    public sealed record Detail(SubscriptionView Subscription, IReadOnlyList<TransactionView> Payments);

    /// <summary>page=0 is the first page too: the JS SDK's getSubscriptions asks for page 0 unless told otherwise.</summary>
    public static async Task<IResult> HandleMine(HttpContext http, ClaimsPrincipal user, NpgsqlDataSource db, int? page, int? limit, string? status)
    {
        await using var connection = await db.OpenConnectionAsync();
        return Results.Ok(await Run(connection, user.MerchantId(), user.ConsumerId(), new Query(null, status, null, null, page is 0 ? 1 : page, limit),
            BaseUrl(http)));
    }

    public static async Task<IResult> HandleMineOne(long id, HttpContext http, ClaimsPrincipal user, NpgsqlDataSource db)
    {
        await using var connection = await db.OpenConnectionAsync();
        var subscription = await Subscriptions.One(connection, user.MerchantId(), id, BaseUrl(http));
        return subscription is null || subscription.ConsumerId != user.ConsumerId()
            ? throw ApiException.NotFound("Subscription not found")
            : Results.Ok(subscription);
    }

    public static async Task<IResult> HandleMerchant(HttpContext http, ClaimsPrincipal user, NpgsqlDataSource db, string? search, string? status,
        DateTimeOffset? startDate, DateTimeOffset? endDate, int? page, int? limit)
    {
        await using var connection = await db.OpenConnectionAsync();
        return Results.Ok(await Run(connection, user.MerchantId(), null, new Query(search, status, startDate, endDate, page, limit), BaseUrl(http)));
    }

    public static async Task<IResult> HandleMerchantOne(long id, HttpContext http, ClaimsPrincipal user, NpgsqlDataSource db)
    {
        await using var connection = await db.OpenConnectionAsync();
        return Results.Ok(await One(connection, user.MerchantId(), id, BaseUrl(http)) ?? throw ApiException.NotFound("Subscription not found"));
    }

    public static async Task<OffsetPage<SubscriptionView>> Run(NpgsqlConnection connection, long merchantId, long? consumerId, Query query, string baseUrl)
    {
        var paging = PageRequest.From(query.Page, query.Limit);
        var where = new List<string> { "s.merchant_id = @merchantId" };
        if (consumerId is not null) where.Add("s.consumer_id = @consumerId");
        if (!string.IsNullOrWhiteSpace(query.Status))
        {
            if (!Statuses.Contains(query.Status)) throw ApiException.Invalid("status", $"must be one of {string.Join(", ", Statuses)}");
            where.Add("s.status = @Status");
        }
        if (query.StartDate is not null) where.Add("s.created_at >= @from");
        if (query.EndDate is not null) where.Add("s.created_at < @to");
        string? email = null;
        var q = query.Search?.Trim();
        if (!string.IsNullOrEmpty(q))
        {
            (var viewer, email) = HistoryFilters.ViewerEmail("s.consumer_id", q);
            where.Add($"({viewer} or lower(s.voucher_code) = lower(@q))");
        }
        var args = new
        {
            merchantId, consumerId, query.Status, q, email, limit = paging.Size, offset = paging.Offset,
            from = HistoryFilters.DayStart(query.StartDate), to = HistoryFilters.DayEnd(query.EndDate),
        };
        var condition2 = string.Join(" and ", where);
        var total = await connection.ExecuteScalarAsync<long>($"select count(*) from payments.subscriptions s where {condition2}", args);
        var rows = await connection.QueryAsync<Subscriptions.Row>(
            $"{Subscriptions.Select} where {condition2} order by s.created_at desc, s.id desc limit @limit offset @offset", args);
        return OffsetPage<SubscriptionView>.Of(rows.Select(r => Subscriptions.View(r, baseUrl)).ToList(), total, paging);
    }

    /// <summary>A subscription with every charge made on it, newest first: the merchant's API and the subscription's admin page.</summary>
    public static async Task<Detail?> One(NpgsqlConnection connection, long merchantId, long id, string baseUrl)
    {
        var subscription = await Subscriptions.One(connection, merchantId, id, baseUrl);
        if (subscription is null) return null;
        var payments = await connection.QueryAsync<Transactions.Row>(
            $"{Transactions.Select} where p.subscription_id = @id and p.merchant_id = @merchantId order by p.created_at desc, p.id desc",
            new { id, merchantId });
        return new Detail(subscription, payments.Select(Transactions.View).ToList());
    }

    internal static string BaseUrl(HttpContext http) => $"{http.Request.Scheme}://{http.Request.Host}{http.Request.PathBase}";
}
