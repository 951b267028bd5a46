using Dapper;
using Npgsql;

namespace Gatehouse.Payments;

/// <summary>
/// A subscription as InPlayer's API and SDK read it: both the API's names (item_id, item_title, next_rebill_date) and the
/// JS SDK's (asset_id, asset_title, next_billing_date), plus the voucher terms, the charge counters and the next charge.
/// Times in Unix seconds.
/// </summary>
public sealed record SubscriptionView(
    long Id, string CancelToken, string Status, string Description, long ItemId, string ItemTitle, long AssetId, string AssetTitle,
    string ResourceType, long AccessFeeId, decimal Amount, decimal ChargedAmount, string FormattedAmount, string Currency, long MerchantId,
    long ConsumerId, string ConsumerEmail, long CreatedAt, long UpdatedAt, long? NextRebillDate, long? NextBillingDate,
    decimal? NextChargeAmount, string UnsubscribeUrl, string? VoucherCode, int Discount, int RebillDiscount, string? DiscountPeriod,
    int? DiscountDuration, int Charges, int FailedAttempts, long? ItemAccessId, string? CardLast4, long? CancelledAt, string? CancelledBy,
    string ActionType, decimal SubscriptionPrice, string PaymentMethodName, SubscriptionAccessType AccessType);

/// <summary>The price option's kind and period, as apps built on the SDK (JW Player's OTT web app) read them.</summary>
public sealed record SubscriptionAccessType(string Name, int Quantity, string Period);

public static class Subscriptions
{
    /// <summary>InPlayer's action_type of a subscription: recurrent while it renews, canceled, or ended.</summary>
    private static string ActionType(string status) => status switch
    {
        "active" => "recurrent",
        "cancelled" => "canceled",
        "pending" => "pending",
        _ => "ended",
    };

    internal sealed record Row(long Id, string CancelToken, string Status, string Description, long? ItemId, long? PackageId, string Title,
        long AccessFeeId, decimal Amount, decimal? ChargedAmount, string Currency, long MerchantId, long ConsumerId, string Email,
        DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, DateTimeOffset? NextRebillAt, string? VoucherCode, int Discount,
        int RebillDiscount, string? DiscountPeriod, int? DiscountDuration, int Charges, int FailedAttempts, long? PassId,
        string? CardLast4, DateTimeOffset? CancelledAt, string? CancelledBy, int PeriodQuantity, string Period, decimal NextChargeAmount);

    internal const string Select = """
        select s.id, s.cancel_token, s.status, s.description, s.item_id, s.package_id, coalesce(i.title, pk.title, '') as title,
               s.access_fee_id, s.amount,
               (select p.charged_amount from payments.payments p
                where p.subscription_id = s.id and p.status = 'succeeded' and not p.is_trial order by p.id desc limit 1) as charged_amount,
               s.currency, s.merchant_id, s.consumer_id, c.email, s.created_at, s.updated_at, s.next_rebill_at, s.voucher_code, s.discount,
               s.rebill_discount, s.discount_period, s.discount_duration, s.charges, s.failed_attempts, s.pass_id, s.card_last4,
               s.cancelled_at, s.cancelled_by, s.period_quantity, s.period,
               payments.charge_amount(s.amount, s.charges, s.discount, s.rebill_discount, s.discount_period, s.discount_duration) as next_charge_amount
        from payments.subscriptions s
        join accounts.consumers c on c.id = s.consumer_id
        left join access.items i on i.id = s.item_id
        left join access.packages pk on pk.id = s.package_id
        """;

    /// <summary><paramref name="baseUrl"/> makes unsubscribe_url absolute (the request's own scheme and host); events carry the path.</summary>
    internal static SubscriptionView View(Row r, string baseUrl)
    {
        var currency = r.Currency.Trim();
        decimal? next = r.Status == "active" ? r.NextChargeAmount : null;
        long? nextDate = r.Status == "active" ? r.NextRebillAt?.ToUnixTimeSeconds() : null;
        return new SubscriptionView(r.Id, r.CancelToken, r.Status, r.Description, r.ItemId ?? r.PackageId!.Value, r.Title,
            r.ItemId ?? r.PackageId!.Value, r.Title, r.PackageId is null ? "item" : "package", r.AccessFeeId, r.Amount, r.ChargedAmount ?? 0m,
            $"{r.Amount:0.00} {currency}", currency, r.MerchantId, r.ConsumerId, r.Email, r.CreatedAt.ToUnixTimeSeconds(),
            r.UpdatedAt.ToUnixTimeSeconds(), nextDate, nextDate, next, $"{baseUrl}/subscriptions/cancel/{r.CancelToken}", r.VoucherCode,
            r.Discount, r.RebillDiscount, r.DiscountPeriod, r.DiscountDuration, r.Charges, r.FailedAttempts, r.PassId, r.CardLast4,
            r.CancelledAt?.ToUnixTimeSeconds(), r.CancelledBy, ActionType(r.Status), r.Amount, "card",
            new SubscriptionAccessType("subscription", r.PeriodQuantity, r.Period));
    }

    public static async Task<SubscriptionView?> One(NpgsqlConnection connection, long merchantId, long id, string baseUrl,
        NpgsqlTransaction? transaction = null)
    {
        var row = await connection.QuerySingleOrDefaultAsync<Row>(
            Select + " where s.id = @id and s.merchant_id = @merchantId", new { id, merchantId }, transaction);
        return row is null ? null : View(row, baseUrl);
    }
}
