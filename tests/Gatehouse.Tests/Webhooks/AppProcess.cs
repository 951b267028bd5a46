using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Gatehouse.Tests.Webhooks;

/// <summary>
/// The built Release app as a process of its own (as bench/Bench/AppProcess.cs starts it), on a database the test
/// chooses, with settings as environment variables: what a crash test kills. Disposing it kills it if it still runs.
/// </summary>
public sealed class AppProcess : IAsyncDisposable
{
    private static readonly SemaphoreSlim BuildGate = new(1, 1);
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output;
    public string BaseUrl { get; }
    public int Id => _process.Id;
    public string Output => string.Join('\n', _output);

    private AppProcess(Process process, ConcurrentQueue<string> output, string baseUrl) => (_process, _output, BaseUrl) = (process, output, baseUrl);

    public static async Task<AppProcess> Start(string connectionString, IReadOnlyDictionary<string, string> settings)
    {
        var root = RepositoryRoot();
        var dll = await ReleaseDll(root);
        var port = FreePort();
        var baseUrl = $"http://127.0.0.1:{port}";
        var start = new ProcessStartInfo(DotnetHost())
        {
            WorkingDirectory = Path.Combine(root, "src", "App"),
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        start.Environment["GATEHOUSE_DB"] = connectionString;
        start.Environment["ASPNETCORE_URLS"] = baseUrl;
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["RateLimits__SignInPerMinute"] = "0";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        foreach (var (key, value) in settings) start.Environment[key.Replace(":", "__")] = value;

        var output = new ConcurrentQueue<string>();
        var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var app = new AppProcess(process, output, baseUrl);
        try
        {
            using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            var until = DateTime.UtcNow.AddSeconds(90);
            while (DateTime.UtcNow < until)
            {
                if (process.HasExited) throw new InvalidOperationException($"The app exited during start-up ({process.ExitCode}):\n{app.Output}");
                try
                {
                    if ((await client.GetAsync(baseUrl + "/health")).IsSuccessStatusCode) return app;
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                }
                await Task.Delay(250);
            }
            throw new TimeoutException($"The app did not answer /health within 90 s:\n{app.Output}");
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    /// <summary>Kills it at once (SIGKILL): no shutdown, no last writes.</summary>
    public async Task Kill()
    {
        if (_process.HasExited) return;
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Kill();
        }
        catch (InvalidOperationException)
        {
            // Never started or already reaped.
        }
        _process.Dispose();
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "src", "App", "App.csproj"))) return dir.FullName;
        throw new InvalidOperationException($"No src/App/App.csproj above {AppContext.BaseDirectory}");
    }

    /// <summary>
    /// src/App/bin/Release/net10.0/Gatehouse.App.dll. A Release test run built it along with the tests (the tests' own copy is
    /// identical); otherwise (a Debug run, a missing or stale build) it is built here first.
    /// </summary>
    private static async Task<string> ReleaseDll(string root)
    {
        var dll = Path.Combine(root, "src", "App", "bin", "Release", "net10.0", "Gatehouse.App.dll");
        var ours = Path.Combine(AppContext.BaseDirectory, "Gatehouse.App.dll");
        if (File.Exists(dll) && File.Exists(ours) && Same(await File.ReadAllBytesAsync(dll), await File.ReadAllBytesAsync(ours))) return dll;
        await BuildGate.WaitAsync();
        try
        {
            var build = new ProcessStartInfo(DotnetHost())
            {
                WorkingDirectory = root, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            };
            foreach (var arg in new[] { "build", Path.Combine("src", "App", "App.csproj"), "-c", "Release", "-nologo", "-v", "q" }) build.ArgumentList.Add(arg);
            using var process = Process.Start(build)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            if (process.ExitCode != 0 || !File.Exists(dll))
                throw new InvalidOperationException($"Building the Release app failed ({process.ExitCode}):\n{await stdout}\n{await stderr}");
            return dll;
        }
        finally
        {
            BuildGate.Release();
        }
    }

    private static bool Same(byte[] a, byte[] b) => a.AsSpan().SequenceEqual(b);

    /// <summary>The dotnet host running the tests, else the one on the PATH.</summary>
    private static string DotnetHost() =>
        Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "dotnet" ? path : "dotnet";

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
