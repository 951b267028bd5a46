using System.Security.Claims;
using Dapper;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Http;
using Npgsql;

namespace Gatehouse.Payments;

/// <summary>
/// Payment history. GET /payments/transactions?page&amp;size&amp;startDate&amp;endDate&amp;type&amp;status&amp;search:
/// a merchant's transactions (the Transactions tab calls the same use case), or a viewer's own; answers
/// {collection, total, unique_paying_customers}. GET /v2/accounting/payment-history: a viewer's payments as the JS SDK
/// reads them. GET /v2/payments/{id}: one transaction (merchant).
/// </summary>
public static class ListPayments
{
    public static readonly string[] Types = ["purchase", "subscribe", "rebill", "gift", "voucher"];
    public static readonly string[] Statuses = ["succeeded", "failed", "pending"];

    /// <summary>
    /// search: the viewer's email (the whole address, or exactly its part before or after the @), a voucher code or a
    /// transaction token. start_date and end_date are UTC days, both included.
    /// </summary>
    public sealed record Query(string? Search, DateTimeOffset? StartDate, DateTimeOffset? EndDate, string? Type, string? Status, int? Page, int? Size);

    public sealed record TransactionPage(IReadOnlyList<TransactionView> Collection, long Total, long UniquePayingCustomers, int Page, int Size);

    /// <summary>A payment as the JS SDK's getPaymentHistory reads it.</summary>
    public sealed record HistoryRow(long Id, long MerchantId, long ConsumerId, long GatewayId, string? TransactionToken, string? PaymentToolToken,
        string? TrxToken, string PaymentMethodName, string ActionType, long? ItemAccessId, long ItemId, string ItemType, string ItemTitle,
        decimal ChargedAmount, string CurrencyIso, string Note, string Status, string? VoucherCode, int? VoucherDiscount, long CreatedAt);

    public sealed record History(long Total, IReadOnlyList<HistoryRow> Collection);

    public static async Task<IResult> Handle(ClaimsPrincipal user, NpgsqlDataSource db, string? search, DateTimeOffset? startDate,
        DateTimeOffset? endDate, string? type, string? status, int? page, int? size, int? limit)
    {
        await using var connection = await db.OpenConnectionAsync();
        var query = new Query(search, startDate, endDate, type, status, page, size ?? limit);
        return Results.Ok(await Run(connection, user.MerchantId(), user.IsConsumer() ? user.ConsumerId() : null, query));
    }

    public static async Task<TransactionPage> Run(NpgsqlConnection connection, long merchantId, long? consumerId, Query query)
    {
        var paging = PageRequest.From(query.Page, query.Size);
        var where = new List<string> { "p.merchant_id = @merchantId" };
        if (consumerId is not null) where.Add("p.consumer_id = @consumerId");
        if (!string.IsNullOrWhiteSpace(query.Type))
        {
            if (!Types.Contains(query.Type)) throw ApiException.Invalid("type", $"must be one of {string.Join(", ", Types)}");
            where.Add("p.action_type = @Type");
        }
        if (!string.IsNullOrWhiteSpace(query.Status))
        {
            if (!Statuses.Contains(query.Status)) throw ApiException.Invalid("status", $"must be one of {string.Join(", ", Statuses)}");
            where.Add("p.status = @Status");
        }
        if (query.StartDate is not null) where.Add("p.created_at >= @from");
        if (query.EndDate is not null) where.Add("p.created_at < @to");
        if (query is { StartDate: { } s, EndDate: { } e } && e < s) throw ApiException.Invalid("end_date", "must not be before start_date");
        string? email = null;
        var q = query.Search?.Trim();
        if (!string.IsNullOrEmpty(q))
        {
            (var viewer, email) = HistoryFilters.ViewerEmail("p.consumer_id", q);
            where.Add($"({viewer} or lower(p.voucher_code) = lower(@q) or p.transaction_token = @q)");
            q = q.Length > 200 ? q[..200] : q;
        }
        return await Read(connection, where, new { merchantId, consumerId, query.Type, query.Status, from = HistoryFilters.DayStart(query.StartDate),
            to = HistoryFilters.DayEnd(query.EndDate), q, email, limit = paging.Size, offset = paging.Offset }, paging);
    }

    private static async Task<TransactionPage> Read(NpgsqlConnection connection, List<string> where, object args, PageRequest paging)
    {
        var condition = string.Join(" and ", where);
        var (total, paying) = await connection.QuerySingleAsync<(long, long)>(
            $"""
            select count(*), count(distinct p.consumer_id) filter (where p.status = 'succeeded' and p.charged_amount > 0)
            from payments.payments p where {condition}
            """, args);
        var rows = await connection.QueryAsync<Transactions.Row>(
            $"{Transactions.Select} where {condition} order by p.created_at desc, p.id desc limit @limit offset @offset", args);
        return new TransactionPage(rows.Select(Transactions.View).ToList(), total, paying, paging.Page, paging.Size);
    }

    /// <summary>GET /v2/accounting/payment-history (viewer): the viewer's own payments, newest first.</summary>
    public static async Task<IResult> HandleHistory(ClaimsPrincipal user, NpgsqlDataSource db, int? page, int? size)
    {
        await using var connection = await db.OpenConnectionAsync();
        var found = await Run(connection, user.MerchantId(), user.ConsumerId(), new Query(null, null, null, null, null, page, size));
        return Results.Ok(new History(found.Total, found.Collection.Select(t => new HistoryRow(t.Id, t.MerchantId, t.ConsumerId, 0,
            t.TransactionToken, t.CardLast4 is null ? null : $"card ending {t.CardLast4}", t.TransactionToken, t.PaymentMethodName,
            t.ActionType, t.ItemAccessId, t.ItemId, t.ItemType, t.ItemTitle, t.ChargedAmount, t.CurrencyIso,
            t.FailureReason ?? (t.VoucherCode is null ? "" : $"Voucher {t.VoucherCode} ({t.VoucherDiscount} % off)"), t.Status,
            t.VoucherCode, t.VoucherDiscount, t.CreatedAt)).ToList()));
    }

    /// <summary>GET /v2/payments/{id} (merchant).</summary>
    public static async Task<IResult> HandleOne(long id, ClaimsPrincipal user, NpgsqlDataSource db)
    {
        await using var connection = await db.OpenConnectionAsync();
        return Results.Ok(await Transactions.One(connection, user.MerchantId(), id) ?? throw ApiException.NotFound("Payment not found"));
    }
}
