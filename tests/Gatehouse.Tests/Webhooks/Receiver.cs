using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Tests.Webhooks;

/// <summary>A real HTTP receiver (Kestrel on a loopback port) that records every request and answers as a test tells it to.</summary>
public sealed class Receiver : IAsyncDisposable
{
    public sealed record Request(string Path, IReadOnlyDictionary<string, string[]> Headers, byte[] Body, DateTimeOffset At)
    {
        public string Header(string name) => Headers.TryGetValue(name.ToLowerInvariant(), out var values) ? string.Join(",", values) : "";
        public string Text => System.Text.Encoding.UTF8.GetString(Body);
    }

    private readonly WebApplication _app;
    public ConcurrentQueue<Request> Requests { get; } = new();
    public string Url { get; }

    /// <summary>Decides each answer from the request's number (1-based); 200 unless set.</summary>
    public Func<int, int> Answer { get; set; } = _ => 200;
    private int _count;

    private Receiver(WebApplication app, string url)
    {
        _app = app;
        Url = url;
    }

    public static async Task<Receiver> Start()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        Receiver? receiver = null;
        app.MapPost("/{**path}", async (HttpContext context) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            var number = Interlocked.Increment(ref receiver!._count);
            receiver.Requests.Enqueue(new Request(context.Request.Path, context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(),
                h => h.Value.Select(v => v ?? "").ToArray()), body.ToArray(), DateTimeOffset.UtcNow));
            context.Response.StatusCode = receiver.Answer(number);
            await context.Response.WriteAsync(context.Response.StatusCode < 300 ? "ok" : "no thanks");
        });
        await app.StartAsync();
        receiver = new Receiver(app, app.Urls.First());
        return receiver;
    }

    /// <summary>Waits until <paramref name="condition"/> holds on the requests received, or fails after <paramref name="seconds"/>.</summary>
    public async Task<IReadOnlyList<Request>> WaitFor(Func<IReadOnlyList<Request>, bool> condition, int seconds = 20)
    {
        var until = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var seen = Requests.ToList();
            if (condition(seen)) return seen;
            if (DateTime.UtcNow > until) throw new TimeoutException($"The receiver saw {seen.Count} requests, not what the test waited for");
            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
