using Gatehouse.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Gatehouse.Tests.Accounts;

/// <summary>
/// The official InPlayer JS SDK (tests/sdk, @inplayer-org/inplayer.js 3.13.x) pointed at Gatehouse on a real port:
/// sign up, sign in, read and update the account, refresh the token, sign out; the signed-out token is then refused.
/// The flow and its assertions are in tests/sdk/accounts.mjs, run here with Node.
/// </summary>
public sealed class InPlayerSdkTests(ServerFixture server, ITestOutputHelper output) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task The_js_sdk_signs_up_signs_in_reads_updates_refreshes_and_signs_out()
    {
        var merchant = await Given.Merchant(server.Db);

        await NodeScript.RunSdkScript(output, "accounts.mjs", server.BaseUrl, merchant.Uuid.ToString());
    }
}
