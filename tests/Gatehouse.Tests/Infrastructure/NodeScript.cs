using System.ComponentModel;
using System.Diagnostics;
using Xunit.Abstractions;

namespace Gatehouse.Tests.Infrastructure;

/// <summary>
/// Runs a script of tests/sdk (the official InPlayer JS SDK, installed there with <c>npm ci</c>) with Node and fails
/// the test, showing its output, unless it exits with 0. Node.js 20 or later must be on PATH.
/// </summary>
public static class NodeScript
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>tests/sdk in the repository.</summary>
    public static string SdkDirectory { get; } = Path.Combine(RepositoryRoot(), "tests", "sdk");

    /// <summary>
    /// Runs <c>node {script} {arguments}</c> in tests/sdk; its stdout and stderr go to the test output. Answers the
    /// stdout, for tests that check the steps it printed.
    /// </summary>
    public static async Task<string> RunSdkScript(ITestOutputHelper output, string script, params string[] arguments)
    {
        Assert.True(Directory.Exists(Path.Combine(SdkDirectory, "node_modules", "@inplayer-org", "inplayer.js")),
            $"The InPlayer JS SDK is not installed: run `npm ci` in {SdkDirectory} first.");

        var (exitCode, stdout, stderr) = await Run(SdkDirectory, [script, .. arguments]);

        output.WriteLine(stdout);
        output.WriteLine(stderr);
        Assert.True(exitCode == 0,
            $"node tests/sdk/{script} exited with {exitCode}.\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}");
        return stdout;
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> Run(string workingDirectory, string[] arguments)
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
        catch (Win32Exception e)
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
            Assert.Fail($"node {arguments[0]} did not finish within {Timeout.TotalSeconds:0} s.\n" +
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
