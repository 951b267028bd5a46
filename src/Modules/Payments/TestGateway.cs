using System.Security.Cryptography;
using Dapper;
using Npgsql;

namespace Gatehouse.Payments;

/// <summary>
/// The built-in test gateway: real charges on one machine, decided by the card number (the numbers Stripe's test mode
/// uses). It keeps its own books in the database, so a charge retried with the same reference is answered from them.
/// <list type="table">
/// <item><term>4242 4242 4242 4242</term><description>every charge succeeds</description></item>
/// <item><term>4000 0000 0000 0002</term><description>declined: "Your card was declined"</description></item>
/// <item><term>4000 0000 0000 9995</term><description>declined: "Insufficient funds"</description></item>
/// <item><term>4000 0000 0000 0341</term><description>the first charge succeeds, every later charge (rebills) is declined</description></item>
/// <item><term>4000 0000 0000 0119</term><description>the gateway never answers: the charge times out and nothing is charged</description></item>
/// </list>
/// Any other number is declined with a message that lists these.
/// </summary>
public sealed class TestGateway(NpgsqlDataSource db, TimeProvider clock) : IPaymentGateway
{
    public const string GatewayName = "test";

    public static readonly IReadOnlyDictionary<string, string> Cards = new Dictionary<string, string>
    {
        ["4242424242424242"] = "succeeds",
        ["4000000000000002"] = "declined",
        ["4000000000009995"] = "insufficient-funds",
        ["4000000000000341"] = "declines-after-first",
        ["4000000000000119"] = "times-out",
    };

    public string Name => GatewayName;

    public async Task<ChargeResult> Charge(ChargeRequest request, CancellationToken cancellation)
    {
        await using var connection = await db.OpenConnectionAsync(cancellation);
        var earlier = await Lookup(connection, request.MerchantId, request.Reference);
        if (earlier is not null) return earlier;

        string token, last4, behaviour;
        if (request.PaymentToken is { } saved)
        {
            (last4, behaviour) = await connection.QuerySingleOrDefaultAsync<(string, string)>(
                "select last4, behaviour from payments.test_gateway_cards where token = @saved and merchant_id = @MerchantId",
                new { saved, request.MerchantId });
            if (behaviour is null) return ChargeResult.Declined("The saved card is unknown to the gateway");
            token = saved;
        }
        else
        {
            var card = request.Card ?? throw new ArgumentException("A card or a payment token is required", nameof(request));
            last4 = card.Last4;
            behaviour = Cards.GetValueOrDefault(card.Number, "unknown");
            token = "tok_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
            await connection.ExecuteAsync(
                "insert into payments.test_gateway_cards (token, merchant_id, last4, behaviour, created_at) values (@token, @MerchantId, @last4, @behaviour, @now)",
                new { token, request.MerchantId, last4, behaviour, now = clock.GetUtcNow() });
        }

        // A gateway that never answers: the caller's timeout fires, and nothing was charged.
        if (behaviour == "times-out") await Task.Delay(Timeout.Infinite, cancellation);

        var decline = behaviour switch
        {
            "succeeds" => null,
            "declines-after-first" when request.PaymentToken is null => null,
            "declines-after-first" => "Your card was declined",
            "declined" => "Your card was declined",
            "insufficient-funds" => "Insufficient funds",
            _ => "The test gateway accepts only its test cards: 4242 4242 4242 4242 succeeds; 4000 0000 0000 0002 is declined",
        };
        var transactionToken = "T-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(10));
        // The reference is the primary key: if two instances charge one reference at once, one insert wins and both read it.
        await connection.ExecuteAsync(
            """
            insert into payments.test_gateway_charges (reference, merchant_id, card_token, amount, currency, succeeded, decline_reason, transaction_token, created_at)
            values (@Reference, @MerchantId, @token, @Amount, @Currency, @succeeded, @decline, @transactionToken, @now)
            on conflict (reference) do nothing
            """, new { request.Reference, request.MerchantId, token, request.Amount, request.Currency, succeeded = decline is null, decline,
                       transactionToken, now = clock.GetUtcNow() });
        return (await Lookup(connection, request.MerchantId, request.Reference))!;
    }

    public async Task<ChargeResult?> Find(long merchantId, Guid reference, CancellationToken cancellation)
    {
        await using var connection = await db.OpenConnectionAsync(cancellation);
        return await Lookup(connection, merchantId, reference);
    }

    private sealed record ChargeRow(bool Succeeded, string? DeclineReason, string TransactionToken, string CardToken, string Last4);

    private static async Task<ChargeResult?> Lookup(NpgsqlConnection connection, long merchantId, Guid reference)
    {
        var row = await connection.QuerySingleOrDefaultAsync<ChargeRow>(
            """
            select c.succeeded, c.decline_reason, c.transaction_token, c.card_token, k.last4
            from payments.test_gateway_charges c join payments.test_gateway_cards k on k.token = c.card_token
            where c.reference = @reference and c.merchant_id = @merchantId
            """, new { reference, merchantId });
        return row is not { } r ? null
            : r.Succeeded ? new ChargeResult(true, r.TransactionToken, r.CardToken, null, r.Last4)
            : ChargeResult.Declined(r.DeclineReason!, r.Last4);
    }
}
