using Dapper;
using Gatehouse.Access;
using Gatehouse.Kernel;
using Gatehouse.Vouchers;
using Npgsql;

namespace Gatehouse.Payments;

/// <summary>
/// Settles a pending payment with the gateway's answer: one transaction per outcome, holding every row and event of it.
/// A success marks the payment, gives what was bought (a pass, a gift voucher, an active subscription, an extended pass
/// for a rebill) and enqueues payment.card.success with voucher.redeemed and subscribe.success as they apply. A failure
/// marks the payment, gives the voucher use back, fails the new subscription or schedules the rebill's retry (expiring
/// the subscription after the last), and enqueues payment.card.failed with subscribe.failed or subscribe.expired.
/// Checkout, the rebill job and the recovery of interrupted payments all settle through here; a payment already settled
/// (by another instance) is left as it is.
/// </summary>
public static class PaymentOutcome
{
    /// <summary>After a declined rebill the next attempt comes this much later; after the last one the subscription expires.</summary>
    public static readonly TimeSpan[] RetryDelays = [TimeSpan.FromDays(1), TimeSpan.FromDays(3), TimeSpan.FromDays(5)];

    internal sealed record Pending(long Id, long MerchantId, long ConsumerId, long AccessFeeId, long? ItemId, long? PackageId,
        long? SubscriptionId, string ActionType, decimal ChargedAmount, string Currency, string? VoucherCode, long? RedemptionId,
        string? GiftReceiverEmail, int? Cycle, bool IsTrial);

    private sealed record FeeTerms(int PeriodQuantity, string Period, int? TrialQuantity, string? TrialPeriod);

    private sealed record Billing(DateTimeOffset? AnchorAt, int PeriodsFromAnchor, int PeriodQuantity, string Period, long? PassId);

    public static async Task<TransactionView> Settle(NpgsqlDataSource db, long merchantId, long paymentId, ChargeResult result,
        DateTimeOffset now, bool isDecline = true)
    {
        await using var connection = await db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var payment = await connection.QuerySingleOrDefaultAsync<Pending>(
            """
            select id, merchant_id, consumer_id, access_fee_id, item_id, package_id, subscription_id, action_type, charged_amount,
                   currency, voucher_code, redemption_id, gift_receiver_email, cycle, is_trial
            from payments.payments where id = @paymentId and merchant_id = @merchantId and status = 'pending'
            for update
            """, new { paymentId, merchantId }, transaction);
        if (payment is not null)
        {
            if (result.Succeeded) await Succeed(connection, transaction, payment with { Currency = payment.Currency.Trim() }, result, now);
            else await Fail(connection, transaction, payment, result.DeclineReason ?? "Declined", result.Last4, now, isDecline);
        }
        var view = (await Transactions.One(connection, merchantId, paymentId, transaction))!;
        await transaction.CommitAsync();
        return view;
    }

