using Gatehouse.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Gatehouse.Tests.Vouchers;

/// <summary>
/// The official InPlayer JS SDK's Voucher.getDiscount against Gatehouse on a real port: a 30 % code on a 4.99 price
/// answers 3.49; an unknown code is a 402. The flow is tests/sdk/vouchers.mjs, run here with Node.
/// </summary>
public sealed class InPlayerSdkVoucherTests(ServerFixture server, ITestOutputHelper output) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task The_js_sdk_gets_the_discounted_price_of_a_voucher()
    {
        var merchant = await Given.Merchant(server.Db);
        await NodeScript.RunSdkScript(output, "vouchers.mjs", server.BaseUrl, merchant.Uuid.ToString(), merchant.Secret);
    }
}
