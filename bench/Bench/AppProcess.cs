using System.Diagnostics;

namespace Gatehouse.Bench;

/// <summary>The built app as its own process, as production runs it (Release build, Production environment).</summary>
public sealed class AppProcess : IAsyncDisposable
{
    private readonly Process _process;
    public string BaseUrl { get; }

    private AppProcess(Process process, string baseUrl) => (_process, BaseUrl) = (process, baseUrl);

    public static async Task<AppProcess> Start(string root, string connectionString, int port)
    {
        var baseUrl = $"http://127.0.0.1:{port}";
        using (var probe = new HttpClient())
            if (await probe.GetAsync(baseUrl + "/health").ContinueWith(t => t.IsCompletedSuccessfully))
                throw new InvalidOperationException($"Something already answers on {baseUrl}: stop it first (a left-over app?)");
        // In a session of its own, as a service manager would run it: Linux then schedules the app as its own group,
        // not as part of the load generator's (sharing one, the access check's p99 doubled).
        var start = new ProcessStartInfo("setsid", "dotnet bin/Release/net10.0/Gatehouse.App.dll")
        {
            WorkingDirectory = Path.Combine(root, "src", "App"),
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        start.Environment["GATEHOUSE_DB"] = connectionString;
        start.Environment["ASPNETCORE_URLS"] = baseUrl;
        start.Environment["RateLimits__SignInPerMinute"] = "0";
        start.Environment["Webhooks__AllowPrivateTargets"] = "true"; // the webhook bench's receiver listens on loopback
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        var process = Process.Start(start)!;
        // The app logs warnings and errors only (below): they go to its stdout, and are shown, so a failure says why.
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) Console.Error.WriteLine("app: " + e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) Console.Error.WriteLine("app: " + e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var client = new HttpClient();
        for (var i = 0; i < 120; i++)
        {
            try
            {
                if (process.HasExited) throw new InvalidOperationException("The app exited during start-up");
                if ((await client.GetAsync(baseUrl + "/health")).IsSuccessStatusCode) return new AppProcess(process, baseUrl);
            }
            catch (HttpRequestException)
            {
            }
            if (process.HasExited) throw new InvalidOperationException("The app exited during start-up");
            await Task.Delay(500);
        }
        throw new TimeoutException("The app did not answer /health within a minute");
    }

    public long WorkingSetBytes()
    {
        _process.Refresh();
        return _process.WorkingSet64;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
