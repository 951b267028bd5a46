using Gatehouse.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Gatehouse.Tests.Access;

/// <summary>
/// The asset calls of the official InPlayer JS SDK (tests/sdk, @inplayer-org/inplayer.js 3.13.x) pointed at Gatehouse
/// on a real port: with an asset, its ppv price and a priced package set up through the merchant API, the SDK reads the
/// asset (without content), its access fees, the package and its assets; the signed-in viewer's access check is 402,
/// then 200 with the content after a merchant grant, then 402 after the revoke; a package pass opens the asset too.
/// The flow and its assertions are in tests/sdk/assets.mjs, run here with Node.
/// </summary>
public sealed class InPlayerSdkAssetTests(ServerFixture server, ITestOutputHelper output) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task The_js_sdk_reads_assets_prices_and_packages_and_checks_access_through_grant_and_revoke()
    {
        var merchant = await Given.Merchant(server.Db);

        await NodeScript.RunSdkScript(output, "assets.mjs", server.BaseUrl, merchant.Uuid.ToString(), merchant.Secret);
    }
}
