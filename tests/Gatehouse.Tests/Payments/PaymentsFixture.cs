using Gatehouse.Tests.Infrastructure;

namespace Gatehouse.Tests.Payments;

/// <summary>The app with a one-second gateway timeout, so the test gateway's "never answers" card fails quickly.</summary>
public sealed class PaymentsFixture : AppFixture
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Payments:GatewayTimeoutSeconds"] = "1" };
}
