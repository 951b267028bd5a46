using System.Diagnostics;
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
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task The_js_sdk_signs_up_signs_in_reads_updates_refreshes_and_signs_out()
    {
        var sdkDirectory = Path.Combine(RepositoryRoot(), "tests", "sdk");
        Assert.True(Directory.Exists(Path.Combine(sdkDirectory, "node_modules", "@inplayer-org", "inplayer.js")),
            $"The InPlayer JS SDK is not installed: run `npm ci` in {sdkDirectory} first.");
        var merchant = await Given.Merchant(server.Db);

        var (exitCode, stdout, stderr) = await RunNode(sdkDirectory, "accounts.mjs", server.BaseUrl, merchant.Uuid.ToString());

        output.WriteLine(stdout);
        output.WriteLine(stderr);
        Assert.True(exitCode == 0,
            $"node tests/sdk/accounts.mjs exited with {exitCode}.\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}");
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunNode(string workingDirectory, params string[] arguments)
    {
        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);

        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Assert.Fail($"Could not start `node` (Node.js 20 or later must be on PATH): {e.Message}");
        }
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(Timeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            Assert.Fail($"node {string.Join(' ', arguments)} did not finish within {Timeout.TotalSeconds:0} s.\n" +
                        $"--- stdout ---\n{await stdout}\n--- stderr ---\n{await stderr}");
        }
        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>The directory holding App.sln, found by walking up from the test binaries.</summary>
    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            if (File.Exists(Path.Combine(directory.FullName, "App.sln")))
                return directory.FullName;
        throw new InvalidOperationException($"No App.sln above {AppContext.BaseDirectory}");
    }
}
