using Dapper;
using Gatehouse.Kernel;
using Npgsql;

namespace Gatehouse.Payments;

/// <summary>A card as the viewer typed it. Only its last four digits are ever stored.</summary>
public sealed record Card(string Number, string Name, int ExpMonth, int ExpYear, string Cvv)
{
    public string Last4 => Number[^4..];
}

/// <summary>
/// One charge: <paramref name="Reference"/> is Gatehouse's payment reference, which the gateway deduplicates on, so a
/// retried charge (after a timeout, or by another instance) is answered, never charged twice. The money comes from the
/// card, or from a card the gateway saved earlier (<paramref name="PaymentToken"/>, for rebills).
/// </summary>
public sealed record ChargeRequest(long MerchantId, Guid Reference, decimal Amount, string Currency, string Description,
    Card? Card, string? PaymentToken);

/// <summary>The gateway's answer. A success carries the gateway's transaction token and a token to charge the same card again.</summary>
public sealed record ChargeResult(bool Succeeded, string? TransactionToken, string? PaymentToken, string? DeclineReason, string? Last4)
{
    public static ChargeResult Declined(string reason, string? last4 = null) => new(false, null, null, reason, last4);
}

/// <summary>
/// A payment gateway. The built-in <see cref="TestGateway"/> makes everything run on one machine; production gateways
/// implement the same three calls and are registered as services of this interface.
/// </summary>
public interface IPaymentGateway
{
    /// <summary>The name a merchant's setting picks it by, and the payment rows record.</summary>
    string Name { get; }

    /// <summary>Charges the card. Throws <see cref="OperationCanceledException"/> when <paramref name="cancellation"/> fires (the timeout).</summary>
    Task<ChargeResult> Charge(ChargeRequest request, CancellationToken cancellation);

    /// <summary>The outcome of an earlier charge by its reference, or null when the gateway never charged it.</summary>
    Task<ChargeResult?> Find(long merchantId, Guid reference, CancellationToken cancellation);
}

/// <summary>The registered gateways, and the one each merchant charges through (payments.gateway_settings; none: "test").</summary>
public sealed class PaymentGateways(IEnumerable<IPaymentGateway> gateways, NpgsqlDataSource db)
{
    public const string Default = TestGateway.GatewayName;

    public IReadOnlyList<string> Names { get; } = gateways.Select(g => g.Name).ToList();

    public IPaymentGateway Named(string name) =>
        gateways.FirstOrDefault(g => g.Name == name) ?? throw new InvalidOperationException($"No payment gateway named {name} is registered");

    public async Task<IPaymentGateway> For(long merchantId)
    {
        await using var connection = await db.OpenConnectionAsync();
        return await For(connection, merchantId);
    }

    /// <summary>The same on the caller's connection (checkout has one open already).</summary>
    public async Task<IPaymentGateway> For(NpgsqlConnection connection, long merchantId) =>
        Named(await connection.ExecuteScalarAsync<string?>(
            "select gateway from payments.gateway_settings where merchant_id = @merchantId", new { merchantId }) ?? Default);

    /// <summary>PUT /v2/payments/gateway: picks the merchant's gateway.</summary>
    public async Task Choose(long merchantId, string? name, DateTimeOffset now)
    {
        if (string.IsNullOrWhiteSpace(name) || !Names.Contains(name.Trim()))
            throw ApiException.Invalid("gateway", $"must be one of: {string.Join(", ", Names)}");
        await using var connection = await db.OpenConnectionAsync();
        await connection.ExecuteAsync(
            """
            insert into payments.gateway_settings (merchant_id, gateway, updated_at) values (@merchantId, @name, @now)
            on conflict (merchant_id) do update set gateway = excluded.gateway, updated_at = excluded.updated_at
            """, new { merchantId, name = name.Trim(), now });
    }
}
