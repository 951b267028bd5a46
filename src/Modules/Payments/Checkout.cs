using System.Net.Mail;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Json;
using Dapper;
using Gatehouse.Kernel;
using Gatehouse.Vouchers;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Npgsql;

namespace Gatehouse.Payments;

/// <summary>
/// Checkout on InPlayer's paths: POST /payments and /v2/payments buy a ppv price option (or a gift of it), POST
/// /subscriptions and /v2/subscriptions subscribe to a subscription price option; each takes an optional voucher_code.
/// <list type="number">
/// <item>An access voucher or a 100 % voucher needs no card: the pass is granted and the use recorded, no subscription.</item>
/// <item>Otherwise one transaction takes the voucher use and writes the pending payment (and the pending subscription);
/// the unique indexes on pending payments and live subscriptions refuse a second submission while the first runs.</item>
/// <item>The gateway is called with no transaction open and no lock held, under a timeout, keyed by the payment's reference.</item>
/// <item>The outcome is settled in one transaction (<see cref="PaymentOutcome"/>): the pass, the events, or on a decline
/// the voucher use given back.</item>
/// </list>
/// Idempotency-Key on these routes replays the first answer, so a retried request never charges twice.
/// </summary>
public static class Checkout
{
    /// <summary>Both SDK spellings: access_fee (v1) or access_fee_id (v2); card fields as the JS SDK posts them.</summary>
    internal sealed record Request(long? AccessFee, long? AccessFeeId, long? ItemId, string? Number, string? CardName, int? ExpMonth,
        int? ExpYear, string? Cvv, JsonElement? PaymentMethod, string? VoucherCode, bool? IsGift, string? ReceiverEmail, string? Referrer,
        string? ReturnUrl);

    /// <summary>
    /// InPlayer answers {code, message}; Gatehouse settles at once, so the answer also says what happened: the payment,
    /// the pass, the subscription or the gift voucher.
    /// </summary>
    public sealed record Receipt(int Code, string Message, string Status, long? PaymentId, string? TransactionToken, decimal Amount,
        decimal ChargedAmount, string Currency, string? VoucherCode, int? VoucherDiscount, long? ItemAccessId, long? SubscriptionId,
        GiftView? Gift);

    private sealed record Fee(long Id, long? ItemId, long? PackageId, string AccessType, decimal Amount, string Currency, string Description,
        int? TrialQuantity, bool ItemActive);

    public static Task<IResult> HandlePayment(HttpContext http, RequestBody body, ClaimsPrincipal user, NpgsqlDataSource db,
        PaymentGateways gateways, TimeProvider clock, IConfiguration configuration, VoucherGuesses guesses) =>
        Run(http, body.As<Request>(), "ppv", user, db, gateways, clock, configuration, guesses);

    public static Task<IResult> HandleSubscription(HttpContext http, RequestBody body, ClaimsPrincipal user, NpgsqlDataSource db,
        PaymentGateways gateways, TimeProvider clock, IConfiguration configuration, VoucherGuesses guesses) =>
        Run(http, body.As<Request>(), "subscription", user, db, gateways, clock, configuration, guesses);