    private static async Task Succeed(NpgsqlConnection connection, NpgsqlTransaction transaction, Pending payment, ChargeResult result,
        DateTimeOffset now)
    {
        await connection.ExecuteAsync(
            """
            update payments.payments set status = 'succeeded', transaction_token = @TransactionToken, card_last4 = coalesce(@Last4, card_last4),
                   completed_at = @now
            where id = @Id
            """, new { result.TransactionToken, result.Last4, now, payment.Id }, transaction);
        var fee = await connection.QuerySingleAsync<FeeTerms>(
            "select period_quantity, period, trial_quantity, trial_period from access.access_fees where id = @AccessFeeId and merchant_id = @MerchantId",
            new { payment.AccessFeeId, payment.MerchantId }, transaction);
        var resource = new Resource(payment.ItemId, payment.PackageId);
        var actor = payment.ActionType == "rebill" ? "system:rebill" : $"consumer:{payment.ConsumerId}";
        long? passId = null;

        switch (payment.ActionType)
        {
            case "purchase":
                passId = (await GrantAccess.Grant(connection, transaction, new GrantAccess.Pass(payment.MerchantId, payment.ConsumerId, resource,
                    "purchased", "payment", payment.Id, now, GrantAccess.PeriodEnd(now, fee.PeriodQuantity, fee.Period), payment.AccessFeeId,
                    false, actor, payment.VoucherCode), now)).ItemAccessId;
                break;

            case "gift":
                var buyer = await connection.ExecuteScalarAsync<string>("select email from accounts.consumers where id = @ConsumerId",
                    new { payment.ConsumerId }, transaction);
                var gift = await GiftVouchers.Create(connection, transaction, new GiftVouchers.Gift(payment.MerchantId, buyer!,
                    payment.GiftReceiverEmail!, payment.ItemId!.Value, payment.AccessFeeId, payment.ChargedAmount, payment.Currency), now);
                await connection.ExecuteAsync("update payments.payments set gift_voucher_id = @Id, gift_code = @Code where id = @paymentId",
                    new { gift.Id, gift.Code, paymentId = payment.Id }, transaction);
                break;

            case "subscribe":
                var periodEnd = payment.IsTrial
                    ? GrantAccess.PeriodEnd(now, fee.TrialQuantity!.Value, fee.TrialPeriod!)
                    : GrantAccess.PeriodEnd(now, fee.PeriodQuantity, fee.Period);
                passId = (await GrantAccess.Grant(connection, transaction, new GrantAccess.Pass(payment.MerchantId, payment.ConsumerId, resource,
                    "purchased", "payment", payment.Id, now, periodEnd, payment.AccessFeeId, payment.IsTrial, actor, payment.VoucherCode), now)).ItemAccessId;
                // Rebills fall on the anchor and whole periods after it: the end of the trial or of the first period.
                await connection.ExecuteAsync(
                    """
                    update payments.subscriptions set status = 'active', payment_token = @PaymentToken, card_last4 = @Last4, pass_id = @passId,
                           anchor_at = @periodEnd, periods_from_anchor = 0, next_rebill_at = @periodEnd, charges = @charges, cycle = 0,
                           pending_payment_id = null, updated_at = @now
                    where id = @SubscriptionId
                    """, new { result.PaymentToken, result.Last4, passId, periodEnd, charges = payment.IsTrial ? 0 : 1, now, payment.SubscriptionId },
                    transaction);
                var subscribed = (await Subscriptions.One(connection, payment.MerchantId, payment.SubscriptionId!.Value, "", transaction))!;
                await Outbox.Enqueue(connection, transaction, payment.MerchantId, "subscribe.success", subscribed, now);
                break;

            case "rebill":
                var billing = await connection.QuerySingleAsync<Billing>(
                    """
                    select anchor_at, periods_from_anchor, period_quantity, period, pass_id from payments.subscriptions
                    where id = @SubscriptionId for update
                    """, new { payment.SubscriptionId }, transaction);
                var anchor = billing.AnchorAt!.Value;
                var periods = billing.PeriodsFromAnchor + 1;
                var next = GrantAccess.PeriodEnd(anchor, billing.PeriodQuantity * periods, billing.Period);
                if (next <= now)
                {
                    // Down for longer than a period: the paid period starts now rather than charging for the time missed.
                    (anchor, periods) = (now, 1);
                    next = GrantAccess.PeriodEnd(now, billing.PeriodQuantity, billing.Period);
                }
                await connection.ExecuteAsync(
                    """
                    update payments.subscriptions set charges = charges + 1, cycle = @Cycle, anchor_at = @anchor, periods_from_anchor = @periods,
                           next_rebill_at = case when status = 'active' then @next end, failed_attempts = 0, pending_payment_id = null, updated_at = @now
                    where id = @SubscriptionId
                    """, new { payment.Cycle, anchor, periods, next, now, payment.SubscriptionId }, transaction);
                if (billing.PassId is { } pass)
                {
                    var current = await Passes.One(connection, payment.MerchantId, pass, now, transaction);
                    if (current is { Revoked: false } && current.ExpiresAt < next.ToUnixTimeSeconds())
                        await ExtendAccess.Extend(connection, transaction, payment.MerchantId, pass, next, actor, now);
                    passId = pass;
                }
                break;
        }

        if (passId is not null)
            await connection.ExecuteAsync("update payments.payments set pass_id = @passId where id = @Id", new { passId, payment.Id }, transaction);
        if (payment.RedemptionId is { } redemption)
            await RedeemVoucher.EnqueueRedeemed(connection, transaction, payment.MerchantId, redemption, passId, payment.ChargedAmount,
                payment.Currency, now);
        var view = (await Transactions.One(connection, payment.MerchantId, payment.Id, transaction))!;
        await Outbox.Enqueue(connection, transaction, payment.MerchantId, "payment.card.success", view, now);
    }

