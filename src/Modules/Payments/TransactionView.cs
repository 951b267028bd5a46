using Dapper;
using Npgsql;

namespace Gatehouse.Payments;

/// <summary>The gift part of a transaction: the voucher its receiver got.</summary>
public sealed record GiftView(long Id, string Code, string BuyerEmail, string ReceiverEmail);

/// <summary>
/// A payment as InPlayer's transaction row shapes it (payments history, reports, the payment.card.* events), plus
/// Gatehouse's id, status, price before the voucher, failure reason and subscription. Times in Unix seconds; item_id and
/// item_title are the package's for a package purchase.
/// </summary>
public sealed record TransactionView(
    long Id, string Status, string ActionType, long AccessFeeId, string AccessFeeDescription, decimal Amount, decimal ChargedAmount,
    string CurrencyIso, long ConsumerId, string ConsumerEmail, long CreatedAt, long? CompletedAt, long? ExpiresAt, string GatewayName,
    GiftView? Gift, long? ItemAccessId, long ItemId, string ItemTitle, string ItemType, long MerchantId, string PaymentMethodName,
    string? CardLast4, string? TransactionToken, string? VoucherCode, int? VoucherDiscount, long? SubscriptionId, string? FailureReason);

public static class Transactions
{
    internal sealed record Row(long Id, string Status, string ActionType, long AccessFeeId, string FeeDescription, decimal Amount,
        decimal ChargedAmount, string Currency, long ConsumerId, string Email, DateTimeOffset CreatedAt, DateTimeOffset? CompletedAt,
        DateTimeOffset? ExpiresAt, string Gateway, long? GiftVoucherId, string? GiftCode, string? GiftReceiverEmail, long? PassId,
        long? ItemId, long? PackageId, string Title, string? ItemType, long MerchantId, string PaymentMethod, string? CardLast4,
        string? TransactionToken, string? VoucherCode, int? VoucherDiscount, long? SubscriptionId, string? FailureReason);

    /// <summary>The select list and joins every transaction read uses; callers add where and order.</summary>
    internal const string Select = """
        select p.id, p.status, p.action_type, p.access_fee_id, f.description as fee_description, p.amount, p.charged_amount, p.currency,
               p.consumer_id, c.email, p.created_at, p.completed_at, pa.expires_at, p.gateway, p.gift_voucher_id, p.gift_code,
               p.gift_receiver_email, p.pass_id, p.item_id, p.package_id, coalesce(i.title, pk.title, '') as title, i.item_type,
               p.merchant_id, p.payment_method, p.card_last4, p.transaction_token, p.voucher_code, p.voucher_discount,
               p.subscription_id, p.failure_reason
        from payments.payments p
        join accounts.consumers c on c.id = p.consumer_id
        join access.access_fees f on f.id = p.access_fee_id
        left join access.items i on i.id = p.item_id
        left join access.packages pk on pk.id = p.package_id
        left join access.passes pa on pa.id = p.pass_id
        """;

    internal static TransactionView View(Row r) => new(
        r.Id, r.Status, r.ActionType, r.AccessFeeId, r.FeeDescription, r.Amount, r.ChargedAmount, r.Currency.Trim(), r.ConsumerId, r.Email,
        r.CreatedAt.ToUnixTimeSeconds(), r.CompletedAt?.ToUnixTimeSeconds(), r.ExpiresAt?.ToUnixTimeSeconds(), r.Gateway,
        r.GiftVoucherId is { } gift ? new GiftView(gift, r.GiftCode!, r.Email, r.GiftReceiverEmail!) : null,
        r.PassId, r.ItemId ?? r.PackageId!.Value, r.Title, r.ItemType ?? "package", r.MerchantId, r.PaymentMethod, r.CardLast4,
        r.TransactionToken, r.VoucherCode, r.VoucherDiscount, r.SubscriptionId, r.FailureReason);

    public static async Task<TransactionView?> One(NpgsqlConnection connection, long merchantId, long paymentId, NpgsqlTransaction? transaction = null)
    {
        var row = await connection.QuerySingleOrDefaultAsync<Row>(
            Select + " where p.id = @paymentId and p.merchant_id = @merchantId", new { paymentId, merchantId }, transaction);
        return row is null ? null : View(row);
    }
}