    private static async Task<IResult> Run(HttpContext http, Request request, string accessType, ClaimsPrincipal user, NpgsqlDataSource db,
        PaymentGateways gateways, TimeProvider clock, IConfiguration configuration, VoucherGuesses guesses)
    {
        var merchantId = user.MerchantId();
        var consumerId = user.ConsumerId();
        var now = clock.GetUtcNow();
        var feeId = request.AccessFeeId ?? request.AccessFee ?? throw ApiException.Invalid("access_fee_id", "is required");
        var isGift = request.IsGift == true;
        var receiver = request.ReceiverEmail?.Trim();
        var voucherCode = string.IsNullOrWhiteSpace(request.VoucherCode) ? null : request.VoucherCode.Trim();

        await using var connection = await db.OpenConnectionAsync();
        var fee = await connection.QuerySingleOrDefaultAsync<Fee>(
            """
            select f.id, f.item_id, f.package_id, f.access_type, f.amount, f.currency, f.description, f.trial_quantity,
                   coalesce(i.is_active, pk.is_active, false) as item_active
            from access.access_fees f
            left join access.items i on i.id = f.item_id
            left join access.packages pk on pk.id = f.package_id
            where f.id = @feeId and f.merchant_id = @merchantId and f.is_active
            """, new { feeId, merchantId });
        if (fee is null || !fee.ItemActive) throw ApiException.Invalid("access_fee_id", "is not one of the price options on sale");
        fee = fee with { Currency = fee.Currency.Trim() };
        if (fee.AccessType != accessType)
            throw ApiException.Invalid("access_fee_id", accessType == "ppv"
                ? "is a subscription price option: subscribe at /subscriptions"
                : "is a pay-per-view price option: buy it at /payments");
        if (request.ItemId is { } item && item != fee.ItemId && !await connection.ExecuteScalarAsync<bool>(
                "select exists (select 1 from access.package_items where package_id = @PackageId and item_id = @item)", new { fee.PackageId, item }))
            throw ApiException.Invalid("item_id", "is not sold by this price option");
        if (isGift)
        {
            if (fee.ItemId is null) throw ApiException.Invalid("is_gift", "gifts are sold on assets, not packages");
            if (receiver is null || !MailAddress.TryCreate(receiver, out _)) throw ApiException.Invalid("receiver_email", "must be an email address");
        }

        // What the voucher does decides whether a card is needed at all. A code is a guess that counts first.
        if (voucherCode is not null) await guesses.Admit(connection, http, merchantId, consumerId, voucherCode);
        var voucher = voucherCode is null ? null : await RedeemVoucher.Check(connection, null, merchantId, consumerId, voucherCode, fee.Id, now);
        if (voucher is { IsFree: true })
        {
            if (isGift) throw ApiException.RequestFailed("This voucher gives access to you: it cannot pay for a gift");
            return await RedeemFree(connection, merchantId, consumerId, voucherCode!, fee, now);
        }

        var card = ReadCard(request, now);
        var trial = accessType == "subscription" && fee.TrialQuantity is not null;
        var discount = voucher?.Discount ?? 0;
        var charged = trial ? 0m : voucher?.DiscountedAmount ?? fee.Amount;
        var gateway = await gateways.For(connection, merchantId);
        var gatewayName = gateway.Name;
        var reference = Guid.NewGuid();
        long paymentId;
        long? subscriptionId = null;

        await using (var transaction = await connection.BeginTransactionAsync())
        {
            var use = voucherCode is null ? null : await RedeemVoucher.Take(connection, transaction, merchantId, consumerId, voucherCode, fee.Id, now);
            try
            {
                if (accessType == "subscription")
                    subscriptionId = await connection.ExecuteScalarAsync<long>(
                        """
                        insert into payments.subscriptions (merchant_id, consumer_id, access_fee_id, item_id, package_id, cancel_token, status,
                            description, amount, currency, period_quantity, period, gateway, card_last4, voucher_id, voucher_code, discount,
                            rebill_discount, discount_period, discount_duration, created_at, updated_at)
                        select @merchantId, @consumerId, f.id, f.item_id, f.package_id, @cancelToken, 'pending', f.description, f.amount, f.currency,
                               f.period_quantity, f.period, @gatewayName, @last4, @voucherId, @code, @discount, coalesce(@rebillDiscount, 0),
                               @discountPeriod, @discountDuration, @now, @now
                        from access.access_fees f where f.id = @feeId
                        returning id
                        """, new { merchantId, consumerId, cancelToken = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)), gatewayName,
                                   last4 = card.Last4, voucherId = use?.Voucher.VoucherId, code = use?.Voucher.Code, discount,
                                   rebillDiscount = use?.Voucher.RebillDiscount, discountPeriod = use?.Voucher.DiscountPeriod,
                                   discountDuration = use?.Voucher.DiscountDuration, now, feeId = fee.Id }, transaction);
                paymentId = await connection.ExecuteScalarAsync<long>(
                    """
                    insert into payments.payments (merchant_id, consumer_id, access_fee_id, item_id, package_id, subscription_id, action_type, status,
                        reference, amount, charged_amount, currency, gateway, payment_method, card_last4, voucher_id, voucher_code, voucher_discount,
                        redemption_id, gift_receiver_email, is_trial, cycle, attempt, created_at)
                    values (@merchantId, @consumerId, @Id, @ItemId, @PackageId, @subscriptionId, @action, 'pending', @reference, @Amount, @charged,
                        @Currency, @gatewayName, 'card', @last4, @voucherId, @code, @voucherDiscount, @redemptionId, @receiver, @trial,
                        @cycle, @attempt, @now)
                    returning id
                    """, new { merchantId, consumerId, fee.Id, fee.ItemId, fee.PackageId, subscriptionId,
                               action = isGift ? "gift" : accessType == "ppv" ? "purchase" : "subscribe", reference, fee.Amount, charged,
                               fee.Currency, gatewayName, last4 = card.Last4, voucherId = use?.Voucher.VoucherId, code = use?.Voucher.Code,
                               voucherDiscount = use?.Voucher.Discount, redemptionId = use?.RedemptionId, receiver, trial,
                               cycle = subscriptionId is null ? (int?)null : 0, attempt = subscriptionId is null ? (int?)null : 1, now }, transaction);
                if (subscriptionId is not null)
                    await connection.ExecuteAsync("update payments.subscriptions set pending_payment_id = @paymentId where id = @subscriptionId",
                        new { paymentId, subscriptionId }, transaction);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
            {
                throw ApiException.Conflict(e.ConstraintName == "subscriptions_one_live"
                    ? "You already have a subscription to this price option"
                    : "A payment for this price option is already in progress");
            }
            await transaction.CommitAsync();
        }
        await connection.CloseAsync();