    private static async Task Fail(NpgsqlConnection connection, NpgsqlTransaction transaction, Pending payment, string reason, string? last4,
        DateTimeOffset now, bool isDecline)
    {
        if (payment.RedemptionId is { } redemption)
            await RedeemVoucher.GiveBack(connection, transaction, payment.MerchantId, redemption);
        await connection.ExecuteAsync(
            """
            update payments.payments set status = 'failed', failure_reason = @reason, card_last4 = coalesce(@last4, card_last4),
                   redemption_id = null, completed_at = @now
            where id = @Id
            """, new { reason, last4, now, payment.Id }, transaction);

        if (payment.ActionType == "subscribe")
        {
            await connection.ExecuteAsync(
                "update payments.subscriptions set status = 'failed', pending_payment_id = null, updated_at = @now where id = @SubscriptionId",
                new { now, payment.SubscriptionId }, transaction);
            await EnqueueSubscription(connection, transaction, payment, "subscribe.failed", now);
        }
        else if (payment.ActionType == "rebill")
        {
            // An interrupted attempt (the gateway never saw it) is not a decline: the subscription is simply due again.
            var (attempts, status) = await connection.QuerySingleAsync<(int, string)>(
                """
                update payments.subscriptions set failed_attempts = failed_attempts + @counts, pending_payment_id = null, updated_at = @now
                where id = @SubscriptionId returning failed_attempts, status
                """, new { counts = isDecline ? 1 : 0, now, payment.SubscriptionId }, transaction);
            // Cancelled while this rebill was at the gateway: no retry, and it stays cancelled rather than expiring.
            var declined = isDecline && status == "active";
            if (declined && attempts > RetryDelays.Length)
            {
                await connection.ExecuteAsync(
                    "update payments.subscriptions set status = 'expired', next_rebill_at = null where id = @SubscriptionId",
                    new { payment.SubscriptionId }, transaction);
                await EnqueueSubscription(connection, transaction, payment, "subscribe.expired", now);
            }
            else if (declined)
            {
                await connection.ExecuteAsync(
                    "update payments.subscriptions set next_rebill_at = @retry where id = @SubscriptionId",
                    new { retry = now + RetryDelays[attempts - 1], payment.SubscriptionId }, transaction);
                await EnqueueSubscription(connection, transaction, payment, "subscribe.failed", now);
            }
        }
        var view = (await Transactions.One(connection, payment.MerchantId, payment.Id, transaction))!;
        await Outbox.Enqueue(connection, transaction, payment.MerchantId, "payment.card.failed", view, now);
    }

    private static async Task EnqueueSubscription(NpgsqlConnection connection, NpgsqlTransaction transaction, Pending payment, string type,
        DateTimeOffset now)
    {
        var subscription = (await Subscriptions.One(connection, payment.MerchantId, payment.SubscriptionId!.Value, "", transaction))!;
        await Outbox.Enqueue(connection, transaction, payment.MerchantId, type, subscription, now);
    }
}