        var result = await Charge(gateway, new ChargeRequest(merchantId, reference, charged, fee.Currency, fee.Description, card, null),
            GatewayTimeout(configuration));
        var settled = await PaymentOutcome.Settle(db, merchantId, paymentId, result, clock.GetUtcNow());
        if (settled.Status != "succeeded")
            throw ApiException.RequestFailed(settled.FailureReason ?? "The payment failed");
        var message = settled.ActionType switch
        {
            "gift" => $"Gift voucher {settled.Gift!.Code} sent to {settled.Gift.ReceiverEmail}",
            "subscribe" when trial => "Subscribed: your trial has started",
            "subscribe" => "Subscribed",
            _ => "Payment succeeded",
        };
        return Results.Ok(new Receipt(200, message, settled.Status, settled.Id, settled.TransactionToken, settled.Amount, settled.ChargedAmount,
            settled.CurrencyIso, settled.VoucherCode, settled.VoucherDiscount, settled.ItemAccessId, subscriptionId, settled.Gift));
    }

    /// <summary>
    /// Calls the gateway under the timeout. When the call fails or times out the gateway is asked whether the charge
    /// happened after all (the reference makes that answer exact); if it did not, the payment fails and nothing was taken.
    /// </summary>
    internal static async Task<ChargeResult> Charge(IPaymentGateway gateway, ChargeRequest request, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            return await gateway.Charge(request, deadline.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or HttpRequestException or TimeoutException)
        {
            using var check = new CancellationTokenSource(timeout);
            var found = await gateway.Find(request.MerchantId, request.Reference, check.Token);
            return found ?? ChargeResult.Declined("The payment gateway did not answer in time: you were not charged", request.Card?.Last4);
        }
    }

    internal static TimeSpan GatewayTimeout(IConfiguration configuration) =>
        TimeSpan.FromSeconds(configuration.GetValue("Payments:GatewayTimeoutSeconds", 15.0));

    /// <summary>An access voucher or a 100 % voucher: the pass without a card, and a payment row of 0 so reports show the voucher.</summary>
    private static async Task<IResult> RedeemFree(NpgsqlConnection connection, long merchantId, long consumerId, string code, Fee fee,
        DateTimeOffset now)
    {
        await using var transaction = await connection.BeginTransactionAsync();
        var redeemed = await RedeemVoucher.Redeem(connection, transaction, merchantId, consumerId, code, fee.Id, $"consumer:{consumerId}", now);
        var paymentId = await connection.ExecuteScalarAsync<long>(
            """
            insert into payments.payments (merchant_id, consumer_id, access_fee_id, item_id, package_id, action_type, status, reference, amount,
                charged_amount, currency, gateway, payment_method, voucher_id, voucher_code, voucher_discount, redemption_id, pass_id,
                created_at, completed_at)
            values (@merchantId, @consumerId, @Id, @ItemId, @PackageId, 'voucher', 'succeeded', @reference, @Amount, 0, @Currency, 'none',
                'voucher', @VoucherId, @Code, @discount, @RedemptionId, @passId, @now, @now)
            returning id
            """, new { merchantId, consumerId, fee.Id, fee.ItemId, fee.PackageId, reference = Guid.NewGuid(), fee.Amount, fee.Currency,
                       redeemed.VoucherId, redeemed.Code, discount = redeemed.VoucherType == "access" ? 100 : redeemed.Discount,
                       redeemed.RedemptionId, passId = redeemed.Pass.ItemAccessId, now }, transaction);
        await transaction.CommitAsync();
        return Results.Ok(new Receipt(200, $"Access granted with voucher {redeemed.Code}: no payment needed", "succeeded", paymentId, null,
            fee.Amount, 0m, fee.Currency, redeemed.Code, redeemed.VoucherType == "access" ? 100 : redeemed.Discount, redeemed.Pass.ItemAccessId,
            null, null));
    }

    /// <summary>The card fields, checked: a Luhn-valid number, a name, an expiry not in the past, a 3 or 4 digit CVV.</summary>
    private static Card ReadCard(Request request, DateTimeOffset now)
    {
        var errors = new FieldErrors();
        var number = new string((request.Number ?? "").Where(c => c is not (' ' or '-')).ToArray());
        if (number.Length == 0) errors.Add("number", "is required");
        else if (number.Length is < 12 or > 19 || !number.All(char.IsAsciiDigit) || !Luhn(number)) errors.Add("number", "is not a valid card number");
        if (string.IsNullOrWhiteSpace(request.CardName)) errors.Add("card_name", "is required");
        else if (request.CardName.Length > 200) errors.Add("card_name", "must be at most 200 characters");
        var year = request.ExpYear is < 100 and >= 0 ? 2000 + request.ExpYear : request.ExpYear;
        if (request.ExpMonth is not (>= 1 and <= 12)) errors.Add("exp_month", "must be a month from 1 to 12");
        if (year is null) errors.Add("exp_year", "is required");
        else if (year is < 2000 or > 2200) errors.Add("exp_year", "is not a valid year");
        else if (request.ExpMonth is >= 1 and <= 12 && new DateTime(year.Value, request.ExpMonth.Value, 1).AddMonths(1) <= now.UtcDateTime)
            errors.Add("exp_year", "the card has expired");
        if (request.Cvv is not { Length: 3 or 4 } cvv || !cvv.All(char.IsAsciiDigit)) errors.Add("cvv", "must be 3 or 4 digits");
        errors.ThrowIfAny();
        return new Card(number, request.CardName!.Trim(), request.ExpMonth!.Value, year!.Value, request.Cvv!);
    }

    private static bool Luhn(string digits)
    {
        var sum = 0;
        for (var i = 0; i < digits.Length; i++)
        {
            var d = digits[digits.Length - 1 - i] - '0';
            if (i % 2 == 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
            sum += d;
        }
        return sum % 10 == 0;
    }
}
